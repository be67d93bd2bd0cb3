"""Decisions rest on sealed facts: before a role, a gate verdict or an approval is read,
the governance tables are checked against the state the chain's head seals."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence

from assay.chain.events import check_head, sealed
from assay.chain.projection import Projection, project
from assay.chain.tables import Difference, differences
from assay.errors import TamperedError
from assay.metadata.head import TAMPER_HINT
from assay.metadata.state import EMPTY_TABLE, STATE_TABLES, state_digest
from assay.workspace import Workspace

__all__ = ["changed_tables", "check_state", "table_differences"]

# How often a check runs again when a writer commits while the tables are being read, and
# the longest pause before the last try: a burst of writers (eight clients promoting at
# once on two cores, measured) outlasted five tries in a row.
_ATTEMPTS = 8
_PAUSE_S = 0.2


def changed_tables(
    ws: Workspace,
    sealed_state: str,
    tables: Sequence[str] = STATE_TABLES,
    kept: Mapping[str, str] | None = None,
) -> list[str] | None:
    """Those of ``tables`` whose rows no longer give the digests that ``sealed_state``, the
    state an event sealed, vouches for through ``kept`` (the digests kept beside the head,
    read when not given): empty when they all do, None when it cannot be told (the kept
    digests, which name them, are not the sealed ones)."""
    kept = ws.metadata.kept_state() if kept is None else kept
    if state_digest(kept) != sealed_state:
        return None
    now = ws.metadata.governance_state(tables)
    return [name for name in tables if now.get(name) != kept.get(name, EMPTY_TABLE)]


def check_state(ws: Workspace, tables: Sequence[str] = STATE_TABLES) -> None:
    """Refuse to decide while a governance table (of ``tables``, those the decision reads)
    differs from what the chain sealed.

    The chain must be whole (:func:`~assay.chain.events.check_head`), the digests kept
    beside its head must be the ones the head event seals, and each table must hold the
    rows whose digest is kept (roles, versions, verdicts, requests, reviews, aliases and
    their moves), so that a row edited, inserted or deleted behind assay's back is named
    and refused instead of honoured.

    Raises:
        TamperedError: the chain is not whole, or a table differs; the message names the
            first row that does.
        AuditError: the chain's key or checkpoints cannot be read.
    """
    for attempt in range(_ATTEMPTS):
        if attempt:  # apart, so that the tries do not fall into the same burst of writes
            time.sleep(random.uniform(0, _PAUSE_S * 2 ** (attempt - _ATTEMPTS + 1)))  # noqa: S311 - a pause, no secret
        head = check_head(ws)
        if head is None:
            return  # a new store: nothing recorded yet
        if head.state is None:  # begun before revision 0007: the tables against the events
            changed: list[str] | None = list(tables)
        else:
            changed = changed_tables(ws, head.state, tables, head.kept)
            if changed == []:
                return
        named = list(STATE_TABLES) if changed is None else changed
        found = table_differences(
            ws, project(sealed(e) for e in ws.metadata.audit_events(limit=None)), named
        )
        if head.state is None and not found:
            return
        if ws.metadata.audit_head() == (head.seq, head.hash):
            break
        # A writer committed while the tables were read: look again at the new head.
    else:
        raise TamperedError(
            "the governance tables kept changing while they were checked against the audit "
            "chain; try again",
            hint="if it goes on, `assay audit verify` says whether the store was changed "
            "outside assay",
        )
    if found:
        first = found[0]
        what = f"{first.row}: {first.message}" + (
            f" at event {first.seq}" if first.seq is not None else ""
        )
    else:
        what = f"the tables {', '.join(named)} differ from the state audit event {head.seq} seals"
    raise TamperedError(
        f"{what}: the database was changed outside assay, so no decision is taken on it",
        hint=TAMPER_HINT,
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
