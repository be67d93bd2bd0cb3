"""Runs over HTTP: the filter language of `assay runs list --where`, sorted, paged by a
cursor that is tied to its query; one run with its steps and metric history; clear 4xx for
what is malformed or missing."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
from fastapi.routing import APIRoute
from hypothesis import given
from hypothesis import strategies as st
from starlette.responses import JSONResponse

import assay
from assay.server.api.app import TeamOptions, TeamServer, create_app
from assay.server.api.plain import PlainJSONResponse, PlainRoute, plain
from tests.server.api.conftest import Team


def _sweep(team: Team, count: int) -> None:
    for i in range(count):
        with assay.start_run("sweep", params={"c": i % 3}, workspace=team.ws):
            assay.log_metrics({"score": i / 10}, step=0)
            assay.log_metrics({"score": i / 10 + 0.05}, step=1)


def test_a_filtered_ordered_search_is_paged_without_repeats_or_gaps(team: Team) -> None:
    _sweep(team, 25)
    dave = team.client("dave")  # reading is a viewer's right
    query = {"where": "metrics.score > 0.3 and params.c = 1", "order_by": "-metrics.score"}
    seen: list[str] = []
    scores: list[float] = []
    cursor = None
    pages = 0
    while True:
        page = dave.get(
            "/runs", params={**query, "limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        body = page.json()
        seen += [r["id"] for r in body["runs"]]
        scores += [r["metrics"]["score"] for r in body["runs"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    expected = sorted(i / 10 + 0.05 for i in range(25) if i % 3 == 1 and i / 10 + 0.05 > 0.3)
    assert scores == sorted(expected, reverse=True)
    assert len(seen) == len(set(seen)) == body["total"] == len(expected)
    assert pages == (len(expected) + 1) // 2


def test_one_run_with_its_steps_and_a_metric_history(team: Team) -> None:
    _sweep(team, 1)
    carol = team.client("carol")
    newest = carol.get("/runs", params={"experiment": "sweep", "limit": 1}).json()["runs"][0]
    run = carol.get(f"/runs/{newest['id'][:12]}").json()
    assert run["id"] == newest["id"] and run["params"] == {"c": 0}
    history = carol.get(f"/runs/{newest['id']}/metrics/score").json()["history"]
    assert [(m["step"], m["value"]) for m in history] == [(0, 0.0), (1, 0.05)]
    toy = carol.get("/runs", params={"pipeline": "toy"}).json()["runs"][0]
    steps = carol.get(f"/runs/{toy['id']}").json()["steps"]
    assert {s["step"] for s in steps} >= {"make_data", "fit"}


def test_malformed_searches_and_unknown_runs_are_4xx_naming_the_problem(team: Team) -> None:
    _sweep(team, 2)
    carol = team.client("carol")
    bad = carol.get("/runs", params={"where": "metrics.score >>> 1"})
    assert bad.status_code == 400 and bad.json()["error"]
    unknown_metric = carol.get("/runs", params={"where": "metrics.nope > 1"})
    assert unknown_metric.status_code == 400 and "nope" in unknown_metric.json()["error"]
    assert carol.get("/runs", params={"limit": 0}).status_code == 400
    assert carol.get("/runs", params={"cursor": "garbage!"}).status_code == 400
    other = carol.get("/runs", params={"limit": 1}).json()["next_cursor"]
    moved = carol.get(
        "/runs", params={"limit": 1, "where": "status = 'succeeded'", "cursor": other}
    )
    assert moved.status_code == 400 and "another query" in moved.json()["error"]
    missing = carol.get("/runs/ffffffffffff")
    assert missing.status_code == 404 and "ffffffffffff" in missing.json()["error"]
    assert carol.get("/nothing/here").status_code == 404


def test_a_metric_that_is_not_a_number_is_answered_as_the_cli_prints_it(team: Team) -> None:
    with assay.start_run("odd", params={"c": 0}, workspace=team.ws) as run:
        assay.log_metrics({"loss": float("nan"), "gain": float("inf")}, step=0)
    listed = team.client("dave").get("/runs", params={"limit": 1000})
    assert listed.status_code == 200, listed.text
    (found,) = [r for r in listed.json()["runs"] if r["id"] == run.run_id]
    # SQLite keeps NaN as NULL (the CLI prints null too); PostgreSQL keeps it (then "NaN").
    assert found["metrics"]["loss"] in (None, "NaN")
    assert found["metrics"]["gain"] in (None, "Infinity")
    one = team.client("dave").get(f"/runs/{run.run_id}")
    assert one.status_code == 200 and one.json()["metrics"]["loss"] in (None, "NaN")
    history = team.client("dave").get(f"/runs/{run.run_id}/metrics/loss")
    assert history.status_code == 200


def test_every_answer_spells_out_what_strict_json_cannot_hold() -> None:
    # PostgreSQL keeps NaN metrics; a plain JSONResponse would fail to encode them (a 500).
    body = PlainJSONResponse({"loss": float("nan"), "gain": float("-inf"), "n": [1.5]}).body
    assert json.loads(body) == {"loss": "NaN", "gain": "-Infinity", "n": [1.5]}


_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and the infinities among them
    | st.text(max_size=8)
    | st.datetimes(timezones=st.just(UTC))
    | st.floats(width=32).map(np.float32)
    | st.integers(-(2**62), 2**62).map(np.int64)
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        | st.dictionaries(st.integers(), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_VALUES)
def test_an_answer_is_encoded_as_the_strict_walk_would_encode_it(value: Any) -> None:
    # The answer is encoded as it is unless it holds what strict JSON cannot: the bytes are
    # those of the walk through every value either way.
    assert PlainJSONResponse(value).body == JSONResponse(plain(value)).body


def test_a_nan_deep_in_an_answer_or_a_moment_or_a_numpy_number_is_spelled_out() -> None:
    moment = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    body = PlainJSONResponse({"runs": [{"m": {"loss": math.nan}, "at": moment}]}).body
    assert json.loads(body) == {"runs": [{"m": {"loss": "NaN"}, "at": moment.isoformat()}]}
    assert json.loads(PlainJSONResponse([np.float32(0.5), np.int64(3)]).body) == [0.5, 3]


def test_every_route_answers_from_its_worker_thread_and_keeps_its_declared_answer(
    team: Team,
) -> None:
    app = create_app(TeamServer(team.ws, TeamOptions()))
    routes = [r for r in app.routes if isinstance(r, APIRoute)]
    assert routes and all(isinstance(r, PlainRoute) for r in routes)
    schema = app.openapi()
    listed = schema["paths"]["/api/v1/runs"]["get"]["responses"]["200"]["content"]
    assert listed["application/json"]["schema"]["type"] == "object"
    # A route's status (201 for what it creates) survives answering from the worker thread.
    created = team.client("ann").post("/users/erin/roles", json={"role": "viewer"})
    assert created.status_code == 201, created.text
