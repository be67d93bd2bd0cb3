"""Executions recorded through the team server: as the caller (whatever the records say),
only with the bytes of their artifacts there, only into the caller's own runs, and a run
sent with its first executions is ended cleanly when they are refused."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from assay.core import sha256_hex
from assay.errors import DataError, PermissionDenied, RecordNotFoundError
from assay.metadata import ArtifactRecord, EventRecord, Registration, RunRecord, shallow_dict
from assay.remote import Connection, HttpRuns, HttpSteps
from tests.metadata.repositories import new_run
from tests.metadata.test_step_repository import execution
from tests.server.api.conftest import Team


@pytest.fixture
def carol(team: Team) -> Iterator[HttpSteps]:
    """carol's steps repository; her runs wait a minute before they are announced."""
    connection = Connection(team.url, team.tokens["carol"])
    yield HttpSteps(HttpRuns(connection, announce_after_s=60))
    connection.close()


def _artifact(team: Team, data: bytes, producer: str) -> ArtifactRecord:
    digest = team.ws.artifacts.put_bytes(data)
    return ArtifactRecord(digest, "value", "json", len(data), "dict", time.time(), producer)


def _started(steps: HttpSteps) -> RunRecord:
    run = new_run("carol")
    steps.runs.insert_run(run)  # waits: it goes with the first executions
    return run


def test_a_run_starts_with_its_first_executions_in_one_request(
    team: Team, carol: HttpSteps
) -> None:
    run = _started(carol)
    ex = execution(run, "train", uuid.uuid4().hex * 2)
    model = _artifact(team, b'{"w": 1}', ex.id)
    asked = Registration("toy", model.digest, "json", run.id, ex.id, "mallory", {})
    carol.record_execution(ex, [model], registrations=[asked])
    assert team.ws.metadata.get_run(run.id).user == "carol"
    (version,) = team.ws.metadata.versions_of_digests([model.digest])
    assert version.created_by == "carol"  # not whom the record named


def test_an_artifact_whose_bytes_the_server_lacks_is_refused_before_anything(
    team: Team, carol: HttpSteps
) -> None:
    run = _started(carol)
    ex = execution(run, "train", uuid.uuid4().hex * 2)
    ghost = ArtifactRecord(sha256_hex(b"never sent"), "value", "json", 10, "dict", 0.0, ex.id)
    with pytest.raises(DataError, match="holds no bytes of artifact"):
        carol.record_execution(ex, [ghost])
    with pytest.raises(RecordNotFoundError):
        team.ws.metadata.get_run(run.id)  # not started either
    carol.runs.finish_run(run.id, "failed", error="gave up")
    assert team.ws.metadata.get_run(run.id).status == "failed"


def test_a_refused_batch_that_started_its_run_lets_the_run_end(
    team: Team, carol: HttpSteps
) -> None:
    run = _started(carol)
    ex = execution(run, "evaluate", uuid.uuid4().hex * 2)
    unknown = sha256_hex(b"not recorded")
    event = EventRecord(ex.id, unknown, "input", "model", "json", "value", "dict")
    with pytest.raises(RecordNotFoundError, match=unknown[:12]):
        carol.record_execution(ex, events=[event])
    assert team.ws.metadata.get_run(run.id).status == "running"
    carol.runs.finish_run(run.id, "failed", error="the step's record was refused")
    assert team.ws.metadata.get_run(run.id).status == "failed"


def test_nobody_adds_executions_to_anothers_run(team: Team, carol: HttpSteps) -> None:
    theirs = new_run("ann")
    team.ws.metadata.insert_run(theirs)
    ex = execution(theirs, "train", uuid.uuid4().hex * 2)
    with pytest.raises(PermissionDenied, match="ann's"):
        carol.record_execution(ex)
    assert team.ws.metadata.executions(theirs.id) == []


def test_a_body_naming_another_run_is_refused(team: Team) -> None:
    run = new_run("carol")
    team.ws.metadata.insert_run(run)
    other = new_run("carol")
    ex = execution(other, "train", uuid.uuid4().hex * 2)
    body = {"executions": [{"execution": {**shallow_dict(ex), "params": {}}}]}
    with team.client("carol") as client:
        answer = client.post(f"/runs/{run.id}/executions", json=body)
    assert answer.status_code == 400
    assert "must belong to run" in answer.json()["error"]
