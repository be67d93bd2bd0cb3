"""Monitoring: drift between reference and live data, live performance, alerts."""

from assay.monitoring.drift import ColumnDrift, DriftReport, compare_frames
from assay.monitoring.stats import holm

__all__ = ["ColumnDrift", "DriftReport", "compare_frames", "holm"]
