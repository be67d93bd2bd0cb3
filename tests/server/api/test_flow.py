"""Four eyes against who authenticated: carol trains and asks, her own approval is refused,
bob approves, carol promotes; the history and the audit chain name each of them with the
token that identified them, and a stale move is a 409 saying what changed."""

from __future__ import annotations

from assay.audit import verify_chain
from assay.chain import read_sealed
from assay.report.evidence import build_evidence
from tests.server.api.conftest import Team


def test_the_four_eyes_flow_through_the_api(team: Team) -> None:
    carol, bob, dave = team.client("carol"), team.client("bob"), team.client("dave")
    assert carol.get("/whoami").json()["user"] == "carol"
    asked = carol.post("/models/toy/promotions", json={"version": 1, "comment": "ready"})
    assert asked.status_code == 201, asked.text
    assert asked.json()["requested_by"] == "carol"

    # carol is no approver; dave is a viewer: neither decides.
    own = carol.post("/models/toy/versions/1/promotions/production/approve", json={"comment": "ok"})
    assert own.status_code == 403, own.text
    assert "approver" in own.json()["error"]
    seen = dave.post("/models/toy/versions/1/promotions/production/approve", json={"comment": "ok"})
    assert seen.status_code == 403

    early = carol.post("/models/toy/aliases/production", json={"version": 1})
    assert early.status_code == 409 and "approv" in early.json()["error"]

    approved = bob.post(
        "/models/toy/versions/1/promotions/production/approve", json={"comment": "checked"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"

    moved = carol.post(
        "/models/toy/aliases/production",
        json={"version": 1, "expect": True, "expected_version": None},
    )
    assert moved.status_code == 200, moved.text
    history = carol.get("/models/toy/history", params={"alias": "production"}).json()["moves"]
    assert [(m["version"], m["moved_by"]) for m in history] == [(1, "carol")]
    request_id = history[0]["request_id"]
    requests = carol.get("/promotions", params={"name": "toy"}).json()["requests"]
    (done,) = [r for r in requests if r["id"] == request_id]
    assert [(r["reviewer"], r["decision"]) for r in done["reviews"]] == [("bob", "approve")]

    # Every change is sealed with the token that identified its actor.
    tokens = {
        t["user"]: t["id"]
        for t in team.client("ann").get("/tokens", params={"every": True}).json()["tokens"]
    }
    events = read_sealed(team.ws, ["model:toy@1", "model:toy@production"])
    via = {(e.action, e.actor): e.via for e in events if e.via is not None}
    assert via[("promotion.requested", "carol")] == {"kind": "token", "id": tokens["carol"]}
    assert via[("promotion.approved", "bob")] == {"kind": "token", "id": tokens["bob"]}
    assert via[("alias.moved", "carol")] == {"kind": "token", "id": tokens["carol"]}
    assert verify_chain(team.ws).ok
    # The evidence report tells a verified approval from a declared one.
    evidence = build_evidence(team.ws, "toy@1", verify_audit=False)
    (request,) = evidence["is_it_compliant"]["approvals"]
    (bobs,) = request["reviews"]
    assert bobs["identified"] == f"API token {tokens['bob']} (team server)"


def test_a_move_from_a_stale_page_is_a_409_naming_what_changed(team: Team) -> None:
    carol = team.client("carol")
    carol.post("/models/toy/aliases/candidate", json={"version": 1})
    stale = carol.post(
        "/models/toy/aliases/candidate",
        json={"version": 1, "expect": True, "expected_version": None},
    )
    assert stale.status_code == 409
    assert "points at toy@1 now, not nothing: carol moved it" in stale.json()["error"]
    versions = carol.get("/models", params={"name": "toy"}).json()["versions"]
    assert versions[0]["aliases"] == ["candidate"]


def test_what_a_client_sends_as_its_user_changes_nothing(team: Team) -> None:
    # ASSAY_USER is the CLI's way to declare a user on a local store; a header claiming
    # to be bob is just a header.
    carol = team.client("carol")
    carol.headers["X-Assay-User"] = "bob"
    assert carol.get("/whoami").json()["user"] == "carol"
    refused = carol.post(
        "/models/toy/versions/1/promotions/production/approve", json={"comment": "as bob"}
    )
    assert refused.status_code in (403, 409)


def test_numbers_no_store_can_hold_are_refused_not_failed(team: Team) -> None:
    ann = team.client("ann")
    huge = 10**20
    assert ann.get(f"/models/toy/versions/{huge}").status_code == 404
    assert ann.get("/audit", params={"after": huge}).status_code == 400
    asked = ann.post("/models/toy/promotions", json={"version": huge})
    assert asked.status_code == 400 and "version" in asked.json()["error"]
    moved = ann.post(f"/models/toy/versions/{huge}/promotions/production/approve", json={})
    assert moved.status_code == 400
    assert ann.get("/whoami").status_code == 200  # the connection and the server are fine
