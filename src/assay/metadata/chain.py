"""Reading the audit chain back: its events, head and extent, and the rows it vouches for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa

from assay.metadata import schema as t
from assay.metadata.audit import AuditEntry, AuditEventRecord, read_events
from assay.metadata.state import STATE_TABLES, kept_state, table_digest

__all__ = ["SEALED_TABLES", "ChainRecords"]

SEALED_TABLES = (
    "runs",
    "executions",
    "events",
    "artifacts",
    "models",
    "model_versions",
    "gate_verdicts",
    "role_grants",
    "model_aliases",
    "alias_moves",
    "promotion_requests",
    "reviews",
    "alerts",
    "retrains",
)
"""The tables whose rows audit events record, and so the tables ``audit verify`` compares."""


class ChainRecords:
    """The audit chain part of the metadata store (mixed into ``MetadataStore``)."""

    _read: Callable[[], AbstractContextManager[sa.Connection]]
    _write: Callable[[], AbstractContextManager[sa.Connection]]
    audit: Callable[..., None]

    def store_id(self) -> str:
        """The store's random identity, made when it was created."""
        return self._info("store_id")

    def audit_since(self) -> float:
        """When the audit chain began: 0 for a store that had it from the start, else the
        time the store was migrated to a schema with it."""
        return float(self._info("audit_since") or 0)

    def _info(self, key: str) -> str:
        with self._read() as conn:
            value = conn.execute(
                sa.select(t.store_info.c.value).where(t.store_info.c.key == key)
            ).scalar()
        return str(value or "")

    def audit_events(self, after: int = 0, limit: int | None = None) -> list[AuditEventRecord]:
        """Stored audit events with ``seq > after``, in order."""
        with self._read() as conn:
            return read_events(conn, after, limit)

    def audit_events_about(
        self, subjects: Sequence[str], actions: Sequence[str] | None = None
    ) -> list[AuditEventRecord]:
        """Stored events about any of ``subjects`` (of ``actions`` only, if given), in order."""
        e = t.audit_events
        q = sa.select(e).where(e.c.subject.in_(list(subjects))).order_by(e.c.seq)
        if actions is not None:
            q = q.where(e.c.action.in_(list(actions)))
        with self._read() as conn:
            return [AuditEventRecord(**dict(r)) for r in conn.execute(q).mappings()]

    def audit_events_at(self, seqs: Sequence[int]) -> list[AuditEventRecord]:
        """The stored events numbered ``seqs`` (those that exist), in order."""
        e = t.audit_events
        q = sa.select(e).where(e.c.seq.in_(list(seqs))).order_by(e.c.seq)
        with self._read() as conn:
            return [AuditEventRecord(**dict(r)) for r in conn.execute(q).mappings()]

    def has_audit_events(self, action: str) -> bool:
        """Whether the chain holds any event of ``action``."""
        e = t.audit_events
        with self._read() as conn:
            return (
                conn.execute(sa.select(e.c.seq).where(e.c.action == action).limit(1)).first()
                is not None
            )

    def audit_head(self) -> tuple[int, str]:
        """The head row: the newest event's sequence number and hash."""
        seq, digest, _ = self.audit_extent()[:3]
        return seq, digest

    def audit_extent(self) -> tuple[int, str, str, int, int]:
        """The head row's ``seq``, hash and key id, with how many events are stored and the
        highest ``seq`` among them: on an intact chain both equal the head's ``seq``."""
        h, e = t.audit_head, t.audit_events
        # One statement, so one snapshot on every database: a writer committing meanwhile
        # never makes the count and the head disagree.
        count = sa.select(sa.func.count()).select_from(e).scalar_subquery()
        top = sa.select(sa.func.max(e.c.seq)).scalar_subquery()
        query = sa.select(h.c.seq, h.c.hash, h.c.key_id, count, top).where(h.c.id == 1)
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return 0, "", "", 0, 0
        return int(row[0]), str(row[1]), str(row[2] or ""), int(row[3] or 0), int(row[4] or 0)

    def governance_state(self) -> dict[str, str]:
        """The digest of each governance table as its rows are now (see metadata.state)."""
        with self._read() as conn:
            return {name: table_digest(conn, name) for name in STATE_TABLES}

    def kept_state(self) -> dict[str, str]:
        """The governance state kept beside the head: what the last change computed."""
        with self._read() as conn:
            text = conn.execute(sa.select(t.audit_head.c.state).where(t.audit_head.c.id == 1))
            return kept_state(text.scalar())

    def sealed_rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of ``table``, one of :data:`SEALED_TABLES`, as column to value, in the
        order of its primary key."""
        if table not in SEALED_TABLES:
            raise ValueError(f"{table!r} is not a table the audit chain records")
        found = t.metadata.tables[table]
        with self._read() as conn:
            q = sa.select(found).order_by(*found.primary_key.columns)
            return [dict(r) for r in conn.execute(q).mappings()]

    def record_event(self, entry: AuditEntry, actor: str) -> None:
        """Append one audit event for a change made outside the database (bytes deleted, a
        deployment written)."""
        with self._write() as conn:
            self.audit(conn, [entry], actor)
