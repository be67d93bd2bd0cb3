"""Tracking: parameters and metrics logged by a running step."""

from assay.tracking.logging import log_metrics

__all__ = ["log_metrics"]
