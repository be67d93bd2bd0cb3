"""Governance from the command line: gates, four eyes, promotion, history, audit."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import textwrap
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke
from tests.cli.test_bad_input import assert_clean_error
from tests.governed import CARD, POLICY

GOVERNED = """
from pathlib import Path
from typing import Any

from assay import pipeline, register_model, step
from assay.governance import check_gates, model_card

HERE = Path(__file__).parent


@step(outputs=["model", "report"])
def fit(quality: float = 0.8) -> tuple[dict[str, Any], dict[str, Any]]:
    per_class = {"precision": quality, "recall": quality, "f1": quality, "support": 5}
    report = {"accuracy": quality, "macro_f1": quality, "labels": ["a", "b"],
              "per_class": {"a": per_class, "b": per_class},
              "confusion_matrix": [[4, 1], [1, 4]]}
    return {"quality": quality}, report


@step
def check() -> dict[str, Any]:
    return {"passed": True, "issues": []}


@pipeline
def toy(quality: float = 0.8, policy: Path = HERE / "policy.yaml",
        card: Path = HERE / "model_card.yaml") -> None:
    model, report = fit(quality)
    described = model_card(card, evaluation=report)
    registration = register_model(model, name="toy", metrics=report, card=described)
    check_gates(registration, policy=policy, validation=check())
"""


@pytest.fixture
def toy(project: Path) -> Path:
    folder = project / "toy"
    folder.mkdir()
    (folder / "pipeline.py").write_text(textwrap.dedent(GOVERNED))
    (folder / "policy.yaml").write_text(POLICY)
    (folder / "model_card.yaml").write_text(CARD)
    return folder


def as_user(monkeypatch: pytest.MonkeyPatch, user: str) -> None:
    monkeypatch.setenv("ASSAY_USER", user)


def test_train_gate_approve_promote_and_history(
    cli: Invoke, toy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained = cli("run", "toy")
    assert trained.code == 0, trained.err
    assert "gates passed" in trained.out
    assert cli("users", "grant", "bob", "approver").code == 0
    requested = cli("models", "request-promotion", "toy@1", "--comment", "ready")
    assert requested.code == 0 and "needs 1 approval" in requested.out
    assert_clean_error(cli("models", "promote", "toy@1"), 1, "no approved request")
    assert_clean_error(cli("models", "approve", "toy@1"), 1, "alice trained toy@1")

    as_user(monkeypatch, "bob")
    assert_clean_error(cli("users", "grant", "bob", "admin"), 1, "needs the admin role")
    assert_clean_error(cli("models", "reject", "toy@1"), 1, "a rejection needs a reason")
    approved = cli("models", "approve", "toy@1", "--comment", "checked the card")
    assert approved.code == 0 and "request is approved" in approved.out

    as_user(monkeypatch, "alice")
    promoted = cli("models", "promote", "toy@1", "--to", "production")
    assert promoted.code == 0 and "toy@production: none -> 1" in promoted.out
    today = dt.datetime.now(dt.UTC).date().isoformat()
    answer = cli("models", "history", "toy", "--alias", "production", "--at", today)
    assert "toy@production was version 1" in answer.out
    assert "by alice" in answer.out and "approved by bob" in answer.out
    before = cli("models", "history", "toy", "--alias", "production", "--at", "2020-01-01")
    assert "pointed at no version" in before.out
    shown = json.loads(cli("models", "show", "toy@production", "--json").out)
    assert shown["aliases"] == ["production"] and shown["verdict"]["passed"] is True
    assert shown["requests"][0]["reviews"][0]["reviewer"] == "bob"
    listed = json.loads(cli("models", "list", "--json").out)
    assert [(v["version"], v["aliases"]) for v in listed] == [(1, ["production"])]
    assert "production" in cli("models", "list").out
    users = json.loads(cli("users", "list", "--json").out)
    assert {(u["user"], u["role"]) for u in users} == {("alice", "admin"), ("bob", "approver")}


def test_failed_gates_and_bad_policy(cli: Invoke, toy: Path) -> None:
    failed = cli("run", "toy", "--param", "quality=0.5")
    assert failed.code == 0 and "gates FAILED" in failed.out and "min macro_f1" in failed.out
    assert_clean_error(cli("models", "promote", "toy@1", "--to", "staging"), 1, "failed its gates")
    assert_clean_error(cli("models", "request-promotion", "toy@1"), 1, "failed its gates")
    (toy / "policy.yaml").write_text("gates:\n  min_metric: {macro_f1: 0.7}\n")
    broken = cli("run", "toy", "--param", "quality=0.9")
    assert_clean_error(broken, 1, "field gates.min_metric", "Extra inputs are not permitted")
    (toy / "policy.yaml").write_text("gates:\n  min_metrics: {macro_f1: high}\n")
    assert_clean_error(cli("run", "toy", "--param", "quality=0.9"), 1, "gates.min_metrics.macro_f1")
    assert_clean_error(cli("models", "history", "nope"), 1, "unknown model 'nope'")
    assert_clean_error(cli("models", "show", "toy@staging"), 1, "no alias 'staging'")
    assert_clean_error(
        cli("models", "history", "toy", "--alias", "production", "--at", "soon"),
        1,
        "cannot read 'soon' as a date",
    )
    assert_clean_error(cli("users", "grant", "bob", "boss"), 1, "unknown role 'boss'")


def test_audit_verify_and_export(cli: Invoke, toy: Path, project: Path) -> None:
    assert cli("run", "toy").code == 0
    verified = cli("audit", "verify")
    assert verified.code == 0 and "audit chain verified" in verified.out
    exported = cli("audit", "export", "-o", "audit.jsonl")
    assert exported.code == 0
    lines = (project / "audit.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["head"]["seq"] == len(lines) - 1
    with sqlite3.connect(project / ".assay" / "assay.db") as db:
        db.execute("UPDATE audit_events SET subject = 'run:forged' WHERE seq = 2")
    assert_clean_error(
        cli("audit", "verify"), 1, "the audit chain is broken: event 2: column subject"
    )
    report = json.loads(cli("audit", "verify", "--json").out)
    assert report["ok"] is False and report["problems"][0]["seq"] == 2


def test_an_unknown_model_is_named_before_any_table(cli: Invoke, toy: Path) -> None:
    assert cli("run", "toy").code == 0
    wrong = cli("models", "list", "tyo")
    assert_clean_error(wrong, 1, "unknown model 'tyo'", "did you mean 'toy'? models: toy")
    assert wrong.out == ""


def test_archive_hides_a_version_from_lists_and_latest(cli: Invoke, toy: Path) -> None:
    assert cli("run", "toy").code == 0
    assert cli("run", "toy", "--param", "quality=0.5").code == 0  # toy@2 fails its gates
    listed = cli("models", "list")
    assert "toy@2" in listed.out and "FAILED" in listed.out and "passed" in listed.out
    assert json.loads(cli("models", "show", "toy@latest", "--json").out)["version"]["version"] == 1
    archived = cli("models", "archive", "toy@2", "--reason", "failed its gates")
    assert archived.code == 0 and "archived toy@2" in archived.out
    listed = cli("models", "list")
    assert "toy@2" not in listed.out and "1 archived version not shown (--all shows)" in listed.out
    assert "toy@2 (archived)" in cli("models", "list", "--all").out
    every = json.loads(cli("models", "list", "--all", "--json").out)
    assert [(v["gates"], v["archive_reason"]) for v in every] == [
        ("passed", None),
        ("failed", "failed its gates"),
    ]
    assert_clean_error(cli("models", "archive", "toy@1"), 1, "archive needs a reason")
    assert cli("models", "promote", "toy@1", "--to", "candidate").code == 0
    assert_clean_error(
        cli("models", "archive", "toy@1", "--reason", "cleanup"),
        1,
        "toy@1 holds the alias candidate",
        "move toy@candidate to another version first",
    )
    restored = cli("models", "restore", "toy@2", "--reason", "kept to compare")
    assert restored.code == 0 and "restored toy@2" in restored.out
    assert "not shown" not in cli("models", "list").out
    assert cli("audit", "verify").code == 0
