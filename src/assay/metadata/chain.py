"""Reading the audit chain back: its events, head and extent, and the rows it vouches for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa

from assay.metadata import schema as t
from assay.metadata.audit import AuditEntry, AuditEventRecord, read_events
from assay.metadata.head import HeadMemo, SealedHead, kept_state
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
        with self._read() as conn:
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            found = conn.exec_driver_sql(
                f"SELECT 1 FROM audit_events WHERE action = {mark} LIMIT 1",  # noqa: S608
                (action,),
            ).first()
        return found is not None

    def audit_head(self) -> tuple[int, str]:
        """The head row: the newest event's sequence number and hash."""
        seq, digest, _ = self.audit_extent()[:3]
        return seq, digest

    def audit_extent(self) -> tuple[int, str, str, int, int]:
        """The head row's ``seq``, hash and key id, with how many events are stored and the
        highest ``seq`` among them: on an intact chain both equal the head's ``seq``."""
        with self._read() as conn:
            return self._extent(conn)

    @staticmethod
    def _extent(conn: sa.Connection) -> tuple[int, str, str, int, int]:
        # One statement, so one snapshot on every database: a writer committing meanwhile
        # never makes the count and the head disagree.
        row = conn.exec_driver_sql(
            "SELECT h.seq, h.hash, h.key_id, (SELECT count(*) FROM audit_events), "
            "(SELECT max(seq) FROM audit_events) FROM audit_head h WHERE h.id = 1"
        ).first()
        if row is None:
            return 0, "", "", 0, 0
        return int(row[0]), str(row[1]), str(row[2] or ""), int(row[3] or 0), int(row[4] or 0)

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

    def chain_origin(self) -> tuple[str, str]:
        """The chain's key id (from the head row) and event 1's hash; empty when none."""
        with self._read() as conn:
            row = conn.exec_driver_sql(
                "SELECT h.key_id, (SELECT hash FROM audit_events WHERE seq = 1) "
                "FROM audit_head h WHERE h.id = 1"
            ).first()
        return (str(row[0] or ""), str(row[1] or "")) if row else ("", "")

    def known_head(self) -> SealedHead | None:
        """The head this process last committed to this database (None: none yet): what it
        sealed needs no reading back while the head row still names it."""
        return self._memo.head

    def audit_tail(
        self, seqs: Sequence[int] = (), *, unless: tuple[int, str] | None = None
    ) -> tuple[tuple[int, str, str, int, int], str | None, dict[int, AuditEventRecord]]:
        """:meth:`audit_extent` with the state kept beside the head, then the events the
        extent names as the head (not when it is ``unless``, a head already known) and
        those numbered ``seqs``: what a decision checks the chain's end with, in two
        statements of one connection."""
        wanted = {int(s) for s in seqs if s > 0}
        with self._read() as conn:
            row = conn.exec_driver_sql(
                "SELECT h.seq, h.hash, h.key_id, (SELECT count(*) FROM audit_events), "
                "(SELECT max(seq) FROM audit_events), h.state FROM audit_head h WHERE h.id = 1"
            ).first()
            if row is None:
                return (0, "", "", 0, 0), None, {}
            extent = (
                int(row[0]),
                str(row[1]),
                str(row[2] or ""),
                int(row[3] or 0),
                int(row[4] or 0),
            )
            if unless != (extent[0], extent[1]):
                wanted.add(extent[0])
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            numbers = sorted(n for n in wanted if n > 0)
            found: dict[int, AuditEventRecord] = {}
            if numbers:
                columns = (
                    "seq, at, actor, action, subject, body, prev_hash, hash, signature, key_id"
                )
                rows = conn.exec_driver_sql(
                    f"SELECT {columns} FROM audit_events "  # noqa: S608 - marks only
                    f"WHERE seq IN ({', '.join([mark] * len(numbers))})",
                    tuple(numbers),
                )
                for event in rows:
                    found[int(event[0])] = AuditEventRecord(*event)
        return extent, row[5], found

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
