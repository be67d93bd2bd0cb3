"""Reading the audit chain back: its events, head and extent, and the rows it vouches for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa

from assay.metadata import schema as t
from assay.metadata.audit import AuditEntry, AuditEventRecord, Sealer, read_events
from assay.metadata.head import KNOWN_KEY, HeadMemo, SealedHead, kept_state, sealed_head
from assay.metadata.state import STATE_TABLES, table_digest

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
    "api_tokens",
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
    _memo: HeadMemo
    sealer: Sealer | None
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

    def audit_page(
        self,
        *,
        after: int = 0,
        limit: int = 100,
        actor: str | None = None,
        action: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[AuditEventRecord]:
        """Up to ``limit`` stored events with ``seq > after``, in order, of ``actor``, of
        ``action`` (``promotion.`` and the like: a prefix when it ends with a dot), in
        [``since``, ``until``)."""
        e = t.audit_events
        q = sa.select(e).where(e.c.seq > after).order_by(e.c.seq).limit(limit)
        if actor is not None:
            q = q.where(e.c.actor == actor)
        if action is not None:
            q = q.where(
                e.c.action.startswith(action) if action.endswith(".") else e.c.action == action
            )
        if since is not None:
            q = q.where(e.c.at >= since)
        if until is not None:
            q = q.where(e.c.at < until)
        with self._read() as conn:
            return [AuditEventRecord(**dict(r)) for r in conn.execute(q).mappings()]

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

    def chain_names(self) -> tuple[str, str]:
        """What names the chain outside the store: the key id its first signed event
        carries and the hash of its first stored event ("" for none), as ``audit verify``
        finds them among the events."""
        e = t.audit_events
        with self._read() as conn:
            key_id = conn.execute(
                sa.select(e.c.key_id).where(e.c.key_id != "").order_by(e.c.seq).limit(1)
            ).scalar()
            first = conn.execute(sa.select(e.c.hash).order_by(e.c.seq).limit(1)).scalar()
        return str(key_id or ""), str(first or "")

    def audit_head(self) -> tuple[int, str]:
        """The head row: the newest event's sequence number and hash."""
        seq, digest, _ = self.audit_extent()[:3]
        return seq, digest

    def audit_extent(self) -> tuple[int, str, str, int, int]:
        """The head row's ``seq``, hash and key id, with how many events are stored and the
        highest ``seq`` among them: on an intact chain both equal the head's ``seq``."""
        # One statement, so one snapshot on every database: a writer committing meanwhile
        # never makes the count and the head disagree.
        with self._read() as conn:
            row = conn.exec_driver_sql(
                "SELECT h.seq, h.hash, h.key_id, (SELECT count(*) FROM audit_events), "
                "(SELECT max(seq) FROM audit_events) FROM audit_head h WHERE h.id = 1"
            ).first()
        if row is None:
            return 0, "", "", 0, 0
        return int(row[0]), str(row[1]), str(row[2] or ""), int(row[3] or 0), int(row[4] or 0)

    def known_head(self) -> SealedHead | None:
        """The head this process last committed to this database (None: none yet): what it
        sealed needs no reading back while the head row still names it."""
        return self._memo.head

    def governance_state(self, tables: Sequence[str] = STATE_TABLES) -> dict[str, str]:
        """The digest of each governance table (or of ``tables``) as its rows are now (see
        metadata.state)."""
        with self._read() as conn:
            return {name: table_digest(conn, name) for name in tables}

    def kept_state(self) -> dict[str, str]:
        """The governance state kept beside the head: what the last change computed."""
        with self._read() as conn:
            text = conn.exec_driver_sql("SELECT state FROM audit_head WHERE id = 1").scalar()
            return kept_state(text)

    def checked_head(self) -> SealedHead:
        """The head of the chain checked as a writer checks it before appending (see
        :func:`~assay.metadata.head.sealed_head`), for a decision to rest on; the state kept
        beside it is returned as found, for the caller to compare with the sealed one.

        Raises:
            TamperedError: the chain's end or event 1 were changed outside assay.
            AuditError: the artifacts belong to another chain, or the key or the
                checkpoints cannot be read.
        """
        with self._read() as conn:
            conn.info[KNOWN_KEY] = self._memo.head
            try:
                return sealed_head(conn, self.sealer, lock=False, deciding=True)
            finally:
                conn.info.pop(KNOWN_KEY, None)

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
