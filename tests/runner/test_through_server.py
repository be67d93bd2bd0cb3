"""Pipelines run here and recorded through the team server: as whoever the token names,
with the team's cache, artifact bytes uploaded once, models registered and gated there;
the client holds only its token (no database, no audit key)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import assay
from assay import Settings, pipeline, step
from assay.errors import PermissionDenied, StepFailedError
from assay.governance import grant, issue_token
from assay.runner import RunResult
from tests.governed import toy, write_project
from tests.server.api.conftest import Team, team

__all__ = ["team"]  # the fixture


def laptop(team: Team, folder: Path, who: str) -> Settings:
    """Settings of a laptop working through the team's server with ``who``'s token; what
    it calls its user is another name, which the server does not believe."""
    here = Settings.for_project(folder, user="mallory")
    return dataclasses.replace(
        here,
        audit_home=str(folder / "state"),
        server_url=team.url,
        server_token=team.tokens[who],
    )


def run_toy(settings: Settings, folder: Path, **params: object) -> RunResult:
    policy, card = write_project(folder / "files")
    return assay.run(toy, {"policy": policy, "card": card, **params}, settings=settings)


def test_a_run_is_recorded_on_the_server_as_the_token_holder(team: Team, tmp_path: Path) -> None:
    settings = laptop(team, tmp_path / "laptop", "carol")
    result = run_toy(settings, tmp_path, quality=0.9, weight=2.0)
    assert result.status == "succeeded"
    run = team.ws.metadata.get_run(result.run_id)
    assert (run.user, run.status) == ("carol", "succeeded")
    steps = [e.step for e in team.ws.metadata.executions(run.id)]
    assert steps == [e.step for e in result.executions]
    (version,) = [
        v
        for v in team.ws.metadata.versions_of_digests(
            [d for e in result.executions for d in e.outputs.values()]
        )
        if v.run_id == run.id
    ]
    assert (version.name, version.created_by) == ("toy", "carol")
    (verdict,) = team.ws.metadata.verdicts("toy", version.version)
    assert verdict.created_by == "carol" and verdict.run_id == run.id
    for execution in result.executions:  # every output's bytes are on the server, intact
        for digest in execution.outputs.values():
            assert team.ws.artifacts.intact_bytes(digest) is not None
    assert not (tmp_path / "laptop" / ".assay" / "assay.db").exists()
    assert not (tmp_path / "laptop" / "state").exists()  # no audit key, no checkpoint
    actors = {e.actor for e in team.ws.metadata.audit_events() if e.subject.find(run.id) >= 0}
    assert actors == {"carol"}


def test_the_cache_is_the_teams(team: Team, tmp_path: Path) -> None:
    grant(team.ws, "erin", "developer")
    team.tokens["erin"] = issue_token(team.ws, "erin", "developer").token
    first = run_toy(laptop(team, tmp_path / "carol", "carol"), tmp_path, weight=3.0)
    again = run_toy(laptop(team, tmp_path / "erin", "erin"), tmp_path, weight=3.0)
    reused = {e.step: e.cached_from for e in again.executions if e.status == "cached"}
    ran = {e.step: e.cached_from or e.execution_id for e in first.executions}
    assert set(reused) == {s for s in ran if s != "check_gates"}  # gates never cached
    assert all(reused[s] == ran[s] for s in reused)
    assert team.ws.metadata.get_run(again.run_id).user == "erin"


@step
def broken(numbers: list[int]) -> int:
    raise ValueError(f"step broke on {len(numbers)}")


@step
def first_step(n: int = 2) -> list[int]:
    return list(range(n))


@pipeline
def fails() -> None:
    broken(first_step())


def test_a_failing_step_leaves_the_run_failed_on_the_server(team: Team, tmp_path: Path) -> None:
    with pytest.raises(StepFailedError, match="step broke on 2") as raised:
        assay.run(fails, settings=laptop(team, tmp_path / "laptop", "carol"))
    run = team.ws.metadata.get_run(raised.value.run_id or "")
    assert run.status == "failed" and "step broke on 2" in (run.error or "")
    statuses = {e.step: e.status for e in team.ws.metadata.executions(run.id)}
    assert statuses == {"first_step": "succeeded", "broken": "failed"}


def test_a_viewer_cannot_run_pipelines_through_the_server(team: Team, tmp_path: Path) -> None:
    before = len(team.ws.metadata.list_runs())
    with pytest.raises(PermissionDenied, match="dave"):
        run_toy(laptop(team, tmp_path / "laptop", "dave"), tmp_path)
    assert len(team.ws.metadata.list_runs()) == before
