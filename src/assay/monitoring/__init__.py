"""Monitoring: drift between reference and live data, live performance, alerts."""

from assay.monitoring.drift import ColumnDrift, DriftReport, compare_frames
from assay.monitoring.stats import holm
from assay.monitoring.steps import TEXT, reference_sample
from assay.monitoring.text import domain_classifier, text_drift, text_features

__all__ = [
    "TEXT",
    "ColumnDrift",
    "DriftReport",
    "compare_frames",
    "domain_classifier",
    "holm",
    "reference_sample",
    "text_drift",
    "text_features",
]
