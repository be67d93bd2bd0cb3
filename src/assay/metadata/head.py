"""The head of the audit chain as a writer finds it, checked before anything is added after
it: the head event and event 1 intact and signed, the chain the artifact store names, the
chain reaching its newest checkpoint, and the governance state kept beside the head."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa

from assay.core import canonical_json, sha256_hex
from assay.errors import AuditError, TamperedError

__all__ = [
    "KNOWN_KEY",
    "Checkpointed",
    "TAMPER_HINT",
    "HeadMemo",
    "SealedHead",
    "Verifier",
    "kept_state",
    "parse_state",
    "sealed_head",
    "state_digest",
]

TAMPER_HINT = (
    "`assay audit verify` lists every difference; restore the database from a backup "
    "taken before the change"
)

# Where a transaction finds the head it may trust without reading it again: the one this
# process itself committed last, or one already checked in this transaction.
KNOWN_KEY = "assay_known_head"


@dataclass(frozen=True, slots=True)
class SealedHead:
    """The head of the chain: its number, hash and key, the state digest its event sealed
    (None: no state sealed yet), the state kept beside it, and event 1's hash."""

    seq: int
    hash: str
    key_id: str | None
    sealed: str | None
    kept: dict[str, str]
    first: str = ""


@dataclass(slots=True)
class HeadMemo:
    """The head this process last committed to one database, shared by every store opened
    on it in the process, so that the next write trusts it without reading it back."""

    head: SealedHead | None = None


class Checkpointed(Protocol):
    """A checkpoint as a writer compares it: an event's number and hash."""

    @property
    def seq(self) -> int: ...

    @property
    def hash(self) -> str: ...


class Verifier(Protocol):
    """What a writer checks the head with: the store's sealer."""

    def prepare(self, expected_key_id: str | None) -> None:
        """Get ready for the chain signed so far with ``expected_key_id`` (None: not yet)."""
        ...

    def verify(self, digest: str, signature: str) -> bool:
        """Whether ``signature`` is the chain key's signature of ``digest``."""
        ...

    def begin_chain(self) -> None:
        """Refuse to begin a chain where the store's artifacts belong to another."""
        ...

    def check_chain(self, first: str) -> None:
        """Refuse a chain (named by event 1's hash) that the artifacts do not belong to."""
        ...

    def latest_checkpoint(self, key_id: str, first: str) -> Checkpointed | None:
        """The newest checkpoint of the chain, or None."""
        ...


def state_digest(state: Mapping[str, str]) -> str:
    """The digest an event seals for a state (table to digest)."""
    return sha256_hex(canonical_json(dict(state)).encode())


def parse_state(body: str) -> str | None:
    """The state digest an event body seals; None for a body that seals none."""
    try:
        value = json.loads(body)
    except ValueError:
        return None
    state = value.get("state") if isinstance(value, dict) else None
    return state if isinstance(state, str) and state else None


def kept_state(text: str | None) -> dict[str, str]:
    """The state kept beside the head, from its stored JSON."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"": text}  # unreadable: never equal to a sealed digest
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {"": text}


def sealed_head(
    conn: sa.Connection, verifier: Verifier | None, *, lock: bool, deciding: bool = False
) -> SealedHead:
    """The head row and what its event seals, checked before anything is written after it
    or decided on it.

    No event may lie beyond the head; the head event and event 1 must hash to their rows'
    hashes and carry good signatures; the artifact store must name this chain; the chain
    must reach its newest checkpoint; and the state kept beside the head must be the one the
    head sealed. So a forged head, a chain emptied or swapped, or a database rolled back
    behind its checkpoints is never built upon. A head this process committed itself is
    trusted for what it sealed. With ``lock``, the head row is locked for this transaction
    first. With ``deciding``, as a decision reads the chain: every event up to the head
    must be stored, and the kept state is returned as found, for the caller to compare.

    Raises:
        TamperedError: the chain's end, event 1 or the kept state were changed outside assay.
        AuditError: the artifacts belong to another chain, or the checkpoints cannot be read.
    """
    try:
        return _sealed_head(conn, verifier, lock, deciding)
    except AuditError:
        if lock:
            raise
        # The artifact store's marker and the checkpoints are written after the events they
        # name commit, so a reader whose snapshot began before a commit can find them ahead
        # of its rows; a fresh snapshot tells that from a chain cut short.
        conn.rollback()
        return _sealed_head(conn, verifier, lock, deciding)


def _sealed_head(
    conn: sa.Connection, verifier: Verifier | None, lock: bool, deciding: bool
) -> SealedHead:
    if lock and conn.dialect.name != "sqlite":  # SQLite's write transactions exclude already
        # A statement of its own: on PostgreSQL one that waited for the lock still reads the
        # other tables as they were before the wait, so the head is read again after it.
        conn.exec_driver_sql("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE")
    # Counting is a scan, so only a decision pays for it; one statement keeps the head and
    # the extent in one snapshot on every database.
    count = "(SELECT count(*) FROM audit_events)" if deciding else "NULL"
    seq, digest, key_id, kept_text, top, stored = conn.exec_driver_sql(
        "SELECT h.seq, h.hash, h.key_id, h.state, (SELECT max(seq) FROM audit_events), "  # noqa: S608
        f"{count} FROM audit_head h WHERE h.id = 1"
    ).one()
    if (top or 0) != seq or (deciding and (stored or 0) != seq):
        held = (
            f"{stored or 0} events up to event {top or 0}"
            if deciding
            else f"events up to {top or 0}"
        )
        raise TamperedError(
            f"the audit chain holds {held}, but its head names event {seq}: events were "
            "removed or added, or the head moved, outside assay",
            hint=TAMPER_HINT,
        )
    if verifier is not None:
        verifier.prepare(key_id)  # refuses, inside the transaction, a key not the chain's
    if not seq:
        if verifier is not None:
            verifier.begin_chain()
        return SealedHead(0, digest, key_id, None, {})
    known: SealedHead | None = conn.info.get(KNOWN_KEY)
    if known is None or (known.seq, known.hash) != (seq, digest):
        known = _read_head(conn, verifier, int(seq), digest, key_id, kept_text, not deciding)
    if verifier is not None and key_id:
        _refuse_behind(conn, known, verifier.latest_checkpoint(key_id, known.first))
    conn.info[KNOWN_KEY] = known
    return known


def _read_head(
    conn: sa.Connection,
    verifier: Verifier | None,
    seq: int,
    digest: str,
    key_id: str | None,
    kept_text: str | None,
    check_kept: bool,
) -> SealedHead:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    rows = {
        int(r[0]): r
        for r in conn.exec_driver_sql(
            f"SELECT seq, body, hash, signature FROM audit_events WHERE seq IN ({mark}, {mark})",  # noqa: S608
            (1, seq),
        )
    }
    for number, which in ((seq, "the head of the chain"), (1, "the chain's first")):
        row = rows.get(number)
        expected = digest if number == seq else (row[2] if row else "")
        if row is None or row[2] != expected or sha256_hex(row[1].encode()) != row[2]:
            raise TamperedError(
                f"audit event {number}, {which}: it was changed or removed outside assay",
                hint=TAMPER_HINT,
            )
        if verifier is not None and not (row[3] and verifier.verify(row[2], row[3])):
            raise TamperedError(
                f"audit event {number}, {which}: it is not signed by the chain's key",
                hint=TAMPER_HINT,
            )
    first = str(rows[1][2])
    if verifier is not None:
        verifier.check_chain(first)
    sealed = parse_state(rows[seq][1])
    kept = kept_state(kept_text)
    if check_kept and sealed is not None and state_digest(kept) != sealed:
        raise TamperedError(
            "the governance state kept with the audit head differs from the one event "
            f"{seq} sealed: it was changed outside assay",
            hint=TAMPER_HINT,
        )
    return SealedHead(seq, digest, key_id, sealed, kept, first)


def _refuse_behind(conn: sa.Connection, head: SealedHead, latest: Checkpointed | None) -> None:
    # A chain behind its newest checkpoint lost its end (a database restored from an older
    # copy, events deleted): whatever is added now would make the loss look whole.
    if latest is None:
        return
    if latest.seq > head.seq:
        raise TamperedError(
            f"the audit chain ends at event {head.seq}, but a checkpoint outside the store "
            f"names event {latest.seq}: events were cut off the end (or the database was "
            "restored from an older copy), and nothing is written after them",
            hint="restore the newest backup of the database; `assay audit verify` names "
            "what is missing",
        )
    at: object = head.hash
    if latest.seq != head.seq:
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        at = conn.exec_driver_sql(
            f"SELECT hash FROM audit_events WHERE seq = {mark}",  # noqa: S608
            (latest.seq,),
        ).scalar()
    if at != latest.hash:
        raise TamperedError(
            f"audit event {latest.seq} differs from the checkpoint taken when it was written: "
            "the chain was changed outside assay, and nothing is written after it",
            hint=TAMPER_HINT,
        )
