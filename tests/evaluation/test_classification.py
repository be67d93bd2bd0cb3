from __future__ import annotations

import pytest

from assay.evaluation import classification_report, flat_metrics


def test_report_holds_overall_per_class_and_confusion() -> None:
    y_true = ["a", "a", "b", "b", "c", "c"]
    y_pred = ["a", "b", "b", "b", "c", "a"]
    report = classification_report(y_true, y_pred, ["a", "b", "c"])
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert report["per_class"]["b"] == {
        "precision": pytest.approx(2 / 3),
        "recall": 1.0,
        "f1": pytest.approx(0.8),
        "support": 2,
    }
    assert report["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert report["macro_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    flat = flat_metrics(report)
    assert flat["recall_b"] == 1.0 and flat["macro_f1"] == report["macro_f1"]
    assert len(flat) == 2 + 3 * 3


def test_a_class_never_predicted_scores_zero_without_warnings() -> None:
    report = classification_report(["a", "b"], ["a", "a"], ["a", "b"])
    assert report["per_class"]["b"]["precision"] == 0.0
