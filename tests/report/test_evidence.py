"""The evidence of a promoted version is gathered from the store, for each of the four questions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay import Settings
from assay.errors import ModelNotFoundError
from assay.report import SCHEMA, build_evidence
from assay.workspace import Workspace
from tests.governed import promoted_toy


@pytest.fixture
def ws(settings: Settings, tmp_path: Path) -> Iterator[Workspace]:
    alice = promoted_toy(settings, tmp_path / "toy")
    yield alice
    alice.close()


def test_evidence_of_the_production_version(ws: Workspace) -> None:
    evidence = build_evidence(ws, "toy@production")
    json.dumps(evidence, allow_nan=False)  # JSON for machines, as is
    assert evidence["schema"] == SCHEMA
    model = evidence["model"]
    assert (model["ref"], model["aliases"], model["registered_by"]) == (
        "toy@1",
        ["production"],
        "alice",
    )

    card = evidence["what_it_does"]["card"]
    assert card["intended_use"] == "Tests of assay's governance."
    assert card["training_data"]["rows"] == 20 and card["training_data"]["labels"] == {
        "a": 10,
        "b": 10,
    }
    assert {s["slice"] for s in card["slices"]} == {"label=a", "label=b"}

    compliant = evidence["is_it_compliant"]
    assert compliant["gates"]["passed"] is True and len(compliant["gates"]["results"]) == 6
    [request] = compliant["approvals"]
    assert request["status"] == "done" and request["requested_by"] == "alice"
    assert [(r["reviewer"], r["decision"]) for r in request["reviews"]] == [("bob", "approve")]
    # On a local store bob named himself: the report says so, not that he was verified.
    assert request["reviews"][0]["identified"].startswith("declared")
    audit = compliant["audit"]
    assert audit["ok"] is True and audit["head"]["seq"] == audit["events"]
    actions = [e["action"] for e in audit["model_events"]]
    for action in (
        "run.started",
        "model.registered",
        "gate.verdict",
        "promotion.requested",
        "promotion.approved",
        "alias.moved",
    ):
        assert action in actions

    must = evidence["does_it_do_what_it_must"]
    assert must["metrics"]["macro_f1"] == 0.8
    assert [c["label"] for c in must["per_class"]] == ["a", "b"]
    assert must["confusion_matrix"] == {"labels": ["a", "b"], "matrix": [[8, 2], [3, 7]]}
    assert must["validation"]["passed"] is True
    assert {d["name"] for d in must["data"]} >= {"data", "source", "policy"}

    keeps = evidence["does_it_keep_doing_it"]
    assert [(m["alias"], m["version"], m["moved_by"]) for m in keeps["alias_history"]] == [
        ("production", 1, "alice")
    ]
    provenance = evidence["provenance"]
    assert provenance["params"]["quality"] == 0.8
    assert [s["step"] for s in provenance["steps"]][-1] == "check_gates"
    types = {n["type"] for n in provenance["lineage"]["nodes"]}
    assert {"model", "execution", "artifact"} <= types


def test_tampering_shows_in_the_evidence(ws: Workspace) -> None:
    with ws.metadata.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    audit = build_evidence(ws, "toy@1")["is_it_compliant"]["audit"]
    assert audit["ok"] is False
    assert audit["problems"][0]["seq"] == 2


def test_unknown_reference(ws: Workspace) -> None:
    with pytest.raises(ModelNotFoundError, match="no alias 'staging'"):
        build_evidence(ws, "toy@staging")
