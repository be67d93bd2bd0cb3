"""API tokens: who may issue, list and revoke them, what a presented token stands for, the
role it may act with, and every change in the audit chain with how the actor was known."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from assay.audit import verify_chain
from assay.chain import read_sealed
from assay.errors import AuthenticationError, GovernanceError, PermissionDenied
from assay.governance import (
    authenticate,
    grant,
    issue_token,
    list_tokens,
    revoke_token,
)
from assay.workspace import Workspace

AsUser = Callable[[str], Workspace]


@pytest.fixture
def team(as_user: AsUser) -> AsUser:
    """ann is the store's admin; bob an approver; carol a developer."""
    ann = as_user("ann")
    grant(ann, "ann", "admin")
    grant(ann, "bob", "approver")
    grant(ann, "carol", "developer")
    return as_user


def test_an_admin_issues_a_token_shown_once_and_stored_as_a_digest(team: AsUser) -> None:
    ann = team("ann")
    issued = issue_token(ann, "bob", "approver", days=30, note="laptop")
    record = issued.record
    assert issued.token.startswith(f"assay_{record.id}_")
    secret = issued.token.removeprefix(f"assay_{record.id}_")  # it may hold "_" itself
    assert secret not in repr(record) and len(record.secret_sha256) == 64
    assert (record.user, record.role, record.created_by, record.note) == (
        "bob",
        "approver",
        "ann",
        "laptop",
    )
    assert 29.9 * 86_400 < record.expires_at - record.created_at <= 30 * 86_400
    assert ann.metadata.token(record.id) == record
    principal = authenticate(ann, issued.token)
    assert (principal.user, principal.role) == ("bob", "approver")
    assert principal.via == {"kind": "token", "id": record.id}


def test_a_user_issues_their_own_tokens_only_for_roles_they_hold(team: AsUser) -> None:
    carol = team("carol")
    mine = issue_token(carol, "carol", "developer")
    assert authenticate(carol, mine.token).user == "carol"
    with pytest.raises(PermissionDenied, match="carol does not hold the approver role"):
        issue_token(carol, "carol", "approver")
    with pytest.raises(PermissionDenied, match="that needs the admin role"):
        issue_token(carol, "bob", "approver")
    with pytest.raises(GovernanceError, match="unknown role 'root'"):
        issue_token(team("ann"), "bob", "root")
    with pytest.raises(GovernanceError, match="not 400"):
        issue_token(team("ann"), "bob", "viewer", days=400)


def test_revoked_expired_unknown_and_malformed_tokens_are_refused(team: AsUser) -> None:
    ann, carol = team("ann"), team("carol")
    issued = issue_token(ann, "carol", "developer", days=1)
    assert authenticate(ann, issued.token).user == "carol"
    with pytest.raises(AuthenticationError, match="expired"):
        authenticate(ann, issued.token, now=time.time() + 2 * 86_400)
    forged = issued.token[:-4] + ("AAAA" if not issued.token.endswith("AAAA") else "BBBB")
    with pytest.raises(AuthenticationError, match="not known here"):
        authenticate(ann, forged)
    with pytest.raises(AuthenticationError, match="not an assay token"):
        authenticate(ann, "Bearer nonsense")
    revoked = revoke_token(carol, issued.record.id)  # its holder may revoke it
    assert revoked.revoked_by == "carol" and revoked.revoked_at is not None
    with pytest.raises(AuthenticationError, match="revoked by carol"):
        authenticate(ann, issued.token)
    assert revoke_token(ann, issued.record.id).revoked_by == "carol"  # again: unchanged
    with pytest.raises(GovernanceError, match="no token 'feedfeedfeed'"):
        revoke_token(ann, "feedfeedfeed")


def test_only_admins_see_or_revoke_other_users_tokens(team: AsUser) -> None:
    ann, bob, carol = team("ann"), team("bob"), team("carol")
    bobs = issue_token(ann, "bob", "approver")
    carols = issue_token(carol, "carol", "developer")
    assert [t.id for t in list_tokens(carol, "carol")] == [carols.record.id]
    assert {t.id for t in list_tokens(ann)} == {bobs.record.id, carols.record.id}
    with pytest.raises(PermissionDenied, match="that needs the admin role"):
        list_tokens(carol)
    with pytest.raises(PermissionDenied, match="revoke bob's tokens"):
        revoke_token(carol, bobs.record.id)
    assert authenticate(bob, bobs.token).user == "bob"


def test_a_token_acts_with_its_own_role_only(team: AsUser) -> None:
    ann = team("ann")
    reader = issue_token(ann, "ann", "viewer")  # an admin's token for a dashboard
    acting = authenticate(ann, reader.token).workspace(ann)
    assert acting.user == "ann" and acting.ceiling == "viewer"
    with pytest.raises(PermissionDenied, match="it carries the viewer role"):
        grant(acting, "dave", "developer")
    full = authenticate(ann, issue_token(ann, "ann", "admin").token).workspace(ann)
    assert grant(full, "dave", "developer")


def test_token_changes_are_sealed_with_how_their_actor_was_known(team: AsUser) -> None:
    ann = team("ann")
    issued = issue_token(ann, "carol", "developer")
    acting = authenticate(ann, issued.token).workspace(ann)
    revoke_token(acting, issued.record.id)
    subject = f"token:{issued.record.id}"
    events = {e.action: e for e in read_sealed(ann, [subject])}
    created, revoked = events["token.created"], events["token.revoked"]
    assert created.actor == "ann" and created.via is None  # declared, on a local store
    assert created.payload["secret_sha256"] == issued.record.secret_sha256
    assert issued.token.removeprefix(f"assay_{issued.record.id}_") not in str(created.payload)
    assert revoked.actor == "carol"
    assert revoked.via == {"kind": "token", "id": issued.record.id}
    assert verify_chain(ann).ok


def test_a_chain_sealed_before_tokens_existed_takes_its_first_token(
    as_user: AsUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assay.metadata.audit as audit_module

    older = tuple(name for name in audit_module.STATE_TABLES if name != "api_tokens")
    with monkeypatch.context() as patch:  # the state tables as an earlier assay sealed them
        patch.setattr(audit_module, "STATE_TABLES", older)
        ann = as_user("ann")
        grant(ann, "ann", "admin")
        assert "api_tokens" not in ann.metadata.kept_state()
    issued = issue_token(ann, "bob", "viewer")
    assert "api_tokens" in ann.metadata.kept_state()
    assert authenticate(ann, issued.token).user == "bob"
    assert verify_chain(ann).ok


def test_a_token_written_into_the_database_behind_assays_back_is_refused(
    team: AsUser,
) -> None:
    import sqlalchemy as sa

    ann = team("ann")
    issue_token(ann, "carol", "developer")
    forged = issue_token(ann, "bob", "approver")
    with ann.metadata.engine.begin() as conn:  # an attacker with the database's password
        conn.execute(
            sa.text("UPDATE api_tokens SET role = 'admin' WHERE id = :id"), {"id": forged.record.id}
        )
    from assay.chain import check_state
    from assay.errors import TamperedError

    with pytest.raises(TamperedError, match="api_tokens"):
        check_state(ann, ["api_tokens"])
    with pytest.raises(TamperedError, match="api_tokens"):
        issue_token(ann, "carol", "viewer")  # nothing more is written over it
