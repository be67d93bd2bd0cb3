"""Decisions rest on sealed facts: the chain's end and the governance tables are checked
before any role, verdict or approval is read, by this process and by a new one alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from assay import Settings
from assay.chain import check_head, check_state
from assay.core import sha256_hex
from assay.errors import TamperedError
from assay.governance import grant
from assay.metadata import AuditEntry, event_body
from assay.metadata.engine import _shared_memo
from assay.workspace import Workspace, open_workspace


@pytest.fixture
def ws(settings: Settings) -> Iterator[Workspace]:
    opened = open_workspace(settings)
    grant(opened, "bob", "approver")  # alice claims admin, then grants
    grant(opened, "carol", "viewer")
    yield opened
    opened.close()


def sql(ws: Workspace, statement: str, **params: object) -> None:
    with ws.metadata.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def as_a_new_process(ws: Workspace, settings: Settings) -> Workspace:
    # What another process knows of the head: nothing it did not read back and check.
    _shared_memo.cache_clear()
    fresh = open_workspace(settings)
    assert fresh.metadata.known_head() is None
    ws.close()
    return fresh


@pytest.mark.parametrize("fresh", [False, True], ids=["this-process", "new-process"])
def test_a_cut_tail_is_refused(ws: Workspace, settings: Settings, fresh: bool) -> None:
    head = ws.metadata.audit_head()[0]
    before = ws.metadata.audit_events(head - 2, 1)[0]
    sql(ws, "DELETE FROM audit_events WHERE seq >= :s", s=head)
    sql(ws, "UPDATE audit_head SET seq = :s, hash = :h", s=before.seq, h=before.hash)
    if fresh:
        ws = as_a_new_process(ws, settings)
    with pytest.raises(TamperedError, match=f"names event {head}: events were cut off the end"):
        check_state(ws)


@pytest.mark.parametrize("fresh", [False, True], ids=["this-process", "new-process"])
def test_an_edited_grant_is_refused(ws: Workspace, settings: Settings, fresh: bool) -> None:
    sql(ws, "UPDATE role_grants SET role = 'admin' WHERE user = 'carol'")
    if fresh:
        ws = as_a_new_process(ws, settings)
    with pytest.raises(
        TamperedError, match="role_grants carol/(viewer: the row is gone|admin: no audit event)"
    ):
        check_state(ws, ["role_grants"])
    check_state(ws, ["gate_verdicts"])  # a decision that does not read the grants goes on


def test_digests_kept_beside_the_head_edited_are_refused_by_a_new_process(
    ws: Workspace, settings: Settings
) -> None:
    sql(ws, "UPDATE audit_head SET state = '{}'")
    ws = as_a_new_process(ws, settings)
    with pytest.raises(TamperedError, match="role_grants"):
        check_state(ws, ["role_grants"])


def test_an_event_forged_after_the_head_is_refused(ws: Workspace) -> None:
    seq, digest = ws.metadata.audit_head()
    body = event_body(seq + 1, 1.0, "mallory", AuditEntry("role.granted", "user:m", {}), digest)
    forged = sha256_hex(body.encode())
    sql(
        ws,
        "INSERT INTO audit_events (seq, at, actor, action, subject, body, prev_hash, hash) "
        "VALUES (:s, 1.0, 'mallory', 'role.granted', 'user:m', :b, :p, :h)",
        s=seq + 1, b=body, p=digest, h=forged,
    )  # fmt: skip
    sql(ws, "UPDATE audit_head SET seq = :s, hash = :h", s=seq + 1, h=forged)
    with pytest.raises(TamperedError, match=f"audit event {seq + 1}, .*it is not signed"):
        check_head(ws)
    with pytest.raises(TamperedError):  # and nothing is written after it
        ws.metadata.grant_role("dave", "viewer", "alice")


def test_an_untouched_store_is_decided_on_by_any_process(ws: Workspace, settings: Settings) -> None:
    check_state(ws)
    ws = as_a_new_process(ws, settings)
    head = check_head(ws)
    assert head is not None and head.state is not None
    check_state(ws)


def test_a_checkpoint_written_while_a_decision_reads_is_not_taken_for_a_cut(
    ws: Workspace, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process commits an event and checkpoints it between this reader's reading the
    # head and its reading the checkpoints: the checkpoint is ahead of the snapshot, not of
    # the chain.
    other = open_workspace(settings)
    sealer = ws.metadata.sealer
    assert sealer is not None
    latest = sealer.latest_checkpoint
    raced: list[int] = []

    def racing(key_id: str, first: str) -> object:
        if not raced:
            raced.append(1)
            grant(other, "dave", "viewer")
        return latest(key_id, first)

    monkeypatch.setattr(sealer, "latest_checkpoint", racing)
    _shared_memo.cache_clear()  # read as another process would, not from this one's memo
    fresh = open_workspace(settings)
    try:
        monkeypatch.setattr(fresh.metadata.sealer, "latest_checkpoint", racing)
        head = check_head(fresh)
        assert raced and head is not None and head.seq == other.metadata.audit_head()[0]
    finally:
        fresh.close()
        other.close()
