"""Monitoring: drift between reference and live data, live performance, alerts."""

from assay.monitoring.drift import ColumnDrift, DriftReport, compare_frames
from assay.monitoring.stats import holm
from assay.monitoring.steps import TEXT, reference_sample
from assay.monitoring.tabular import tabular_drift
from assay.monitoring.text import domain_classifier, text_drift, text_features
from assay.monitoring.webhook import Delivery, Webhook, deliver_pending

__all__ = [
    "TEXT",
    "ColumnDrift",
    "Delivery",
    "DriftReport",
    "Webhook",
    "compare_frames",
    "deliver_pending",
    "domain_classifier",
    "holm",
    "reference_sample",
    "tabular_drift",
    "text_drift",
    "text_features",
]
