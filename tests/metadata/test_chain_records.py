"""Reading the chain back, and the governance state it seals, on every database."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from assay.errors import TamperedError
from assay.metadata import GENESIS, MetadataStore
from assay.metadata.state import STATE_TABLES, state_digest


def test_the_extent_and_the_events_about_a_subject(meta: MetadataStore) -> None:
    assert meta.audit_extent() == (0, GENESIS, "", 0, 0)
    meta.grant_role("ann", "admin", "ann")
    meta.grant_role("bo", "viewer", "ann")
    meta.revoke_role("bo", "viewer", "ann")
    seq, digest, _, count, top = meta.audit_extent()
    assert (seq, count, top) == (3, 3, 3) and digest == meta.audit_events()[-1].hash
    assert [e.action for e in meta.audit_events_about(["user:bo"])] == [
        "role.granted",
        "role.revoked",
    ]
    assert [e.seq for e in meta.audit_events_about(["user:bo"], ["role.revoked"])] == [3]
    head = meta.checked_head()
    assert (head.seq, head.hash, head.first) == (3, digest, meta.audit_events()[0].hash)
    assert head.kept == meta.kept_state() and head.sealed == state_digest(head.kept)
    assert [(r["user"], r["role"]) for r in meta.sealed_rows("role_grants")] == [("ann", "admin")]
    with pytest.raises(ValueError, match="not a table the audit chain records"):
        meta.sealed_rows("labels")


@pytest.mark.parametrize(
    ("change", "found"),
    [
        ("DELETE FROM audit_events WHERE seq = 2", "holds 2 events up to event 3"),
        ("UPDATE audit_head SET seq = 2 WHERE id = 1", "holds 3 events up to event 3"),
        ("DELETE FROM audit_events WHERE seq = 3", "holds 2 events up to event 2"),
    ],
)
def test_a_decision_finds_events_removed_or_the_head_moved(
    meta: MetadataStore, change: str, found: str
) -> None:
    meta.grant_role("ann", "admin", "ann")
    meta.grant_role("bo", "viewer", "ann")
    meta.grant_role("cy", "viewer", "ann")
    with meta.engine.begin() as conn:
        conn.execute(sa.text(change))
    with pytest.raises(TamperedError, match=found):
        meta.checked_head()


def test_every_event_seals_the_governance_state_as_it_stands(meta: MetadataStore) -> None:
    meta.grant_role("ann", "admin", "ann")
    now = meta.governance_state()
    assert set(now) == set(STATE_TABLES)
    assert meta.kept_state() == now
    body = json.loads(meta.audit_events()[-1].body)
    assert body["state"] == state_digest(now)


def test_a_governance_table_changed_outside_is_never_sealed_over(meta: MetadataStore) -> None:
    meta.grant_role("ann", "admin", "ann")
    with meta.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO role_grants VALUES ('mal', 'admin', 'ann', 1.0)"))
    head = meta.audit_head()
    with pytest.raises(TamperedError, match="table role_grants differs from what audit event 1"):
        meta.grant_role("cy", "viewer", "ann")
    assert meta.audit_head() == head
    assert {g.user for g in meta.role_grants()} == {"ann", "mal"}
