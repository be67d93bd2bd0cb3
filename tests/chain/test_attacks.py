"""Attacks by whoever can write the database (not the key, not the checkpoints): a
rollback to an older copy, an edited event 1, an emptied chain, each with a revoked admin
trying to act again. Each is refused, by decisions and by honest writers alike, in this
process and in a new one."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from assay import Settings
from assay.errors import AuditError, TamperedError
from assay.governance import grant, revoke
from assay.metadata import AuditEntry
from assay.metadata.engine import _shared_memo
from assay.workspace import Workspace, open_workspace


def _db(settings: Settings) -> str:
    return settings.db_url.removeprefix("sqlite:///")


@pytest.fixture
def rolled_back(settings: Settings, tmp_path: Path) -> Settings:
    """mallory was made admin, then revoked; the database is then put back to a copy taken
    before the revocation, so the grant is there again and the revocation gone."""
    ws = open_workspace(settings)
    grant(ws, "mallory", "admin")  # alice claims admin first
    ws.close()
    snapshot = tmp_path / "snapshot.db"
    with sqlite3.connect(_db(settings)) as source, sqlite3.connect(snapshot) as copy:
        source.backup(copy)
    ws = open_workspace(settings)
    revoke(ws, "mallory", "admin")
    grant(ws, "bob", "viewer")
    ws.close()
    with sqlite3.connect(snapshot) as copy, sqlite3.connect(_db(settings)) as target:
        copy.backup(target)
    return settings


def _edit(settings: Settings, *statements: str) -> None:
    with sqlite3.connect(_db(settings), isolation_level=None) as conn:
        for statement in statements:
            conn.execute(statement)


def _mallory(settings: Settings) -> Workspace:
    _shared_memo.cache_clear()  # a new process: it knows no head of its own
    return open_workspace(settings.as_user("mallory"))


EDITS: dict[str, Callable[[Settings], None]] = {
    "rollback": lambda s: None,
    "rollback-and-event-1-edited": lambda s: _edit(
        s, "UPDATE audit_events SET hash = '" + "0" * 64 + "' WHERE seq = 1"
    ),
    "rollback-and-chain-emptied": lambda s: _edit(
        s,
        "DELETE FROM audit_events",
        "UPDATE audit_head SET seq = 0, hash = '" + "0" * 64 + "', state = NULL",
    ),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_revoked_admin_cannot_act_on_a_database_put_back(
    rolled_back: Settings, edit: str
) -> None:
    EDITS[edit](rolled_back)
    mallory = _mallory(rolled_back)
    try:
        with pytest.raises(AuditError):
            grant(mallory, "eve", "admin")
        assert {(g.user, g.role) for g in mallory.metadata.role_grants()} == {
            ("alice", "admin"),
            ("mallory", "admin"),
        }
    finally:
        mallory.close()


@pytest.mark.parametrize("edit", list(EDITS))
def test_honest_writers_do_not_build_on_a_database_put_back(
    rolled_back: Settings, edit: str
) -> None:
    EDITS[edit](rolled_back)
    _shared_memo.cache_clear()
    honest = open_workspace(rolled_back)
    try:
        head = honest.metadata.audit_head()
        for i in range(2):  # a monitor, say, that takes no decision
            with pytest.raises(AuditError):
                honest.metadata.record_event(AuditEntry("deployment.written", f"x:{i}"), "alice")
        assert honest.metadata.audit_head() == head
    finally:
        honest.close()
    mallory = _mallory(rolled_back)
    try:
        with pytest.raises(AuditError):
            grant(mallory, "eve", "admin")
    finally:
        mallory.close()


def test_a_rollback_is_named_as_events_cut_off(rolled_back: Settings) -> None:
    mallory = _mallory(rolled_back)
    try:
        with pytest.raises(
            TamperedError,
            match="ends at event 2, but a checkpoint outside the store names event 4: events were cut off",
        ):
            grant(mallory, "eve", "admin")
    finally:
        mallory.close()


def test_a_writer_committing_during_a_check_is_not_taken_for_tampering(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = open_workspace(settings)
    grant(ws, "bob", "developer")
    other = open_workspace(settings)
    read = ws.metadata.governance_state
    committed: list[str] = []

    def racing(tables: list[str]) -> dict[str, str]:
        if not committed:  # an honest writer commits between the head and the tables
            other.metadata.grant_role("carol", "viewer", "alice")
            committed.append("carol")
        return read(tables)

    monkeypatch.setattr(ws.metadata, "governance_state", racing)
    grant(ws, "dave", "viewer")
    assert committed and {g.user for g in ws.metadata.role_grants()} >= {"carol", "dave"}
    ws.close()
    other.close()
