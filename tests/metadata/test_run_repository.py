"""The runs repository's contract, run over every implementation: the database
(``MetadataStore`` on SQLite, on disk and in memory, and PostgreSQL) and the team server
(``assay.remote.HttpRuns`` against a live server on loopback, over SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import math
import uuid

import pytest

from assay.errors import DataError, RecordExistsError, RecordNotFoundError
from assay.metadata.runs import FINISHED, RunEnd
from assay.remote.runs import BATCH
from tests.metadata.repositories import Subject, metric, new_run, subject

__all__ = ["subject"]  # the fixture


def test_a_started_run_reads_back_whole_and_as_a_listing_shows_it(subject: Subject) -> None:
    run = new_run(subject.user)
    subject.runs.insert_run(run)
    assert subject.runs.get_run(run.id) == run
    assert subject.runs.get_run(run.id[:10]) == run
    listed = subject.runs.get_run(run.id, whole=False)
    assert listed == dataclasses.replace(run, packages={})


def test_parameters_and_metric_values_add_up_in_order(subject: Subject) -> None:
    run = new_run(subject.user)
    subject.runs.insert_run(run)
    first = [metric(run, "loss", 1.0 / (s + 1), s) for s in range(3)]
    subject.runs.log_run_data(run.id, {"epochs": 3, "name": "sgd"}, first)
    later = [metric(run, "loss", 0.1, 3), metric(run, "acc", math.nan, None)]
    subject.runs.log_run_data(run.id, {"nan_param": math.nan}, later)
    found = subject.runs.get_run(run.id)
    assert found.params["epochs"] == 3 and found.params["name"] == "sgd"
    assert found.params["lr"] == 0.1 and math.isnan(found.params["nan_param"])
    values = subject.runs.metrics(run.id)
    assert [(m.key, m.step) for m in values] == [(m.key, m.step) for m in first + later]
    assert [m.value for m in values[:4]] == [m.value for m in first + later[:1]]
    assert math.isnan(values[4].value)
    assert [m.timestamp for m in values] == pytest.approx([m.timestamp for m in first + later])


def test_a_parameter_logged_again_with_another_value_is_refused_and_nothing_is_added(
    subject: Subject,
) -> None:
    run = new_run(subject.user)
    subject.runs.insert_run(run)
    with pytest.raises(DataError, match="lr"):
        subject.runs.log_run_data(run.id, {"lr": 0.5}, [metric(run, "loss", 1.0, 0)])
    assert subject.runs.get_run(run.id).params == {"lr": 0.1}
    assert subject.runs.metrics(run.id) == []


def test_tags_merge_and_the_note_is_replaced_only_when_given(subject: Subject) -> None:
    run = new_run(subject.user)
    subject.runs.insert_run(run)
    subject.runs.annotate_run(run.id, tags={"team": "risk", "stage": "dev"})
    subject.runs.annotate_run(run.id, tags={"seed": "7"})
    found = subject.runs.get_run(run.id)
    assert found.tags == {"team": "risk", "stage": "dev", "seed": "7"}
    assert found.note == "first try"
    subject.runs.annotate_run(run.id, note="second try")
    assert subject.runs.get_run(run.id).note == "second try"


@pytest.mark.parametrize("status", FINISHED)
def test_a_finished_run_keeps_how_it_ended_and_its_last_values(
    subject: Subject, status: str
) -> None:
    run = new_run(subject.user)
    subject.runs.insert_run(run)
    subject.runs.finish_run(
        run.id,
        status,
        error=None if status == "succeeded" else "ValueError: boom",
        traceback=None if status == "succeeded" else "Traceback ...\nValueError: boom",
        params={"epochs": 2},
        metrics=[metric(run, "loss", 0.25, 1)],
    )
    found = subject.runs.get_run(run.id)
    assert found.status == status and found.ended_at is not None
    assert found.ended_at >= run.started_at
    assert found.params == {"lr": 0.1, "epochs": 2}
    if status != "succeeded":
        assert (found.error, found.traceback) == (
            "ValueError: boom",
            "Traceback ...\nValueError: boom",
        )
        assert subject.runs.get_run(run.id, whole=False).traceback is None
    assert [(m.key, m.value) for m in subject.runs.metrics(run.id)] == [("loss", 0.25)]


def test_a_batch_larger_than_one_request_arrives_whole(subject: Subject) -> None:
    run = new_run(subject.user)
    subject.runs.insert_run(run)
    many = [metric(run, "loss", float(i), i) for i in range(BATCH + 7)]
    subject.runs.finish_run(run.id, "succeeded", metrics=many)
    assert [m.value for m in subject.runs.metrics(run.id)] == [m.value for m in many]


def test_writing_to_a_run_that_is_not_there_is_refused_naming_it(subject: Subject) -> None:
    missing = uuid.uuid4().hex
    writes = [
        lambda: subject.runs.annotate_run(missing, tags={"a": "b"}),
        lambda: subject.runs.log_run_data(missing, {"a": 1}, []),
        lambda: subject.runs.finish_run(missing, "failed"),
    ]
    for write in writes:
        with pytest.raises(RecordNotFoundError, match=missing[:12]):
            write()
    with pytest.raises(RecordNotFoundError):
        subject.runs.get_run(missing)


@pytest.mark.parametrize("values", [2, BATCH + 3])
def test_a_run_recorded_with_its_end_reads_back_ended(subject: Subject, values: int) -> None:
    run = new_run(subject.user)
    many = [metric(run, "loss", float(i), i) for i in range(values)]
    end = RunEnd("failed", "KeyError: 'x'", "Traceback ...", {"epochs": 1}, many)
    subject.runs.insert_run(run, end)
    found = subject.runs.get_run(run.id)
    assert (found.status, found.error, found.traceback) == ("failed", end.error, end.traceback)
    assert found.params == {"lr": 0.1, "epochs": 1} and found.ended_at is not None
    assert [m.value for m in subject.runs.metrics(run.id)] == [m.value for m in many]
    with pytest.raises(RecordExistsError):
        subject.runs.insert_run(run, RunEnd("succeeded"))


def test_the_latest_value_of_each_metric_is_that_of_the_highest_step(subject: Subject) -> None:
    run = new_run(subject.user)
    subject.runs.insert_run(run)
    values = [
        metric(run, "loss", 0.9, 0),
        metric(run, "loss", 0.2, 2),
        metric(run, "loss", 0.5, 1),
        metric(run, "f1", 0.7, None),
    ]
    subject.runs.log_run_data(run.id, {}, values)
    other = new_run(subject.user)
    subject.runs.insert_run(other)
    latest = subject.runs.latest_metrics([run.id, other.id])
    assert latest == {run.id: {"loss": 0.2, "f1": 0.7}, other.id: {}}
