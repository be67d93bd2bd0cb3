"""Logging metrics from inside a step."""

from __future__ import annotations

from collections.abc import Mapping

from assay.core import current_context

__all__ = ["log_metrics"]


def log_metrics(metrics: Mapping[str, float], *, step: int | None = None) -> None:
    """Record numeric metrics for the current run; they are written with the step's records.

    Args:
        metrics: metric name to value; NaN and inf are recorded as they are.
        step: optional index (epoch, iteration) for a metric's history.

    Raises:
        AssayError: called outside a running step, or a value is not a number.
    """
    current_context().log_metrics(metrics, step=step)
