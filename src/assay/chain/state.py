"""Decisions rest on sealed facts: before a role, a gate verdict or an approval is read,
the governance tables are checked against the state the chain's head seals."""

from __future__ import annotations

from collections.abc import Sequence

from assay.chain.events import check_head, sealed
from assay.chain.projection import Projection, project
from assay.chain.tables import Difference, differences
from assay.errors import TamperedError
from assay.metadata.state import STATE_TABLES, state_digest
from assay.workspace import Workspace

__all__ = ["changed_tables", "check_state", "table_differences"]

_HINT = (
    "`assay audit verify` lists every difference; restore the database from a backup "
    "taken before the change"
)


def changed_tables(ws: Workspace, sealed_state: str) -> list[str] | None:
    """The governance tables whose rows no longer give ``sealed_state``, the digest an
    event sealed: empty when they all do, None when they do not but which cannot be told
    (the digests kept beside the head, which name them, are not the sealed ones either)."""
    now = ws.metadata.governance_state()
    if state_digest(now) == sealed_state:
        return []
    kept = ws.metadata.kept_state()
    if state_digest(kept) != sealed_state:
        return None
    return [name for name in STATE_TABLES if now.get(name) != kept.get(name)]


def check_state(ws: Workspace) -> None:
    """Refuse to decide while a governance table differs from what the chain sealed.

    The chain must be whole (:func:`~assay.chain.events.check_head`), and every governance
    table (roles, versions, verdicts, requests, reviews, aliases and their moves) must hold
    the rows whose digests the head event seals, so that a row edited, inserted or deleted
    behind assay's back is named and refused instead of honoured.

    Raises:
        TamperedError: the chain is not whole, or a table differs; the message names the
            first row that does.
        AuditError: the chain's key or checkpoints cannot be read.
    """
    head = check_head(ws)
    if head is None or head.event.state is None:
        return  # nothing sealed yet: a new store, or one begun before revision 0007
    tables = changed_tables(ws, head.event.state)
    if tables == []:
        return
    named = list(STATE_TABLES) if tables is None else tables
    found = table_differences(ws, project(sealed(e) for e in ws.metadata.audit_events()), named)
    if found:
        first = found[0]
        what = f"{first.row}: {first.message}" + (
            f" at event {first.seq}" if first.seq is not None else ""
        )
    else:
        what = (
            f"the tables {', '.join(named)} differ from the state audit event "
            f"{head.event.seq} seals"
        )
    raise TamperedError(
        f"{what}: the database was changed outside assay, so no decision is taken on it",
        hint=_HINT,
    )


def table_differences(
    ws: Workspace, projection: Projection, tables: Sequence[str]
) -> list[Difference]:
    """How each of ``tables`` differs from the rows ``projection`` says it holds."""
    since = ws.metadata.audit_since()
    found = []
    for table in tables:
        rows = ws.metadata.sealed_rows(table)
        if table == "events" and since:
            # Events carry no time: those of executions from before the chain are left out.
            known = {key[0] for key in projection.rows["executions"]}
            rows = [r for r in rows if r["execution_id"] in known]
        found += differences(table, projection.rows[table], rows, since=since)
    return found
