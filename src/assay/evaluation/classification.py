"""Accuracy, macro-F1, per-class precision and recall, and the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["classification_report", "flat_metrics"]


def classification_report(
    y_true: Sequence[Any], y_pred: Sequence[Any], labels: Sequence[str]
) -> dict[str, Any]:
    """Metrics of a classifier on labelled data, as a JSON-able dict.

    Returns:
        ``accuracy``, ``macro_f1``, ``per_class`` (precision, recall, f1, support per label),
        ``confusion_matrix`` (rows: true label, columns: predicted, in ``labels`` order),
        ``labels`` and ``n``.
    """
    from sklearn import metrics  # noqa: PLC0415

    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=list(labels), zero_division=0
    )
    return {
        "n": len(y_true),
        "labels": list(labels),
        "accuracy": float(metrics.accuracy_score(y_true, y_pred)),
        "macro_f1": float(
            metrics.f1_score(y_true, y_pred, labels=list(labels), average="macro", zero_division=0)
        ),
        "per_class": {
            lab: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, lab in enumerate(labels)
        },
        "confusion_matrix": metrics.confusion_matrix(y_true, y_pred, labels=list(labels)).tolist(),
    }


def flat_metrics(report: dict[str, Any]) -> dict[str, float]:
    """The numbers of a report as flat metric names: ``macro_f1``, ``recall_negative``, ..."""
    flat = {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"]}
    for label, values in report["per_class"].items():
        for name in ("precision", "recall", "f1"):
            flat[f"{name}_{label}"] = values[name]
    return flat
