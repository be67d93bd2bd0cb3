"""Monitoring over HTTP: toy@1's checked windows and alerts as the store holds them (NaN
spelled out, as the CLI's --json spells it), paged; closing an alert is a developer's
change, audited; retrainings; 404s naming what is not there."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from assay.server.api.plain import plain
from tests.server.api.conftest import Team
from tests.server.api.monitored import monitor


def test_windows_are_the_stored_ones_oldest_first_paged_and_filtered(team: Team) -> None:
    found = monitor(team.ws)
    dave = team.client("dave")
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = dave.get(
            "/monitoring/windows",
            params={"model": "toy", "limit": 2, **({"cursor": cursor} if cursor else {})},
        )
        assert page.status_code == 200, page.text
        seen += page.json()["windows"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    stored = team.ws.metadata.windows("toy")
    assert seen == [plain(asdict(w)) for w in stored] and len(seen) == len(found.windows) == 3
    assert seen[0]["report"]["columns"][0]["details"] == {"statistic": "NaN"}
    drift = dave.get("/monitoring/windows", params={"model": "toy", "kind": "drift"}).json()
    assert [w["status"] for w in drift["windows"]] == ["ok", "drift"] and drift["total"] == 2
    assert dave.get("/monitoring/windows", params={"model": "toy", "version": 2}).json() == {
        "windows": [],
        "total": 0,
        "next_cursor": None,
    }
    missing = dave.get("/monitoring/windows", params={"model": "nope"})
    assert missing.status_code == 404 and "nope" in missing.json()["error"]
    assert dave.get("/monitoring/windows").status_code == 400  # which model
    bad = dave.get("/monitoring/windows", params={"model": "toy", "kind": "sideways"})
    assert bad.status_code == 400 and "kind" in bad.json()["error"]


def test_alerts_are_listed_and_a_developer_closes_one_with_a_reason(team: Team) -> None:
    found = monitor(team.ws)
    dave, bob, carol = team.client("dave"), team.client("bob"), team.client("carol")
    listed = dave.get("/monitoring/alerts", params={"model": "toy", "status": "open"}).json()
    assert listed["alerts"] == [plain(asdict(found.alert))]
    assert listed["alerts"][0]["details"] == {"p": "NaN"}
    path = f"/monitoring/alerts/{found.alert.id}/close"
    head = team.ws.metadata.audit_head()
    refused = dave.post(path, json={"reason": "looked"})
    assert refused.status_code == 403 and "viewer" in refused.json()["error"]
    refused = bob.post(path, json={"reason": "looked"})  # an approver is no developer
    assert refused.status_code == 403 and "developer" in refused.json()["error"]
    assert carol.post(path, json={"reason": ""}).status_code == 400
    assert carol.post(path, json={"reason": "x", "extra": 1}).status_code == 400
    assert team.ws.metadata.audit_head() == head
    closed = carol.post(path, json={"reason": "the feed was fixed"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["id"] == found.alert.id
    assert [a.status for a in team.ws.metadata.alerts("toy")] == ["closed"]
    event = team.ws.metadata.audit_events()[-1]
    assert (event.action, event.actor) == ("alert.closed", "carol")
    again = carol.post(path, json={"reason": "twice"})
    assert again.status_code == 404 and "already closed" in again.json()["error"]
    unknown = carol.post("/monitoring/alerts/999/close", json={"reason": "x"})
    assert unknown.status_code == 404 and "999" in unknown.json()["error"]
    assert carol.post("/monitoring/alerts/0/close", json={"reason": "x"}).status_code == 400
    assert carol.post(f"/monitoring/alerts/{2**40}/close", json={"reason": "x"}).status_code == 400
    now = dave.get("/monitoring/alerts", params={"status": "closed"}).json()["alerts"]
    assert [a["id"] for a in now] == [found.alert.id]
    assert dave.get("/monitoring/alerts", params={"model": "nope"}).status_code == 404


def test_retrainings_are_listed_newest_first(team: Team) -> None:
    found = monitor(team.ws)
    listed = team.client("dave").get("/monitoring/retrains", params={"model": "toy"}).json()
    assert listed["retrains"] == [plain(asdict(found.retrain))] and listed["total"] == 1
    assert listed["retrains"][0]["outcome"] == {"note": "no new version"}
    every = team.client("dave").get("/monitoring/retrains").json()
    assert [r["id"] for r in every["retrains"]] == [found.retrain.id]
    assert team.client("dave").get("/monitoring/retrains", params={"limit": 0}).status_code == 400
