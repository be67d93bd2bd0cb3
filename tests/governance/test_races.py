"""Governance decisions that race: each test holds one call just before its write, lets
another member's call run to its end, then lets the first write. The state the first call
checked has changed by then, and the store decides on the state as it is when it writes:
it refuses as it refuses the same call made second (writing nothing), counts the other
approval, and times the write after the other's; over SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import assay
from assay import Settings
from assay.audit import verify_chain
from assay.errors import GovernanceError
from assay.governance import grant, promote, request_promotion, review, rollback
from assay.workspace import Workspace, open_workspace
from tests.governed import POLICY, toy, write_project
from tests.metadata.conftest import settings_on

# Every alias here waits for an approval, so every move spends a request.
GATED = POLICY.replace(
    "  approvers: 1\n", "  approvers: 1\n  aliases: [candidate, staging, production]\n"
)

Team = Callable[[str], Workspace]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def on_database(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Settings]:
    yield from settings_on(request.param, settings)


@pytest.fixture
def team(on_database: Settings, tmp_path: Path) -> Iterator[Team]:
    """alice (admin) trains toy@1, toy@2 and toy@3 (which needs two approvals); bob and
    erin approve; carol and frank develop. One workspace per member, kept for the test."""
    opened: dict[str, Workspace] = {}

    def member(user: str) -> Workspace:
        if user not in opened:
            opened[user] = open_workspace(on_database.as_user(user))
        return opened[user]

    alice = member("alice")
    for user, role in [("bob", "approver"), ("erin", "approver")]:
        grant(alice, user, role)
    for user in ("carol", "frank"):
        grant(alice, user, "developer")
    twice = GATED.replace("approvers: 1", "approvers: 2")
    for number, policy in enumerate([GATED, GATED, twice], start=1):
        path, card = write_project(tmp_path / f"toy{number}", policy=policy)
        assay.run(toy, {"policy": path, "card": card, "weight": number}, workspace=alice)
    yield member
    for ws in opened.values():
        ws.close()


def late(ws: Workspace, method: str, first: Callable[[], Any]) -> None:
    """Make ``ws``'s next call of the store's ``method`` run ``first`` before it writes."""
    store = ws.metadata
    original = getattr(store, method)

    def held(*args: Any, **kwargs: Any) -> Any:
        setattr(store, method, original)
        first()
        return original(*args, **kwargs)

    setattr(store, method, held)


def refusal(call: Callable[[], Any]) -> tuple[str, str | None]:
    """The message and hint of the GovernanceError ``call`` raises."""
    with pytest.raises(GovernanceError) as caught:
        call()
    return caught.value.message, caught.value.hint


def actions(ws: Workspace, prefix: str) -> list[str]:
    return [e.action for e in ws.metadata.audit_events() if e.action.startswith(prefix)]


def test_two_asking_at_once_open_one_request(team: Team) -> None:
    carol, frank = team("carol"), team("frank")
    late(frank, "open_request", lambda: request_promotion(carol, "toy@1", "candidate"))
    raced = refusal(lambda: request_promotion(frank, "toy@1", "candidate"))
    assert raced[0] == "a request to make toy@1 candidate is already open"
    assert raced == refusal(
        lambda: request_promotion(frank, "toy@1", "candidate")
    )  # as asked second
    assert [r.requested_by for r in carol.metadata.requests("toy", 1)] == ["carol"]
    assert actions(carol, "promotion.") == ["promotion.requested"]
    assert verify_chain(carol, artifacts=False).ok


def test_a_late_approval_of_a_request_another_approved_is_refused(team: Team) -> None:
    bob, erin = team("bob"), team("erin")
    request_promotion(team("carol"), "toy@1", "candidate")  # one approval needed
    late(
        bob,
        "add_review",
        lambda: review(erin, "toy@1", approve=True, comment="ok", alias="candidate"),
    )
    raced = refusal(lambda: review(bob, "toy@1", approve=True, comment="ok", alias="candidate"))
    assert raced[0] == "no open request to make toy@1 candidate"
    assert raced == refusal(
        lambda: review(bob, "toy@1", approve=True, comment="", alias="candidate")
    )
    (request,) = bob.metadata.requests("toy", 1)
    assert (request.status, [r.reviewer for r in request.reviews]) == ("approved", ["erin"])
    assert actions(bob, "promotion.") == ["promotion.requested", "promotion.approved"]
    assert verify_chain(bob, artifacts=False).ok


def test_two_approvals_at_once_are_both_counted(team: Team) -> None:
    bob, erin = team("bob"), team("erin")
    request_promotion(team("carol"), "toy@3", "candidate")  # two approvals needed
    late(
        bob,
        "add_review",
        lambda: review(erin, "toy@3", approve=True, comment="ok", alias="candidate"),
    )
    # bob saw no approval yet; the store counts erin's, which landed meanwhile.
    assert review(bob, "toy@3", approve=True, comment="ok", alias="candidate").status == "approved"
    assert promote(team("carol"), "toy@3", "candidate").version == 3
    assert verify_chain(bob, artifacts=False).ok


def test_an_approval_after_the_move_does_not_reopen_the_spent_request(team: Team) -> None:
    bob, erin, carol, frank = team("bob"), team("erin"), team("carol"), team("frank")
    request_promotion(frank, "toy@1", "candidate")
    review(erin, "toy@1", approve=True, comment="ok", alias="candidate")
    promote(carol, "toy@1", "candidate")
    request_promotion(frank, "toy@2", "candidate")
    # While bob's approval waits, erin's approves the request, which is spent at once, and
    # the move is rolled back.
    late(
        bob,
        "add_review",
        lambda: (
            review(erin, "toy@2", approve=True, comment="ok", alias="candidate"),
            promote(carol, "toy@2", "candidate"),
            rollback(carol, "toy", "candidate", reason="toy@2 misbehaves"),
        ),
    )
    raced = refusal(lambda: review(bob, "toy@2", approve=True, comment="ok", alias="candidate"))
    assert raced[0] == "no open request to make toy@2 candidate"
    (spent,) = bob.metadata.requests("toy", 2)
    assert spent.status == "done" and [r.reviewer for r in spent.reviews] == ["erin"]
    # So toy@2 does not go back without a new request and approval.
    again = refusal(lambda: promote(carol, "toy@2", "candidate", expected=1))
    assert again[0] == "no approved request to make toy@2 candidate"
    assert carol.metadata.alias_version("toy", "candidate") == 1
    assert verify_chain(carol, artifacts=False).ok


def test_an_approved_request_is_spent_by_one_move(team: Team) -> None:
    erin, carol, frank = team("erin"), team("carol"), team("frank")
    request_promotion(frank, "toy@1", "candidate")
    review(erin, "toy@1", approve=True, comment="ok", alias="candidate")
    promote(carol, "toy@1", "candidate")
    # A second request to make toy@1 candidate, which it already is: compare-and-set passes
    # for both moves below, so only the request tells them apart.
    request = request_promotion(frank, "toy@1", "candidate")
    review(erin, "toy@1", approve=True, comment="ok", alias="candidate")
    late(frank, "move_alias", lambda: promote(carol, "toy@1", "candidate", expected=1))
    raced = refusal(lambda: promote(frank, "toy@1", "candidate", expected=1))
    assert raced[0] == "no approved request to make toy@1 candidate"
    assert raced == refusal(lambda: promote(frank, "toy@1", "candidate", expected=1))
    moves = carol.metadata.alias_moves("toy", "candidate")
    assert [(m.moved_by, m.request_id) for m in moves if m.request_id == request.id] == [
        ("carol", request.id)
    ]
    assert carol.metadata.get_request(request.id).status == "done"
    assert actions(carol, "alias.") == ["alias.moved", "alias.moved"]
    assert verify_chain(carol, artifacts=False).ok


def test_a_request_asked_while_the_one_before_closes_is_timed_after_it(team: Team) -> None:
    carol, erin, frank = team("carol"), team("erin"), team("frank")
    first = request_promotion(carol, "toy@1", "candidate")
    # frank asks while erin's approval closes carol's request: his is written after it, so
    # the times say what happened, one open request after the other.
    late(
        frank,
        "open_request",
        lambda: review(erin, "toy@1", approve=True, comment="", alias="candidate"),
    )
    second = request_promotion(frank, "toy@1", "candidate")
    (approval,) = frank.metadata.get_request(first.id).reviews
    assert approval.at < second.requested_at == frank.metadata.get_request(second.id).requested_at
