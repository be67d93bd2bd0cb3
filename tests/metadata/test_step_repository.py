"""The steps and model-versions repositories' contract, run over every implementation: the
database (SQLite on disk and in memory, PostgreSQL) and the team server (``HttpSteps`` and
``HttpModels`` against a live server over SQLite and over PostgreSQL)."""

from __future__ import annotations

import math
import time
import uuid

import pytest

from assay.core import sha256_hex
from assay.errors import RecordExistsError, RecordNotFoundError
from assay.metadata import (
    ArtifactRecord,
    EventRecord,
    ExecutionBundle,
    ExecutionRecord,
    GateVerdictRecord,
    MetricRecord,
    Registration,
    RunRecord,
)
from assay.metadata.plan import PlannedStep, cache_key, withheld_key
from tests.metadata.repositories import Subject, new_run, stored, subject

__all__ = ["subject"]  # the fixture


def execution(run: RunRecord, step: str, key: str, **changes: object) -> ExecutionRecord:
    now = time.time()
    fields: dict[str, object] = {
        "id": uuid.uuid4().hex,
        "run_id": run.id,
        "step": step,
        "function": f"steps.{step}",
        "fingerprint": sha256_hex(step.encode()),
        "cache_key": key,
        "status": "succeeded",
        "params": {"C": 4, "tol": math.inf},
        "started_at": now,
        "ended_at": now + 0.5,
        "logged_params": {},
    }
    return ExecutionRecord(**{**fields, **changes})  # type: ignore[arg-type]


def made(
    subject: Subject, run: RunRecord, step: str, value: object, key: str | None = None
) -> tuple[ExecutionBundle, ArtifactRecord]:
    """An execution of ``step`` that made ``value`` (stored first) and logged two values."""
    ex = execution(run, step, key or uuid.uuid4().hex * 2, logged_params={"seed": 7})
    art = stored(subject, value, ex.id)
    event = EventRecord(ex.id, art.digest, "output", "out", art.codec, art.kind, art.type_name)
    metrics = [
        MetricRecord(run.id, "f1", 0.72, time.time(), ex.id, None),
        MetricRecord(run.id, "loss", math.nan, time.time(), ex.id, 3),
    ]
    return (ex, [art], [event], metrics), art


def started(subject: Subject) -> RunRecord:
    run = new_run(subject.user)
    subject.runs.insert_run(run)
    return run


def test_executions_read_back_in_the_order_they_started(subject: Subject) -> None:
    run = started(subject)
    first, _ = made(subject, run, "train", {"w": [1, 2]})
    second, _ = made(subject, run, "evaluate", {"f1": 0.7})
    subject.steps.record_executions([first])
    subject.steps.record_execution(*second)
    found = subject.steps.executions(run.id)
    assert [e.step for e in found] == ["train", "evaluate"]
    assert found[0] == first[0]
    assert math.isinf(found[0].params["tol"])
    assert subject.runs.get_run(run.id).params["seed"] == 7  # logged parameters merge in


def test_the_cache_gives_the_newest_success_with_its_outputs_and_values(
    subject: Subject,
) -> None:
    key = uuid.uuid4().hex * 2
    run = started(subject)
    old, _ = made(subject, run, "train", {"w": 1}, key)
    subject.steps.record_executions([old])
    new, art = made(subject, run, "train", {"w": 2}, key)
    subject.steps.record_executions([new])
    failed = execution(run, "train", key, status="failed", started_at=time.time() + 5)
    subject.steps.record_execution(failed)
    cached = subject.steps.find_cached(key)
    assert cached is not None
    assert cached.execution_id == new[0].id
    assert cached.outputs == {"out": art}
    assert cached.logged_params == {"seed": 7}
    assert [(m.key, m.step) for m in cached.metrics] == [("f1", None), ("loss", 3)]
    assert math.isnan(cached.metrics[1].value)
    assert subject.steps.find_cached(uuid.uuid4().hex * 2) is None


def test_an_execution_id_taken_is_refused_and_nothing_of_its_batch_is_written(
    subject: Subject,
) -> None:
    run = started(subject)
    first, _ = made(subject, run, "train", [1])
    subject.steps.record_executions([first])
    other, _ = made(subject, run, "evaluate", [2])
    with pytest.raises(RecordExistsError, match=first[0].id):
        subject.steps.record_executions([other, first])
    assert [e.step for e in subject.steps.executions(run.id)] == ["train"]


def test_an_execution_of_a_run_that_is_not_there_is_refused(subject: Subject) -> None:
    run = new_run(subject.user)  # never recorded
    bundle, _ = made(subject, run, "train", [3])
    with pytest.raises(RecordNotFoundError, match=run.id[:12]):
        subject.steps.record_executions([bundle])


def test_an_event_naming_an_artifact_never_recorded_is_refused(subject: Subject) -> None:
    run = started(subject)
    ex = execution(run, "evaluate", uuid.uuid4().hex * 2)
    ghost = sha256_hex(b"never stored")
    event = EventRecord(ex.id, ghost, "input", "model", "json", "value", "dict")
    with pytest.raises(RecordNotFoundError, match=ghost[:12]):
        subject.steps.record_execution(ex, events=[event])
    assert subject.steps.executions(run.id) == []


def test_a_registration_and_its_verdict_are_recorded_with_the_execution(
    subject: Subject,
) -> None:
    run = started(subject)
    bundle, model = made(subject, run, "train", {"weights": [0.5]})
    ex = bundle[0]
    name = f"m{uuid.uuid4().hex[:8]}"
    asked = Registration(
        name, model.digest, model.codec, run.id, ex.id, subject.user, {"metrics": {"f1": -math.inf}}
    )
    verdict = GateVerdictRecord(
        name,
        1,
        True,
        "0" * 64,
        {"gates": {}},
        [{"gate": "f1", "passed": True}],
        time.time(),
        subject.user,
        run.id,
        ex.id,
    )
    subject.steps.record_executions([bundle], [asked], [verdict])
    (version,) = subject.models.versions_of_digests([model.digest, sha256_hex(b"x")])
    assert (version.name, version.version, version.created_by) == (name, 1, subject.user)
    assert version.info["metrics"]["f1"] == -math.inf
    assert subject.models.model_version(name, None) == version
    assert subject.models.model_version(name, 1) == version
    assert subject.models.model_version(name, 2) is None
    assert subject.models.alias_version(name, "production") is None
    (found,) = subject.models.verdicts(name, 1)
    assert (found.passed, found.results, found.execution_id) == (True, verdict.results, ex.id)
    assert subject.models.verdicts(name, 2) == []


def test_the_cache_plan_follows_the_graph_from_files_through_steps_found(
    subject: Subject,
) -> None:
    run = started(subject)
    data = stored(subject, ["rows"])
    first = PlannedStep("clean", "f" * 64, {"drop": 2}, {"raw": data.digest}, ("out",))
    key_a = cache_key(first.fingerprint, first.params, {"raw": data.digest})
    a, out_a = made(subject, run, "clean", {"rows": 3}, key_a)
    subject.steps.record_executions([a])
    second = PlannedStep("fit", "e" * 64, {"C": 4.0}, {"rows": ("clean", "out")}, ("out",))
    key_b = withheld_key(cache_key(second.fingerprint, second.params, {"rows": out_a.digest}))
    b, _ = made(subject, run, "fit", {"w": 1}, key_b)  # a trial's: registering was off
    subject.steps.record_executions([b])
    third = PlannedStep("score", "d" * 64, {}, {"model": ("never", "out")}, ("out",))
    fourth = PlannedStep("other", "c" * 64, {}, {"rows": ("clean", "nope")}, ())
    fresh = PlannedStep("fresh", "b" * 64, {}, {"rows": ("clean", "out")}, ("out",))
    steps = [first, second, third, fourth, fresh]
    trial = subject.steps.plan_cache(steps, register=False)
    assert {name for name, (_, cached) in trial.items() if cached} == {"clean", "fit"}
    assert set(trial) == {"clean", "fit", "fresh"}  # looked up; the others could not be
    fresh_key = cache_key(fresh.fingerprint, {}, {"rows": out_a.digest})
    assert trial["fresh"] == (fresh_key, None)
    clean, fit = trial["clean"][1], trial["fit"][1]
    assert clean is not None and fit is not None
    assert trial["clean"][0] == key_a and clean.execution_id == a[0].id
    assert fit.execution_id == b[0].id
    assert fit.outputs["out"].digest == b[1][0].digest
    registering = subject.steps.plan_cache(steps, register=True)
    found = {name for name, (_, cached) in registering.items() if cached}
    assert found == {"clean"}  # the withheld one is not reused when registering
    assert registering["fit"][1] is None
