"""Checked windows, late labels and deduplicated, audited alerts, over every database."""

from __future__ import annotations

import json
import time

import pytest

from assay.errors import RecordNotFoundError
from assay.metadata import AlertDraft, LabelRecord, MetadataStore, RetrainRecord, WindowRecord


def window(status: str = "drift", end: float = 100.0) -> WindowRecord:
    return WindowRecord("m", 1, "drift", end - 60, end, 500, status, {"drifted": ["texts"]})


def draft(fingerprint: str = "f" * 64) -> AlertDraft:
    return AlertDraft("m", 1, "drift", fingerprint, "drift in texts", {"columns": ["texts"]})


def test_a_window_is_stored_and_read_back_in_order(meta: MetadataStore) -> None:
    later, _, _ = meta.record_window(window("ok", end=200.0))
    first, alert, new = meta.record_window(window("ok", end=100.0))
    assert alert is None and not new and first.id != later.id
    stored = meta.windows("m")
    assert [w.end_at for w in stored] == [100.0, 200.0]
    assert stored[0].report == {"drifted": ["texts"]} and stored[0].created_at > 0
    assert meta.windows("m", version=2) == [] and meta.windows("m", kind="performance") == []


def test_a_repeated_alert_counts_on_the_open_one_and_is_audited_once(
    meta: MetadataStore,
) -> None:
    _, first, new1 = meta.record_window(window(), draft())
    w2, again, new2 = meta.record_window(window(end=200.0), draft())
    assert new1 and not new2 and first is not None and again is not None
    assert again.id == first.id and again.count == 2 and again.window_id == w2.id
    assert again.last_at >= first.first_at and again.status == "open"
    _, other, new3 = meta.record_window(window(end=300.0), draft("e" * 64))
    assert new3 and other is not None and other.id != first.id
    assert [a.id for a in meta.alerts("m")] == [other.id, first.id]
    raised = [e for e in meta.audit_events() if e.action == "alert.raised"]
    assert len(raised) == 2 and raised[0].subject == "model:m@1"


def test_delivery_is_recorded_with_the_last_error(meta: MetadataStore) -> None:
    _, alert, _ = meta.record_window(window(), draft())
    assert alert is not None and alert.delivered_at is None
    meta.mark_delivered(alert.id, error="connection refused")
    assert meta.alerts()[0].delivery_error == "connection refused"
    meta.mark_delivered(alert.id)
    delivered = meta.alerts(status="open")[0]
    assert delivered.delivered_at is not None and delivered.delivery_error is None


def test_labels_arrive_late_and_a_second_label_replaces_the_first(meta: MetadataStore) -> None:
    now = time.time()
    assert meta.add_labels([LabelRecord("r1", 0, "up", now, "alice"),
                            LabelRecord("r1", 1, "down", now, "alice"),
                            LabelRecord("r2", 0, "up", now, "alice")]) == 0  # fmt: skip
    assert meta.add_labels([LabelRecord("r1", 1, "up", now, "bob")]) == 1
    assert meta.labels_for(["r1", "r2", "r3"]) == {
        ("r1", 0): "up",
        ("r1", 1): "up",
        ("r2", 0): "up",
    }


def test_the_same_row_twice_in_one_batch_keeps_the_last_label(meta: MetadataStore) -> None:
    now = time.time()
    batch = [LabelRecord("r1", 0, "up", now, "alice"), LabelRecord("r1", 0, "down", now, "bob")]
    assert meta.add_labels(batch) == 0
    assert meta.labels_for(["r1"]) == {("r1", 0): "down"}


def test_a_window_of_the_log_is_selected_in_the_database(meta: MetadataStore) -> None:
    from assay.metadata import PredictionRecord

    meta.log_predictions(
        [
            PredictionRecord(f"q{i}", "m", 1 + i % 2, 100.0 + i, 1.0, "v1", ["t"], [{}])
            for i in range(10)
        ]
    )
    v1 = meta.predictions("m", version=1)
    assert [p.request_id for p in v1] == ["q0", "q2", "q4", "q6", "q8"]
    window = meta.predictions("m", version=1, since=102.0, until=108.0)
    assert [p.request_id for p in window] == ["q2", "q4", "q6"]
    newest = meta.predictions("m", version=1, newest=2)
    assert [p.request_id for p in newest] == ["q6", "q8"]  # the latest two, oldest first
    assert meta.predictions("m", newest=0) == []


def test_logged_inputs_and_outputs_read_back_as_they_were_answered(meta: MetadataStore) -> None:
    import numpy as np

    from assay.metadata import PredictionRecord

    inputs = ["Profit rose 5 % in Q3 \u2013 été €", {"rooms": 3, "area": None}]
    outputs = [
        {"label": "up", "probabilities": {"down": 0.25, "up": 0.75}},
        # What a client was answered: a NaN goes out (and is kept) as null.
        {"value": float("nan"), "rank": np.int64(2)},
    ]
    meta.log_predictions([PredictionRecord("q", "m", 1, 100.0, 1.5, "v2", inputs, outputs)])
    (logged,) = meta.predictions("m")
    assert logged.inputs == inputs
    assert logged.outputs == [outputs[0], {"value": None, "rank": 2}]


def test_a_closed_alert_is_audited_and_the_same_finding_opens_a_new_one(
    meta: MetadataStore,
) -> None:
    _, first, _ = meta.record_window(window(), draft())
    assert first is not None
    closed = meta.close_alert(first.id, "carol", "retrained and promoted")
    assert closed.status == "closed" and meta.alerts("m", "open") == []
    entry = [e for e in meta.audit_events() if e.action == "alert.closed"][-1]
    assert entry.actor == "carol"
    assert json.loads(entry.body)["payload"]["reason"] == "retrained and promoted"
    _, again, new = meta.record_window(window(end=200.0), draft())
    assert new and again is not None and again.id != first.id and again.count == 1
    with pytest.raises(RecordNotFoundError, match="already closed"):
        meta.close_alert(first.id, "carol", "twice")
    with pytest.raises(RecordNotFoundError, match="no alert 99"):
        meta.close_alert(99, "carol", "none")


def test_retrainings_are_recorded_audited_and_found_by_version(meta: MetadataStore) -> None:
    started = meta.start_retrain(
        RetrainRecord(model="m", cause="alert", detail={"alerts": [1]}, user="monitor")
    )
    assert started.status == "running" and started.id > 0 and started.started_at > 0
    assert meta.retrain_of("m", 2) is None
    done = meta.finish_retrain(
        started.id, status="registered", run_id="r" * 32, version=2,
        outcome={"gates": "passed", "staging": 2},
    )  # fmt: skip
    assert done.status == "registered" and done.finished_at is not None
    assert meta.retrain_of("m", 2) == done and meta.retrains("m") == [done]
    assert meta.retrains("other") == []
    actions = [(e.action, e.subject, e.actor) for e in meta.audit_events()][-2:]
    assert actions == [
        ("retrain.started", "model:m", "monitor"),
        ("retrain.finished", "model:m@2", "monitor"),
    ]


def test_activity_and_labelled_inputs(meta: MetadataStore) -> None:
    from assay.metadata import PredictionRecord

    meta.log_predictions(
        [
            PredictionRecord("a", "m", 1, 10.0, 1.0, "v1", ["x", "y"], [{}, {}]),
            PredictionRecord("b", "m", 1, 20.0, 1.0, "v1", ["z"], [{}]),
            PredictionRecord("c", "n", 1, 30.0, 1.0, "v1", ["w"], [{}]),
        ]
    )
    meta.add_labels(
        [LabelRecord("a", 1, "up", 40.0, "u"), LabelRecord("b", 0, "down", 50.0, "u"),
         LabelRecord("c", 0, "up", 60.0, "u")]
    )  # fmt: skip
    assert meta.activity("m", 1, 0.0) == (2, 2)
    assert meta.activity("m", 1, 15.0) == (1, 2)
    assert meta.activity("m", 1, 45.0) == (0, 1)
    assert meta.activity("m", 2, 0.0) == (0, 0)
    assert meta.labelled_inputs("m") == [("y", "up"), ("z", "down")]
