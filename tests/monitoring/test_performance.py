"""Live performance from late labels, compared with the evaluation-time figures."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

import assay
from assay.errors import DataError
from assay.evaluation import classification_report
from assay.monitoring.check import Window, check_performance
from assay.monitoring.labels import add_labels
from assay.monitoring.performance import live_performance
from assay.monitoring.stats import macro_f1, macro_f1_shortfall, rate_shortfall
from assay.registry import load_scorer, resolve
from assay.workspace import Workspace
from tests.monitoring.phrasebank import held_back, held_back_labels, log_traffic, phrasebank


@pytest.fixture
def served(workspace: Workspace) -> tuple[Workspace, list[str], list[str]]:
    """pb@1 (with its evaluation metrics) and 400 held-back sentences logged with its own
    predictions; returns each logged text's request id and ``true label|row``."""
    assay.run(phrasebank, workspace=workspace)
    model, _ = load_scorer(workspace, resolve(workspace, "pb@1"))
    texts, truth = held_back(400), held_back_labels(400)
    records = log_traffic(workspace, texts, predicted=[str(c) for c in model.predict(texts)])
    ids = [r.request_id for r in records for _ in r.inputs]
    rows = [i for r in records for i in range(len(r.inputs))]
    return workspace, ids, [f"{t}|{row}" for t, row in zip(truth, rows, strict=True)]


def labelled(ids: list[str], truth_rows: list[str], flip: float = 0.0) -> list[dict[str, object]]:
    rng = random.Random(5)
    out = []
    for rid, item in zip(ids, truth_rows, strict=True):
        label, row = item.split("|")
        if rng.random() < flip:
            label = {"negative": "positive", "positive": "negative", "neutral": "negative"}[label]
        out.append({"request_id": rid, "row": row, "label": label})
    return out


def test_true_labels_raise_no_alert_and_wrong_ones_do(
    served: tuple[Workspace, list[str], list[str]],
) -> None:
    ws, ids, truth = served
    assert add_labels(ws, labelled(ids, truth)).stored == 400
    fine = check_performance(ws, "pb@1", Window())
    assert fine.window.status == "ok" and fine.alert is None
    assert fine.window.report["labelled_rows"] == 400
    added = add_labels(ws, labelled(ids, truth, flip=0.5))
    assert added.replaced == 400
    dropped = check_performance(ws, "pb@1", Window())
    assert dropped.window.status == "drop" and dropped.alert is not None and dropped.new
    assert "accuracy" in dropped.alert.details["drops"]
    # Each metric's test is recorded, as each drift test is.
    tests = {m["metric"]: m for m in dropped.window.report["metrics"]}
    accuracy = tests["accuracy"]
    assert accuracy["test"] == "binomial" and accuracy["status"] == "drop"
    assert accuracy["rows"] == 400 and accuracy["drop"] > 0.05
    assert accuracy["p_value"] <= accuracy["adjusted_p_value"] < 1e-6
    assert tests["macro_f1"]["test"] == "bootstrap"
    assert dropped.window.report["alpha"] == 0.01
    assert "adjusted p" in dropped.alert.summary


def test_a_chance_sized_drop_raises_no_alert(
    served: tuple[Workspace, list[str], list[str]],
) -> None:
    """A hundred held-back sentences with their true labels: the model did not change, yet
    by chance this sample scores 0.065 below evaluation in accuracy and 0.09 in macro-F1,
    beyond the tolerance. Sampling noise is no drop."""
    ws, ids, truth = served
    add_labels(ws, labelled(ids[220:320], truth[220:320]))
    checked = check_performance(ws, "pb@1", Window())
    assert checked.window.status == "ok" and checked.alert is None
    accuracy = next(m for m in checked.window.report["metrics"] if m["metric"] == "accuracy")
    assert accuracy["drop"] > 0.05 and accuracy["adjusted_p_value"] > 0.1
    assert checked.window.report["drops"] == {}


def test_too_few_labels_is_reported_as_such(served: tuple[Workspace, list[str], list[str]]) -> None:
    ws, ids, truth = served
    add_labels(ws, labelled(ids[:30], truth[:30], flip=1.0))
    checked = check_performance(ws, "pb@1", Window())
    assert checked.window.status == "too few rows" and checked.alert is None
    assert checked.window.report["metrics"] == [] and "drops" not in checked.window.report


def test_labels_for_unknown_requests_are_named_not_stored(
    served: tuple[Workspace, list[str], list[str]],
) -> None:
    ws, ids, _ = served
    added = add_labels(
        ws,
        [
            {"request_id": ids[0], "label": "neutral"},
            {"request_id": "nobody", "label": "neutral"},
            {"request_id": ids[0], "row": 99, "label": "neutral"},
        ],
    )
    assert added.stored == 1 and added.unknown == ["nobody", f"{ids[0]}#99"]
    with pytest.raises(DataError, match="none of the 1 labels matches a logged request"):
        add_labels(ws, [{"request_id": "ghost", "label": "x"}])
    with pytest.raises(DataError, match="label 1 has no request_id or no label"):
        add_labels(ws, [{"request_id": ids[0]}])
    with pytest.raises(DataError, match="not a whole number"):
        add_labels(ws, [{"request_id": ids[0], "label": "x", "row": "two"}])


# ---- the tests themselves, without a store ------------------------------------------------

LABELS = ["negative", "neutral", "positive"]


def evaluated(accuracy: float, f1: float, recalls: list[float]) -> dict[str, Any]:
    """A classification report at evaluation with just the figures the checks compare."""
    per_class = {
        c: {"precision": 0.0, "recall": r, "f1": 0.0, "support": 100}
        for c, r in zip(LABELS, recalls, strict=True)
    }
    return {"labels": LABELS, "accuracy": accuracy, "macro_f1": f1, "per_class": per_class}


def test_a_window_below_min_rows_never_alarms_however_wrong() -> None:
    baseline = evaluated(0.9, 0.9, [0.9, 0.9, 0.9])
    wrong = live_performance(baseline, ["negative"] * 99, ["positive"] * 99, min_rows=100)
    assert wrong.status == "too few rows" and wrong.metrics == [] and wrong.live is None
    assert live_performance(baseline, [], [], min_rows=0).status == "too few rows"
    # One row more and the same collapse is tested, and found.
    found = live_performance(baseline, ["negative"] * 100, ["positive"] * 100, min_rows=100)
    assert found.status == "drop" and "accuracy" in found.dropped


def test_a_rare_class_is_reported_untested_with_the_reason() -> None:
    truth = ["neutral"] * 90 + ["negative"] * 5 + ["positive"] * 25
    found = live_performance(evaluated(0.8, 0.8, [0.8, 0.8, 0.8]), truth, truth)
    by_metric = {m.metric: m for m in found.metrics}
    negative = by_metric["recall_negative"]
    assert negative.status == "too few rows" and negative.rows == 5
    assert negative.p_value is None and negative.adjusted_p_value is None
    assert negative.details["reason"] == "5 labelled rows of negative, fewer than 20"
    assert by_metric["macro_f1"].p_value is None
    assert "negative 5" in by_metric["macro_f1"].details["reason"]
    assert by_metric["recall_neutral"].test == "binomial"
    assert found.to_dict()["compared"] == ["accuracy", "recall_neutral", "recall_positive"]


def test_rate_shortfall_is_the_exact_one_sided_binomial_test() -> None:
    from scipy.stats import binomtest

    for hits, rows, level in [(61, 100, 0.7), (140, 150, 0.9), (3, 40, 0.2)]:
        expected = binomtest(hits, rows, level, alternative="less").pvalue
        assert rate_shortfall(hits, rows, level) == pytest.approx(expected, rel=1e-9)
    assert rate_shortfall(0, 50, -0.01) == 1.0  # a level below 0 cannot be missed


def test_macro_f1_agrees_with_scikit_learn_labels_outside_included() -> None:
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(4)
    names = [*LABELS, "other"]
    truth = [names[i] for i in rng.integers(0, 4, 300)]
    predicted = [names[i] for i in rng.integers(0, 4, 300)]
    table = np.zeros((4, 4), dtype=np.int64)
    for t, p in zip(truth, predicted, strict=True):
        table[names.index(t), names.index(p)] += 1
    ours = macro_f1(table.sum(axis=1)[:3], table.sum(axis=0)[:3], np.diag(table)[:3])
    theirs = f1_score(truth, predicted, labels=LABELS, average="macro", zero_division=0)
    assert float(ours) == pytest.approx(theirs)
    assert classification_report(truth, predicted, LABELS)["macro_f1"] == pytest.approx(theirs)
    # Far above the level: no evidence of a shortfall; far below: strong evidence.
    diagonal = np.diag([40, 40, 40, 0])
    assert macro_f1_shortfall(diagonal, 3, 0.5) > 0.5
    assert macro_f1_shortfall(np.full((4, 4), 10), 3, 0.9) < 1e-3


def test_false_alarms_stay_at_alpha_across_the_metrics() -> None:
    """Every metric sits exactly at evaluation minus tolerance (the worst case of "no
    drop"): over 200 windows, the share that alarm on any metric is at most about alpha."""
    rng = np.random.default_rng(12)
    prior = np.array([0.2, 0.5, 0.3])
    given = np.array([[0.7, 0.2, 0.1], [0.05, 0.85, 0.1], [0.05, 0.25, 0.7]])  # P(pred | true)
    joint = prior[:, None] * given
    tolerance, alpha, windows = 0.05, 0.05, 200
    population_f1 = float(macro_f1(joint.sum(axis=1), joint.sum(axis=0), np.diag(joint)))
    baseline = evaluated(
        float(np.trace(joint)) + tolerance,
        population_f1 + tolerance,
        [float(r) + tolerance for r in np.diag(given)],
    )
    alarms = 0
    for _ in range(windows):
        truth = rng.choice(3, size=200, p=prior)
        predicted = (rng.random(200)[:, None] > given[truth].cumsum(axis=1)).sum(axis=1)
        found = live_performance(
            baseline,
            [LABELS[i] for i in truth],
            [LABELS[min(i, 2)] for i in predicted],
            alpha=alpha,
            tolerance=tolerance,
            resamples=999,
        )
        assert all(m.tested for m in found.metrics)
        alarms += bool(found.dropped)
    # Binomial noise on 200 windows: two standard errors above alpha.
    assert alarms / windows <= alpha + 2 * (alpha * (1 - alpha) / windows) ** 0.5
