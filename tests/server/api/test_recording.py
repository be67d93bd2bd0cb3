"""Recording runs through the server: the run is the authenticated user's whatever the
record says, only its owner (or an admin) adds to it, developers start runs; malformed
records are 4xx naming the problem, and a refusal changes nothing."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import socket
import time
import uuid
from pathlib import Path

import pytest

import assay
from assay import Settings
from assay.audit import verify_chain
from assay.errors import ConfigError, PermissionDenied, RecordNotFoundError
from assay.metadata import MetricRecord
from assay.remote import Connection
from assay.remote.runs import HttpRuns
from assay.server.api.app import TeamOptions
from assay.server.api.http import team_serving
from tests.metadata.repositories import new_run
from tests.server.api.conftest import Team


def _runs(team: Team, who: str, announce_after_s: float = 0.0) -> HttpRuns:
    """``who``'s runs through the server; announced at once unless said otherwise, so that
    the server's store can be looked at straight after."""
    connection = Connection(team.url, team.tokens[who])
    return HttpRuns(connection, announce_after_s=announce_after_s)


def test_a_run_is_recorded_as_whoever_authenticated_whatever_it_claims(team: Team) -> None:
    run = new_run("mallory")
    _runs(team, "carol").insert_run(run)
    stored = team.ws.metadata.get_run(run.id)
    assert stored.user == "carol"
    assert stored == dataclasses.replace(run, user="carol")
    events = [e for e in team.ws.metadata.audit_events() if e.subject == f"run:{run.id}"]
    assert [(e.action, e.actor) for e in events] == [("run.started", "carol")]
    sealed = json.loads(events[0].body)
    assert sealed["payload"]["user"] == "carol"
    assert sealed["via"]["kind"] == "token"
    assert verify_chain(team.ws).ok


@pytest.mark.parametrize(("who", "role"), [("dave", "viewer"), ("bob", "developer")])
def test_starting_a_run_takes_the_developer_role(team: Team, who: str, role: str) -> None:
    head = team.ws.metadata.audit_head()
    with pytest.raises(PermissionDenied, match=role):
        _runs(team, who).insert_run(new_run(who))
    assert team.ws.metadata.audit_head() == head


def test_only_the_runs_owner_or_an_admin_adds_to_it(team: Team) -> None:
    run = new_run("carol")
    carol = _runs(team, "carol")
    carol.insert_run(run)
    metric = MetricRecord(run.id, "loss", 0.5, time.time(), None, 0)
    with pytest.raises(PermissionDenied, match="carol's"):
        _runs(team, "bob").log_run_data(run.id, {"stolen": 1}, [metric])
    with pytest.raises(PermissionDenied, match="carol's"):
        _runs(team, "bob").finish_run(run.id, "failed", error="not mine")
    assert team.ws.metadata.get_run(run.id).params == run.params
    assert team.ws.metadata.metrics(run.id) == []
    _runs(team, "ann").annotate_run(run.id, tags={"reviewed": "yes"})
    carol.finish_run(run.id, "succeeded", metrics=[metric])
    done = team.ws.metadata.get_run(run.id)
    assert (done.status, done.tags["reviewed"]) == ("succeeded", "yes")


def test_a_write_names_a_runs_whole_id(team: Team) -> None:
    run = new_run("carol")
    carol = _runs(team, "carol")
    carol.insert_run(run)
    with pytest.raises(RecordNotFoundError):
        carol.annotate_run(uuid.uuid4().hex, tags={"a": "b"})
    answer = team.client("carol").patch(f"/runs/{run.id[:8]}", json={"tags": {"a": "b"}})
    assert answer.status_code == 400, answer.text
    assert team.ws.metadata.get_run(run.id).tags == run.tags


@pytest.mark.parametrize(
    ("path", "body", "status", "named"),
    [
        ("/runs", {"id": "nothex"}, 400, "id"),
        ("/runs/{run}/finish", {"status": "running"}, 400, "status"),
        ("/runs/{run}/finish", {"status": "succeeded", "colour": "red"}, 400, "colour"),
        (
            "/runs/{run}/data",
            {"metrics": [{"key": "m", "value": "abc", "timestamp": 1}]},
            400,
            "value",
        ),
        ("/runs/{run}/data", {"metrics": [{"key": "", "value": 1, "timestamp": 1}]}, 400, "key"),
        (
            "/runs/{run}/data",
            {"metrics": [{"key": "m", "value": 1, "timestamp": 1, "execution_id": "e"}]},
            400,
            "execution_id",
        ),
        ("/runs/{run}/data", {"params": {"x" * 300: 1}}, 400, "characters"),
        ("/runs/{run}/data", {"params": {"nested": {"a": [1]}}}, 400, "nested"),
    ],
)
def test_malformed_records_are_refused_naming_the_problem_and_change_nothing(
    team: Team, path: str, body: dict[str, object], status: int, named: str
) -> None:
    run = new_run("carol")
    _runs(team, "carol").insert_run(run)
    head = team.ws.metadata.audit_head()
    answer = team.client("carol").post(path.format(run=run.id), json=body)
    assert answer.status_code == status, answer.text
    assert named in answer.text
    assert team.ws.metadata.get_run(run.id) == dataclasses.replace(run, user="carol")
    assert team.ws.metadata.metrics(run.id) == []
    assert team.ws.metadata.audit_head() == head


def test_a_run_started_twice_is_a_conflict_not_a_second_run(team: Team) -> None:
    run = new_run("carol")
    carol = _runs(team, "carol")
    carol.insert_run(run)
    answer = team.client("carol").post("/runs", json={**_wire(run), "pipeline": "other"})
    assert answer.status_code == 409, answer.text
    assert team.ws.metadata.get_run(run.id).pipeline == run.pipeline


def test_more_values_than_one_request_takes_are_refused_whole(team: Team) -> None:
    run = new_run("carol")
    _runs(team, "carol").insert_run(run)
    metrics = [{"key": "m", "value": i, "timestamp": 1.0, "step": i} for i in range(10_001)]
    answer = team.client("carol").post(f"/runs/{run.id}/data", json={"metrics": metrics})
    assert answer.status_code == 400, answer.text[:300]
    assert "10000" in answer.text
    assert team.ws.metadata.metrics(run.id) == []


def _wire(run: object) -> dict[str, object]:
    return {f.name: getattr(run, f.name) for f in dataclasses.fields(run)}  # type: ignore[arg-type]


def test_a_notebook_pointed_at_the_server_records_its_run_there_and_nothing_here(
    team: Team, tmp_path: Path
) -> None:
    laptop = Settings.for_project(tmp_path / "laptop", user="mallory").with_server(team.url)
    laptop = dataclasses.replace(laptop, server_token=team.tokens["carol"])
    with assay.start_run("remote", settings=laptop, params={"C": 1.0}, tags={"a": "1"}) as run:
        assay.log_metrics({"loss": 0.5}, step=0)
        assay.log_params({"k": 3})
        assay.set_tags({"b": "2"})
        assay.log_metrics({"loss": 0.25}, step=1)
    stored = team.ws.metadata.get_run(run.run_id)
    assert (stored.user, stored.status, stored.experiment) == ("carol", "succeeded", "remote")
    assert stored.params == {"C": 1.0, "k": 3} and stored.tags == {"a": "1", "b": "2"}
    assert [m.value for m in team.ws.metadata.metrics(run.run_id)] == [0.5, 0.25]
    assert not (tmp_path / "laptop").exists()  # no store, no key on the laptop

    started: list[str] = []

    def fails() -> None:
        with assay.start_run("remote", settings=laptop) as failing:
            started.append(failing.run_id)
            assay.log_metrics({"loss": 1.0})
            _ = 1 / 0

    with pytest.raises(ZeroDivisionError):
        fails()
    failed = team.ws.metadata.get_run(started[0])
    assert failed.status == "failed" and failed.error is not None
    assert failed.traceback is not None and "ZeroDivisionError" in failed.traceback
    assert [m.value for m in team.ws.metadata.metrics(started[0])] == [1.0]


def test_a_run_that_ends_before_it_is_announced_reaches_the_server_whole_in_one_go(
    team: Team,
) -> None:
    run = new_run("carol")
    carol = _runs(team, "carol", announce_after_s=60)
    carol.insert_run(run)
    with pytest.raises(RecordNotFoundError):
        team.ws.metadata.get_run(run.id)  # not announced yet: nothing on the server
    metric = MetricRecord(run.id, "loss", 0.5, time.time(), None, 0)
    carol.finish_run(run.id, "succeeded", params={"k": 1}, metrics=[metric])
    done = team.ws.metadata.get_run(run.id)
    assert (done.user, done.status, done.params) == ("carol", "succeeded", {"lr": 0.1, "k": 1})
    assert [m.value for m in team.ws.metadata.metrics(run.id)] == [0.5]
    sealed = [e.action for e in team.ws.metadata.audit_events() if e.subject == f"run:{run.id}"]
    assert sealed == ["run.started", "run.finished"]


def test_a_longer_run_is_announced_while_it_runs_and_before_anything_said_about_it(
    team: Team,
) -> None:
    timed, asked = new_run("carol"), new_run("carol")
    carol = _runs(team, "carol", announce_after_s=0.2)
    carol.insert_run(timed)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(RecordNotFoundError):
            assert team.ws.metadata.get_run(timed.id).status == "running"
            break
        time.sleep(0.05)
    else:
        pytest.fail("the timer never announced the run")
    slow = _runs(team, "carol", announce_after_s=60)
    slow.insert_run(asked)
    slow.annotate_run(asked.id, tags={"seen": "yes"})  # needs the run there: announced first
    assert team.ws.metadata.get_run(asked.id).tags == {**asked.tags, "seen": "yes"}
    carol.finish_run(timed.id, "succeeded")
    slow.finish_run(asked.id, "failed", error="stopped")
    assert team.ws.metadata.get_run(timed.id).status == "succeeded"
    assert team.ws.metadata.get_run(asked.id).status == "failed"


def test_a_run_the_server_did_not_take_is_kept_for_the_next_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    run = new_run("carol")
    down = HttpRuns(Connection(f"http://127.0.0.1:{_free_port()}", None), announce_after_s=0.1)
    with caplog.at_level(logging.WARNING, logger="assay.remote"):
        down.insert_run(run)
        deadline = time.monotonic() + 30
        while "not on the server yet" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
    # The timer tried on its own thread, failed, and said so (nothing raised there).
    assert f"run {run.id[:12]} is not on the server yet" in caplog.text
    for _ in range(2):  # each try sends the start again: nothing is dropped
        with pytest.raises(ConfigError, match="cannot be reached"):
            down.finish_run(run.id, "succeeded")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_run_nothing_is_heard_of_is_marked_killed_by_the_server(team: Team) -> None:
    with team_serving(team.ws, TeamOptions(auth="token", reap_after_s=0.5)) as (url, _):
        connection = Connection(url, team.tokens["carol"])
        runs = HttpRuns(connection, announce_after_s=0)
        run = new_run("carol")
        runs.insert_run(run)  # then the client dies
        deadline = time.monotonic() + 30
        while team.ws.metadata.get_run(run.id).status == "running":
            assert time.monotonic() < deadline, "never reaped"
            time.sleep(0.2)
        connection.close()
    found = team.ws.metadata.get_run(run.id)
    assert found.status == "killed" and "nothing was heard" in (found.error or "")
