"""Experiments and comparisons over HTTP: every experiment with its number of runs, paged;
runs side by side as `assay runs compare --json` prints them."""

from __future__ import annotations

import assay
from assay.server.api.plain import plain
from assay.tracking import compare_runs
from tests.server.api.conftest import Team


def _runs(team: Team, experiment: str, count: int) -> list[str]:
    ids = []
    for i in range(count):
        with assay.start_run(experiment, params={"c": i, "same": 1}, workspace=team.ws) as run:
            assay.log_metrics({"score": i / 10})
        ids.append(run.run_id)
    return ids


def test_experiments_are_listed_with_their_runs_and_paged(team: Team) -> None:
    _runs(team, "alpha", 2)
    _runs(team, "beta", 1)
    dave = team.client("dave")
    first = dave.get("/experiments", params={"limit": 2}).json()
    rest = dave.get("/experiments", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert rest["next_cursor"] is None
    listed = first["experiments"] + rest["experiments"]
    assert [(e["name"], e["runs"], e["last_started_at"]) for e in listed] == [
        tuple(e) for e in team.ws.metadata.experiments()
    ]
    assert {"alpha": 2, "beta": 1}.items() <= {e["name"]: e["runs"] for e in listed}.items()
    assert first["total"] == len(listed)
    moved = dave.get("/experiments", params={"limit": 1, "cursor": first["next_cursor"]})
    assert moved.status_code == 400 and "another query" in moved.json()["error"]


def test_runs_are_compared_field_by_field(team: Team) -> None:
    a, b = _runs(team, "alpha", 2)
    compared = team.client("dave").get("/compare", params={"run": [a[:12], b]})
    assert compared.status_code == 200, compared.text
    body = compared.json()
    frame, differing = compare_runs(team.ws, [a, b])
    assert body["runs"] == [a[:12], b[:12]] == list(frame.columns)
    assert body["differing"] == differing and {"params.c", "metrics.score"} <= set(differing)
    assert "params.same" not in differing
    assert body["fields"]["params.c"] == [0, 1] and body["fields"]["metrics.score"] == [0.0, 0.1]
    assert body["fields"]["started_at"] == plain(list(frame.loc["started_at"]))
    assert isinstance(body["fields"]["started_at"][0], str)  # an ISO time


def test_a_comparison_needs_two_known_runs(team: Team) -> None:
    (a,) = _runs(team, "alpha", 1)
    dave = team.client("dave")
    one = dave.get("/compare", params={"run": [a]})
    assert one.status_code == 400 and "run" in one.json()["error"]
    unknown = dave.get("/compare", params={"run": [a, "ffffffffffff"]})
    assert unknown.status_code == 404 and "ffffffffffff" in unknown.json()["error"]
    assert dave.get("/compare", params={"run": [a] * 51}).status_code == 400
