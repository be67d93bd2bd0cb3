"""Tracking: parameters, metrics, tags and notes logged by a step or an ad hoc run."""

from assay.tracking.client import Client
from assay.tracking.detail import RunDetail, run_detail
from assay.tracking.logging import log_metrics, log_params, set_note, set_tags
from assay.tracking.query import parse_order, parse_where
from assay.tracking.search import RunPage, find_runs, search_runs
from assay.tracking.table import compare_runs, runs_frame
from assay.tracking.values import (
    check_experiment,
    check_params,
    check_tags,
    contradicted,
    same_value,
)

__all__ = [
    "Client",
    "RunDetail",
    "RunPage",
    "compare_runs",
    "find_runs",
    "run_detail",
    "runs_frame",
    "check_experiment",
    "check_params",
    "check_tags",
    "contradicted",
    "log_metrics",
    "log_params",
    "parse_order",
    "parse_where",
    "same_value",
    "search_runs",
    "set_note",
    "set_tags",
]
