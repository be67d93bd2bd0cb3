"""Evaluation: classification metrics, overall and per class, with the confusion matrix."""

from assay.evaluation.classification import classification_report, flat_metrics

__all__ = ["classification_report", "flat_metrics"]
