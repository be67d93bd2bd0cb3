"""Reports over HTTP: a version's card; its evidence as `assay report` builds it, as JSON
and as the HTML page; the monitoring of a model as `assay monitor report` builds it."""

from __future__ import annotations

from typing import Any

from assay.report import build_evidence
from assay.report.monitoring import build_monitoring
from assay.server.api.plain import plain
from tests.server.api.conftest import Team
from tests.server.api.monitored import monitor


def _timeless(evidence: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in evidence.items() if k not in ("generated_at", "generated_by")}


def test_a_card_is_the_one_registered_with_the_version(team: Team) -> None:
    card = team.client("dave").get("/models/toy/versions/1/card")
    assert card.status_code == 200, card.text
    registered = team.ws.metadata.model_versions("toy")[0].info["card"]
    assert card.json() == {
        "model": "toy@1",
        "card": registered,
        "empty_team_fields": ["references"],
    }
    assert card.json()["card"]["intended_use"] == "Tests of assay's governance."
    missing = team.client("dave").get("/models/toy/versions/9/card")
    assert missing.status_code == 404 and "9" in missing.json()["error"]
    huge = team.client("dave").get(f"/models/toy/versions/{10**20}/card")
    assert huge.status_code == 404 and str(10**20) in huge.json()["error"]
    unknown = team.client("dave").get("/models/nope/versions/1/card")
    assert unknown.status_code == 404 and "nope" in unknown.json()["error"]


def test_the_evidence_as_json_is_what_assay_report_writes(team: Team) -> None:
    dave = team.client("dave")
    fast = dave.get("/models/toy/versions/1/evidence", params={"verify": False})
    assert fast.status_code == 200, fast.text
    expected = plain(build_evidence(team.ws, "toy@1", verify_audit=False))
    assert _timeless(fast.json()) == _timeless(expected)
    assert fast.json()["schema"] == "assay.evidence/1" and fast.json()["generated_by"] == "dave"
    assert fast.json()["is_it_compliant"]["audit"]["ok"] is None
    checked = dave.get("/models/toy/versions/1/evidence").json()
    assert checked["is_it_compliant"]["audit"]["ok"] is True
    missing = dave.get("/models/toy/versions/9/evidence")
    assert missing.status_code == 404 and "9" in missing.json()["error"]
    assert dave.get("/models/toy/versions/1/evidence", params={"format": "pdf"}).status_code == 400


def test_the_evidence_as_the_html_page(team: Team) -> None:
    page = team.client("dave").get(
        "/models/toy/versions/1/evidence", params={"format": "html", "verify": False}
    )
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.text.startswith("<!DOCTYPE html>") and "toy@1" in page.text
    assert 'id="is-it-compliant"' in page.text


def test_the_monitoring_report_as_json_and_as_html(team: Team) -> None:
    monitor(team.ws)
    dave = team.client("dave")
    one = dave.get("/models/toy/monitoring", params={"version": "1"})
    assert one.status_code == 200, one.text
    assert one.json() == plain(build_monitoring(team.ws, "toy@1"))
    assert one.json()["ref"] == "toy@1" and len(one.json()["windows"]) == 3
    every = dave.get("/models/toy/monitoring", params={"since": 1100}).json()
    assert every["every_version"] is True and every["since"] == 1100
    assert [w["end_at"] for w in every["windows"]] == [1120.0, 1120.0]
    page = dave.get("/models/toy/monitoring", params={"version": "1", "format": "html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<title>Monitoring: toy@1</title>" in page.text and '<figure class="drift"><svg' in (
        page.text
    )
    missing = dave.get("/models/nope/monitoring")
    assert missing.status_code == 404 and "nope" in missing.json()["error"]
    assert dave.get("/models/toy/monitoring", params={"since": "soon"}).status_code == 400
    assert dave.get("/models/toy/monitoring", params={"since": "inf"}).status_code == 400
