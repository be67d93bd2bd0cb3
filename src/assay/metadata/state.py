"""The governance state the audit chain seals: a digest of each table that decisions read.

Every event's body names the digest of the state as of that event, so the head event,
signed and checkpointed outside the store, vouches for the governance tables as they are:
a decision recomputes the digests from the rows and compares (see ``assay.chain``). A
change to a governance table happens only inside a transaction that first checks the
tables it changes still hold what the head sealed (:func:`lock_state`), so a row edited
behind assay's back is refused there instead of being sealed by the next honest change.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa

from assay.core import canonical_json, sha256_hex
from assay.errors import TamperedError
from assay.metadata import schema as t

__all__ = [
    "ACTION_TABLES",
    "KNOWN_KEY",
    "HeadMemo",
    "STATE_TABLES",
    "SealedHead",
    "kept_state",
    "lock_state",
    "parse_state",
    "sealed_head",
    "state_digest",
    "table_digest",
    "tables_of",
]

STATE_TABLES = (
    "role_grants",
    "model_versions",
    "gate_verdicts",
    "promotion_requests",
    "reviews",
    "model_aliases",
    "alias_moves",
)
"""The tables whose digests the chain seals: who may act, what is registered, what passed
its gates, what was asked for and approved, and where every alias points and pointed."""

ACTION_TABLES: dict[str, tuple[str, ...]] = {
    "role.granted": ("role_grants",),
    "role.revoked": ("role_grants",),
    "model.registered": ("model_versions",),
    "model.archived": ("model_versions",),
    "model.restored": ("model_versions",),
    "gate.verdict": ("gate_verdicts",),
    "alias.moved": ("model_aliases", "alias_moves", "promotion_requests"),
    "promotion.requested": ("promotion_requests",),
    "promotion.approved": ("reviews", "promotion_requests"),
    "promotion.rejected": ("reviews", "promotion_requests"),
}
"""The state tables each kind of event changes."""

_HINT = (
    "`assay audit verify` lists every difference; restore the database from a backup "
    "taken before the change"
)

# Where a transaction records the tables :func:`lock_state` checked and locked.
LOCKED_KEY = "assay_locked_tables"
# Where a transaction finds the head it may trust without reading it again: the one this
# process itself committed last, or one already checked in this transaction.
KNOWN_KEY = "assay_known_head"


def tables_of(actions: Iterable[str]) -> tuple[str, ...]:
    """The state tables events of ``actions`` change, in :data:`STATE_TABLES` order."""
    named = {name for action in actions for name in ACTION_TABLES.get(action, ())}
    return tuple(name for name in STATE_TABLES if name in named)


def table_digest(conn: sa.Connection, name: str) -> str:
    """The sha256 of every row of state table ``name``, in key order.

    JSON columns are read as the text stored, so the digest costs no parsing and is the
    same for every reader of the same rows. Plain SQL through the driver: a decision and
    every governance write compute these, and compiling the statements would cost more
    than running them.
    """
    digest = hashlib.sha256()
    for row in conn.exec_driver_sql(_digest_query(name)):
        digest.update(canonical_json(list(row)).encode())
        digest.update(b"\n")
    return digest.hexdigest()


@functools.cache
def _digest_query(name: str) -> str:
    table = t.metadata.tables[name]
    columns = ", ".join(
        f'CAST("{c.name}" AS TEXT)' if isinstance(c.type, sa.JSON) else f'"{c.name}"'
        for c in table.columns
    )
    order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
    return f'SELECT {columns} FROM "{name}" ORDER BY {order}'  # noqa: S608 - schema names


def state_digest(state: Mapping[str, str]) -> str:
    """The digest an event seals for a state (table to digest)."""
    return sha256_hex(canonical_json(dict(state)).encode())


@dataclass(frozen=True, slots=True)
class SealedHead:
    """The head of the chain as a writer finds it: its number, hash and key, the state
    digest its event sealed (None: no state sealed yet) and the state kept beside it."""

    seq: int
    hash: str
    key_id: str | None
    sealed: str | None
    kept: dict[str, str]
    first: str = ""
    """Event 1's hash (empty where the reader did not need it)."""


@dataclass(slots=True)
class HeadMemo:
    """The head this process last committed to one database, shared by every store opened
    on it in the process, so that the next write trusts it without reading it back."""

    head: SealedHead | None = None


class Verifier(Protocol):
    """What checks an event's signature: the store's sealer."""

    def prepare(self, expected_key_id: str | None) -> None:
        """Get ready for the chain signed so far with ``expected_key_id`` (None: not yet)."""
        ...

    def verify(self, digest: str, signature: str) -> bool:
        """Whether ``signature`` is the chain key's signature of ``digest``."""
        ...


def parse_state(body: str) -> str | None:
    """The state digest an event body seals; None for a body that seals none."""
    try:
        value = json.loads(body)
    except ValueError:
        return None
    state = value.get("state") if isinstance(value, dict) else None
    return state if isinstance(state, str) and state else None


def sealed_head(conn: sa.Connection, verifier: Verifier | None, *, lock: bool) -> SealedHead:
    """The head row and what its event seals, checked: the event's body must hash to the
    head's hash and carry a good signature, and the state kept beside the head must be the
    one it sealed. With ``lock``, the head row is locked for this transaction first.

    Raises:
        TamperedError: the head event or the kept state were changed outside assay.
    """
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    suffix = " FOR UPDATE" if lock and conn.dialect.name != "sqlite" else ""
    seq, digest, key_id, kept_text = conn.exec_driver_sql(
        f"SELECT seq, hash, key_id, state FROM audit_head WHERE id = 1{suffix}"  # noqa: S608
    ).one()
    if verifier is not None:
        verifier.prepare(key_id)  # refuses, inside the transaction, a key not the chain's
    known: SealedHead | None = conn.info.get(KNOWN_KEY)
    if known is not None and (known.seq, known.hash) == (seq, digest):
        # The event this process wrote (or this transaction checked) is still the head:
        # what it sealed is known, and the digests are this process's own, not the row's.
        return known
    if not seq:
        return SealedHead(0, digest, key_id, None, {})
    row = conn.exec_driver_sql(
        f"SELECT body, hash, signature FROM audit_events WHERE seq = {mark}",  # noqa: S608
        (seq,),
    ).first()
    if row is None or row[1] != digest or sha256_hex(row[0].encode()) != digest:
        raise TamperedError(
            f"audit event {seq}, the head of the chain, was changed or removed outside assay",
            hint=_HINT,
        )
    if verifier is not None and not (row[2] and verifier.verify(digest, row[2])):
        raise TamperedError(
            f"audit event {seq}, the head of the chain, is not signed by the chain's key",
            hint=_HINT,
        )
    sealed = parse_state(row[0])
    kept = kept_state(kept_text)
    if sealed is not None and state_digest(kept) != sealed:
        raise TamperedError(
            "the governance state kept with the audit head differs from the one event "
            f"{seq} sealed: it was changed outside assay",
            hint=_HINT,
        )
    head = SealedHead(int(seq), digest, key_id, sealed, kept)
    conn.info[KNOWN_KEY] = head
    return head


def kept_state(text: str | None) -> dict[str, str]:
    """The state kept beside the head, from its stored JSON."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"": text}  # unreadable: never equal to a sealed digest
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {"": text}


def lock_state(conn: sa.Connection, tables: Iterable[str], verifier: Verifier | None) -> None:
    """Before a transaction changes state ``tables``: lock the chain's head (and, on
    PostgreSQL, the tables, against every other writer until commit), then check each
    table still holds what the head sealed, so that no edit made behind assay's back is
    sealed by this change.

    Raises:
        TamperedError: a table, the head event or the kept state differ from the chain.
    """
    names = tuple(name for name in STATE_TABLES if name in set(tables))
    head = sealed_head(conn, verifier, lock=True)
    if conn.dialect.name == "postgresql" and names:
        conn.exec_driver_sql(f"LOCK TABLE {', '.join(names)} IN EXCLUSIVE MODE")
    if head.sealed is not None:
        for name in names:
            if table_digest(conn, name) != head.kept.get(name):
                raise TamperedError(
                    f"table {name} differs from what audit event {head.seq} sealed: it was "
                    "changed outside assay, and nothing more is written over it",
                    hint=_HINT,
                )
    conn.info.setdefault(LOCKED_KEY, set()).update(names)
