"""Live performance from late labels, compared with the evaluation-time figures."""

from __future__ import annotations

import random

import pytest

import assay
from assay.errors import DataError
from assay.monitoring.check import Window, check_performance
from assay.monitoring.labels import add_labels
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


def test_too_few_labels_is_reported_as_such(served: tuple[Workspace, list[str], list[str]]) -> None:
    ws, ids, truth = served
    add_labels(ws, labelled(ids[:30], truth[:30], flip=1.0))
    checked = check_performance(ws, "pb@1", Window())
    assert checked.window.status == "too few rows" and checked.alert is None


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
