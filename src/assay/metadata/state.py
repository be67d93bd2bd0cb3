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
from collections.abc import Iterable

import sqlalchemy as sa

from assay.core import canonical_json
from assay.errors import TamperedError
from assay.metadata import schema as t
from assay.metadata.head import TAMPER_HINT, Verifier, sealed_head, state_digest

__all__ = [
    "ACTION_TABLES",
    "EMPTY_TABLE",
    "LOCKED_KEY",
    "STATE_TABLES",
    "lock_state",
    "state_digest",
    "table_digest",
    "tables_of",
]

STATE_TABLES = (
    "role_grants",
    "api_tokens",
    "model_versions",
    "gate_verdicts",
    "promotion_requests",
    "reviews",
    "model_aliases",
    "alias_moves",
)
"""The tables whose digests the chain seals: who may act (and with which credentials), what
is registered, what passed its gates, what was asked for and approved, and where every
alias points and pointed."""

EMPTY_TABLE = hashlib.sha256().hexdigest()
"""The digest of a table with no rows: what a chain that began before a state table
existed (and so keeps no digest for it) expects of that table."""

ACTION_TABLES: dict[str, tuple[str, ...]] = {
    "role.granted": ("role_grants",),
    "role.revoked": ("role_grants",),
    "token.created": ("api_tokens",),
    "token.revoked": ("api_tokens",),
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

# Where a transaction records the tables :func:`lock_state` checked and locked.
LOCKED_KEY = "assay_locked_tables"


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
            if table_digest(conn, name) != head.kept.get(name, EMPTY_TABLE):
                raise TamperedError(
                    f"table {name} differs from what audit event {head.seq} sealed: it was "
                    "changed outside assay, and nothing more is written over it",
                    hint=TAMPER_HINT,
                )
    conn.info.setdefault(LOCKED_KEY, set()).update(names)
