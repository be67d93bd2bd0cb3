"""Gates, four-eyes approval, promotion, rollback and alias history on a real SQLite store."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from assay.errors import GovernanceError, ModelNotFoundError, PermissionDenied
from assay.governance import (
    alias_at,
    grant,
    history,
    latest_verdict,
    parse_when,
    promote,
    request_promotion,
    review,
    rollback,
)
from assay.registry import resolve
from assay.workspace import Workspace
from tests.governance.conftest import Train
from tests.waiting import wait_until


@pytest.fixture
def team(as_user: Callable[[str], Workspace]) -> Callable[[str], Workspace]:
    """alice (admin, first user) trains; bob and carol approve; dave only develops."""
    admin = as_user("alice")
    grant(admin, "bob", "approver")
    grant(admin, "carol", "approver")
    grant(admin, "dave", "developer")
    return as_user


def test_passing_version_is_approved_and_promoted(
    team: Callable[[str], Workspace], train: Train
) -> None:
    version = train()
    verdict = latest_verdict(team("alice"), version)
    assert verdict is not None and verdict.passed, verdict
    assert {r["gate"] for r in verdict.results} >= {"min macro_f1", "model card filled"}
    request = request_promotion(team("dave"), "toy@1", "production", "ready")
    assert request.status == "open" and request.required == 1
    with pytest.raises(GovernanceError, match="approved request"):
        promote(team("dave"), "toy@1", "production")
    approved = review(team("bob"), "toy@1", approve=True, comment="looks right")
    assert approved.status == "approved"
    move = promote(team("dave"), "toy@1", "production")
    assert (move.version, move.moved_by, move.request_id) == (1, "dave", request.id)
    assert resolve(team("carol"), "toy@production").version == 1
    assert team("alice").metadata.get_request(request.id).status == "done"


def test_four_eyes_refusals_change_nothing(team: Callable[[str], Workspace], train: Train) -> None:
    train()
    request_promotion(team("dave"), "toy@1")
    with pytest.raises(PermissionDenied, match="trained"):
        review(team("alice"), "toy@1", approve=True, comment="")  # author, although admin
    with pytest.raises(PermissionDenied, match="approver role"):
        review(team("dave"), "toy@1", approve=True, comment="")  # no role
    grant(team("alice"), "dave", "approver")
    with pytest.raises(PermissionDenied, match="asked for the promotion"):
        review(team("dave"), "toy@1", approve=True, comment="")  # requester
    ws = team("carol")
    assert ws.metadata.requests("toy")[0].reviews == ()
    assert ws.metadata.alias_version("toy", "production") is None


def test_failed_gates_block_staging_and_production(
    team: Callable[[str], Workspace], train: Train
) -> None:
    version = train(quality=0.5)
    verdict = latest_verdict(team("alice"), version)
    assert verdict is not None and not verdict.passed
    failed = {r["gate"] for r in verdict.results if not r["passed"]}
    assert failed == {"min macro_f1", "min recall of class b"}
    for alias in ("staging", "production"):
        with pytest.raises(GovernanceError, match="failed its gates"):
            promote(team("alice"), "toy@1", alias)
    with pytest.raises(GovernanceError, match="failed its gates"):
        request_promotion(team("alice"), "toy@1")
    promote(team("alice"), "toy@1", "candidate")  # any other alias is free
    assert resolve(team("bob"), "toy@candidate").version == 1


def test_regression_against_production_and_invalid_data_fail(
    team: Callable[[str], Workspace], train: Train
) -> None:
    train(quality=0.9)
    request_promotion(team("alice"), "toy@1")
    review(team("bob"), "toy@1", approve=True, comment="ok")
    promote(team("alice"), "toy@1", "production")
    worse = train(quality=0.85, weight=2.0)
    verdict = latest_verdict(team("alice"), worse)
    assert verdict is not None
    failed = [r for r in verdict.results if not r["passed"]]
    assert [r["gate"] for r in failed] == ["no macro_f1 regression against production"]
    invalid = train(quality=0.95, weight=3.0, valid=False)
    verdict = latest_verdict(team("alice"), invalid)
    assert verdict is not None
    assert [r["gate"] for r in verdict.results if not r["passed"]] == ["data validation"]


def test_two_approvers_and_rejection(
    team: Callable[[str], Workspace], train: Train, project
) -> None:
    policy = (project / "policy.yaml").read_text().replace("approvers: 1", "approvers: 2")
    (project / "policy.yaml").write_text(policy)
    train()
    request_promotion(team("dave"), "toy@1")
    assert review(team("bob"), "toy@1", approve=True, comment="one").status == "open"
    with pytest.raises(GovernanceError, match="already reviewed"):
        review(team("bob"), "toy@1", approve=True, comment="again")
    assert review(team("carol"), "toy@1", approve=True, comment="two").status == "approved"
    train(weight=5.0)
    request_promotion(team("dave"), "toy@2")
    with pytest.raises(GovernanceError, match="needs a reason"):
        review(team("bob"), "toy@2", approve=False, comment=" ")
    assert review(team("bob"), "toy@2", approve=False, comment="no").status == "rejected"
    with pytest.raises(GovernanceError, match="no approved request"):
        promote(team("dave"), "toy@2", "production")


def test_rollback_and_history_at_a_date(team: Callable[[str], Workspace], train: Train) -> None:
    def train_and_promote(weight: float) -> None:
        v = train(weight=weight)
        request_promotion(team("dave"), f"toy@{v.version}")
        review(team("bob"), f"toy@{v.version}", approve=True, comment="ok")
        promote(team("dave"), f"toy@{v.version}", "production")

    train_and_promote(1.0)
    between = time.time()
    # The next move must be stamped after `between`, even on a coarse clock.
    wait_until(lambda: time.time() > between, message="the clock did not move")
    train_and_promote(2.0)
    with pytest.raises(GovernanceError, match="needs a reason"):
        rollback(team("dave"), "toy")
    back = rollback(team("dave"), "toy", reason="v2 misbehaves")
    assert (back.version, back.previous) == (1, 2)
    moves = history(team("carol"), "toy", "production")
    assert [(m.version, m.moved_by) for m in moves] == [(1, "dave"), (2, "dave"), (1, "dave")]
    then = alias_at(team("carol"), "toy", "production", between)
    assert then is not None and then.version == 1 and then.request_id is not None
    assert alias_at(team("carol"), "toy", "production", parse_when("2000-01-01")) is None


def test_unknown_model_alias_and_date(team: Callable[[str], Workspace], train: Train) -> None:
    train()
    with pytest.raises(ModelNotFoundError, match="no alias 'production'"):
        resolve(team("alice"), "toy@production")
    with pytest.raises(ModelNotFoundError, match="unknown model"):
        request_promotion(team("alice"), "nope@1")
    with pytest.raises(GovernanceError, match="cannot read"):
        parse_when("yesterday")


def test_runs_need_the_developer_role(team: Callable[[str], Workspace], train: Train) -> None:
    grant(team("alice"), "victor", "viewer")
    with pytest.raises(PermissionDenied, match="victor may not run pipelines"):
        train("victor")


def test_policy_can_require_approval_for_other_aliases(
    team: Callable[[str], Workspace], train: Train, project
) -> None:
    policy = (project / "policy.yaml").read_text()
    (project / "policy.yaml").write_text(policy + "  aliases: [production, canary]\n")
    train()
    with pytest.raises(GovernanceError, match="no open request|no approved request"):
        promote(team("dave"), "toy@1", "canary")
    with pytest.raises(GovernanceError, match="needs no approval"):
        request_promotion(team("dave"), "toy@1", "staging")
    request_promotion(team("dave"), "toy@1", "canary")
    review(team("bob"), "toy@1", approve=True, comment="ok", alias="canary")
    assert promote(team("dave"), "toy@1", "canary").version == 1
    assert promote(team("dave"), "toy@1", "staging").version == 1  # gates only
