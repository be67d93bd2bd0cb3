"""Lineage over HTTP: the graph up from a model version and down from its training data,
the same as `assay lineage --json` prints; 404 naming what matches nothing."""

from __future__ import annotations

from assay.lineage import downstream, upstream
from assay.server.api.plain import plain
from tests.server.api.conftest import Team


def test_up_from_a_version_and_down_from_its_data_as_the_domain_walks_them(team: Team) -> None:
    dave = team.client("dave")
    up = dave.get("/lineage/toy@1")
    assert up.status_code == 200, up.text
    assert up.json() == plain(upstream(team.ws, "toy@1").to_dict())
    nodes = {n["id"]: n for n in up.json()["nodes"]}
    assert up.json()["root"] == "model:toy@1" and up.json()["direction"] == "up"
    steps = {n["step"] for n in nodes.values() if n["type"] == "execution"}
    assert {"make_data", "fit"} <= steps
    data = next(
        n["digest"]
        for n in nodes.values()
        if n["type"] == "artifact"
        and any(
            e["source"] == n["id"] and nodes[e["target"]].get("step") == "fit"
            for e in up.json()["edges"]
        )
    )
    down = dave.get(f"/lineage/{data[:12]}", params={"direction": "down"})
    assert down.status_code == 200, down.text
    assert down.json() == plain(downstream(team.ws, data).to_dict())
    assert "model:toy@1" in {n["id"] for n in down.json()["nodes"]}


def test_what_matches_nothing_is_a_404_and_a_bad_direction_a_400(team: Team) -> None:
    dave = team.client("dave")
    missing = dave.get("/lineage/ffffffffffff")
    assert missing.status_code == 404 and "ffffffffffff" in missing.json()["error"]
    no_version = dave.get("/lineage/toy@9")
    assert no_version.status_code == 404 and "9" in no_version.json()["error"]
    huge = dave.get(f"/lineage/toy@{10**20}")  # more than a database integer holds
    assert huge.status_code == 404 and "no version" in huge.json()["error"]
    bad = dave.get("/lineage/toy@1", params={"direction": "sideways"})
    assert bad.status_code == 400 and "direction" in bad.json()["error"]
