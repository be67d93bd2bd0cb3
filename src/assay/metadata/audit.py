"""The audit chain's records: appending hash-linked, signed events inside a write transaction."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa

from assay.core import canonical_json, sha256_hex
from assay.metadata import schema as t
from assay.metadata.head import (
    KNOWN_KEY,
    Checkpointed,
    SealedHead,
    sealed_head,
    state_digest,
)
from assay.metadata.state import LOCKED_KEY, STATE_TABLES, table_digest, tables_of

__all__ = ["GENESIS", "AuditEntry", "AuditEventRecord", "Sealer", "append_audit", "event_body"]

# The hash the first event names as its predecessor.
GENESIS = "0" * 64

# Where a write transaction leaves the head it produced, for the checkpoint after commit.
HEAD_KEY = "assay_audit_head"


class Sealer(Protocol):
    """Anchors the chain outside the database: signs event hashes, keeps checkpoints."""

    @property
    def key_id(self) -> str:
        """Identifier of the signing key (a digest of its public half)."""
        ...

    def prepare(self, expected_key_id: str | None) -> None:
        """Get ready to sign a chain signed so far with ``expected_key_id`` (None: not yet).

        Raises:
            AuditError: the key is missing or is not the one the chain is signed with.
        """
        ...

    def sign(self, digest: str) -> str:
        """Signature of an event hash."""
        ...

    def verify(self, digest: str, signature: str) -> bool:
        """Whether ``signature`` is the prepared key's signature of an event hash."""
        ...

    def checkpoint(self, seq: int, digest: str, first: str) -> None:
        """Record, outside the database, that event ``seq`` of the chain whose event 1 has
        hash ``first`` has hash ``digest``."""
        ...

    def latest_checkpoint(self, key_id: str, first: str) -> Checkpointed | None:
        """The newest checkpoint of that chain, or None.

        Raises:
            AuditError: the checkpoints cannot be read.
        """
        ...

    def begin_chain(self) -> None:
        """Called before event 1 of a chain is written.

        Raises:
            AuditError: the store's artifacts belong to another chain (a lost database).
        """
        ...

    def check_chain(self, first: str) -> None:
        """Called with a chain's event 1 hash before anything is written after its head.

        Raises:
            AuditError: the store's artifacts belong to another chain (a replaced database).
        """
        ...


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One state change to append: what happened, to what, with the details."""

    action: str
    subject: str
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditEventRecord:
    """One stored audit event, as read back (any column may have been tampered with)."""

    seq: int
    at: float
    actor: str
    action: str
    subject: str
    body: str
    prev_hash: str
    hash: str
    signature: str | None
    key_id: str | None


def event_body(
    seq: int,
    at: float,
    actor: str,
    entry: AuditEntry,
    prev: str,
    state: str | None = None,
    via: Mapping[str, str] | None = None,
) -> str:  # the text that is hashed and signed
    """The canonical JSON an event's hash covers; ``state`` is the digest of the
    governance state as of the event (see :mod:`assay.metadata.state`), ``via`` how the
    actor's identity was established (absent: declared)."""
    body: dict[str, Any] = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": entry.action,
        "subject": entry.subject,
        "payload": dict(entry.payload),
        "prev": prev,
    }
    if state is not None:
        body["state"] = state
    if via:
        body["via"] = dict(via)
    return canonical_json(body)


def append_audit(
    conn: sa.Connection,
    actor: str,
    entries: Sequence[AuditEntry],
    sealer: Sealer | None,
    via: Mapping[str, str] | None = None,
) -> None:
    """Append ``entries`` to the chain inside ``conn``'s transaction.

    The head row is locked first (``FOR UPDATE`` on PostgreSQL; SQLite's write transactions
    already exclude each other), so concurrent writers extend one chain instead of forking it.
    The head event is checked before anything is added after it, and the events seal the
    governance state: recomputed for the tables these events change (which the transaction
    checked with :func:`~assay.metadata.state.lock_state` before changing them), carried
    over from the head for the rest.

    Raises:
        TamperedError: the head event or the governance state were changed outside assay.
    """
    if not entries:
        return
    # Plain SQL through the driver: appending is on every write's path, and building the
    # statements with SQLAlchemy each time would cost more than the database's own work.
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    head = sealed_head(conn, sealer, lock=True)
    seq, prev, chain_key = head.seq, head.hash, head.key_id
    first = head.first  # event 1's hash, with the key id, names the chain and its checkpoints
    changed = tables_of(e.action for e in entries)
    unchecked = set(changed) - conn.info.get(LOCKED_KEY, set())
    if unchecked:  # a write path that would seal its own tables unchecked: a bug, not a user's
        raise RuntimeError(f"state tables {sorted(unchecked)} changed without lock_state")
    # A chain that seals no state yet (a new one, or one begun before revision 0007) starts
    # sealing it now, as the tables are.
    recompute = changed if head.sealed is not None else STATE_TABLES
    state, kept = head.sealed, head.kept
    if recompute:
        kept = {**head.kept, **{name: table_digest(conn, name) for name in recompute}}
        state = state_digest(kept)
        conn.exec_driver_sql(
            f"UPDATE audit_head SET state = {mark} WHERE id = 1",  # noqa: S608
            (canonical_json(kept),),
        )
    now = time.time()
    rows = []
    for entry in entries:
        seq += 1
        body = event_body(seq, now, actor, entry, prev, state, via)
        digest = sha256_hex(body.encode())
        signature = sealer.sign(digest) if sealer else None
        key_id = sealer.key_id if sealer else None
        rows.append(
            (seq, now, actor, entry.action, entry.subject, body, prev, digest, signature, key_id)
        )
        prev = digest
        if seq == 1:
            first = digest
    columns = "seq, at, actor, action, subject, body, prev_hash, hash, signature, key_id"
    conn.exec_driver_sql(
        f"INSERT INTO audit_events ({columns}) VALUES ({', '.join([mark] * 10)})",  # noqa: S608
        rows,
    )
    conn.exec_driver_sql(
        f"UPDATE audit_head SET seq = {mark}, hash = {mark}, key_id = {mark} WHERE id = 1",  # noqa: S608
        (seq, prev, sealer.key_id if sealer else chain_key),
    )
    conn.info[HEAD_KEY] = (seq, prev, first)
    conn.info[KNOWN_KEY] = SealedHead(
        seq, prev, sealer.key_id if sealer else chain_key, state, kept, first
    )


def take_head(conn: sa.Connection) -> tuple[int, str, str] | None:
    """The head a finished transaction appended, if any (and forget it): its ``seq``, its
    hash, and the hash of the chain's event 1."""
    head: tuple[int, str, str] | None = conn.info.pop(HEAD_KEY, None)
    conn.info.pop(LOCKED_KEY, None)
    return head


def take_known(conn: sa.Connection) -> SealedHead | None:
    """The head a finished transaction appended or checked, for the next one of this
    process to trust (and forget it)."""
    known: SealedHead | None = conn.info.pop(KNOWN_KEY, None)
    return known


def read_events(
    conn: sa.Connection, after: int = 0, limit: int | None = None
) -> list[AuditEventRecord]:
    """Stored events with ``seq > after``, in ``seq`` order."""
    e = t.audit_events
    q = sa.select(e).where(e.c.seq > after).order_by(e.c.seq).limit(limit)
    return [AuditEventRecord(**dict(r)) for r in conn.execute(q).mappings()]
