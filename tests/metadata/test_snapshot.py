"""A snapshot of the metadata store: every read in it sees the database at one moment."""

from __future__ import annotations

import pytest

from assay.metadata import MetadataStore


# An in-memory SQLite database is one connection, which the snapshot holds: no other
# connection could commit beside it, so only databases with a file or a server are asked.
@pytest.mark.parametrize("db_url", ["sqlite-file", "postgres"], indirect=True)
def test_a_snapshot_reads_one_state_while_others_commit(meta: MetadataStore) -> None:
    meta.grant_role("ann", "admin", "ann")
    with meta.snapshot() as seen:
        head, roles = seen.audit_head(), seen.role_grants()
        meta.grant_role("bob", "viewer", "ann")  # commits through another connection
        assert seen.audit_head() == head and seen.role_grants() == roles
        assert [e.seq for e in seen.audit_events()][-1] == head[0]
        assert seen.governance_state() != meta.governance_state()
    assert meta.audit_head()[0] == head[0] + 1
    assert [g.user for g in meta.role_grants()] == ["ann", "bob"]


def test_a_snapshot_writes_nothing(meta: MetadataStore) -> None:
    with meta.snapshot() as seen:
        assert seen.audit_head()[0] == 0
        with pytest.raises(RuntimeError, match="only reads"):
            seen.grant_role("ann", "admin", "ann")
    assert meta.role_grants() == [] and meta.audit_head()[0] == 0
