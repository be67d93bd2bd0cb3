"""Aliases, gate verdicts, promotion requests and reviews, over every database."""

from __future__ import annotations

import time
from typing import Any

import pytest

from assay.errors import GovernanceError
from assay.metadata import (
    GateVerdictRecord,
    MetadataStore,
    PromotionRequestRecord,
    Registration,
    ReviewRecord,
)
from tests.metadata.test_repository import artifact, make_execution, make_run


@pytest.fixture
def registered(meta: MetadataStore) -> MetadataStore:
    meta.insert_run(make_run("r1"))
    verdict = GateVerdictRecord(
        "m",
        1,
        True,
        "p" * 64,
        {"approval": {"approvers": 1}},
        [{"gate": "g", "passed": True}],
        time.time(),
        "alice",
        "r1",
        "e1",
    )
    meta.record_execution(
        make_execution("e1", "r1", "k1"),
        artifacts=[artifact("a" * 64, "e1")],
        registrations=[Registration("m", "a" * 64, "json", "r1", "e1", "alice")],
        verdicts=[verdict],
    )
    return meta


def test_verdicts_are_written_with_their_execution(registered: MetadataStore) -> None:
    [verdict] = registered.verdicts("m", 1)
    assert verdict.passed and verdict.results == [{"gate": "g", "passed": True}]
    actions = [e.action for e in registered.audit_events()]
    assert actions == ["run.started", "step.succeeded", "model.registered", "gate.verdict"]


def test_alias_moves_are_atomic_and_kept(registered: MetadataStore) -> None:
    registered.move_alias("m", "production", 1, by="bob", reason="first", expected=None)
    with pytest.raises(GovernanceError, match="moved to version 1 meanwhile"):
        registered.move_alias("m", "production", 1, by="eve", reason="race", expected=None)
    registered.move_alias("m", "production", None, by="bob", reason="retired", expected=1)
    assert registered.alias_version("m", "production") is None
    moves = registered.alias_moves("m", "production")
    assert [(m.version, m.previous, m.moved_by) for m in moves] == [
        (1, None, "bob"),
        (None, 1, "bob"),
    ]
    assert registered.alias_moves("m", "production", until=moves[0].moved_at) == moves[:1]


def test_reviews_are_once_per_reviewer(registered: MetadataStore) -> None:
    request = PromotionRequestRecord(
        "q" * 32, "m", 1, "production", "open", 2, "alice", time.time(), "please"
    )
    registered.open_request(request)
    review = ReviewRecord(request.id, "bob", "approve", "ok", time.time())
    assert registered.add_review(review) == "open"  # one of the two approvals it requires
    with pytest.raises(GovernanceError, match="bob already reviewed"):
        registered.add_review(review)
    found = registered.get_request("qqqq")
    assert found.status == "open" and [r.reviewer for r in found.reviews] == ["bob"]
    carol = ReviewRecord(request.id, "carol", "approve", "", time.time())
    assert registered.add_review(carol) == "approved"
    assert registered.requests("m", 1, status="approved")[0].reviews[1].reviewer == "carol"


def test_moves_are_timed_in_the_order_they_are_written(
    registered: MetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bob's move is held just before its transaction while carol's is made: his, written
    # second, is timed after hers, so the history (in time order) is the order of writes.
    write = registered._write

    def held() -> Any:
        monkeypatch.undo()
        registered.move_alias("m", "production", 1, by="carol", reason="first", expected=None)
        return write()

    monkeypatch.setattr(registered, "_write", held)
    registered.move_alias("m", "production", None, by="bob", reason="retired", expected=1)
    moves = registered.alias_moves("m", "production")
    assert [(m.moved_by, m.previous, m.version) for m in moves] == [
        ("carol", None, 1),
        ("bob", 1, None),
    ]
