"""Beginning a new audit chain on purpose, where the database that held the old one is
lost: recorded as event 1 of the new chain, with what it replaces and why."""

from __future__ import annotations

from typing import Any

from assay.errors import AuditError
from assay.metadata import AuditEntry
from assay.workspace import Workspace, chain_of

__all__ = ["start_chain"]


def start_chain(ws: Workspace, reason: str) -> dict[str, Any]:
    """Write ``chain.started`` as event 1 of a new chain on ``ws``, whose database holds no
    audit events, naming the chain its artifact store belonged to (with that chain's newest
    checkpoint) and ``reason``; returns what it recorded. ``ws`` is opened with
    ``new_chain`` (see :class:`~assay.workspace.ChainGuard`).

    Raises:
        AuditError: no reason, or the database already holds a chain.
    """
    if not reason.strip():
        raise AuditError("a new audit chain needs a reason", hint="add --reason 'why'")
    head = ws.metadata.audit_head()[0]
    if head:
        raise AuditError(
            f"this store's audit chain holds {head} events; a new chain begins only on a "
            "database that holds none",
            hint="`assay audit verify` checks the chain that is there",
        )
    previous: dict[str, Any] | None = None
    named = chain_of(ws.artifacts)
    if named is not None:
        latest = (
            ws.anchor.latest_checkpoint(named.get("key_id", ""), named.get("first", ""))
            if named.get("key_id")
            else None
        )
        previous = dict(named) | {
            "checkpoint": {"seq": latest.seq, "hash": latest.hash} if latest else None
        }
    payload = {"reason": reason.strip(), "previous": previous}
    ws.metadata.record_event(
        AuditEntry("chain.started", f"store:{ws.metadata.store_id()}", payload), ws.user
    )
    return payload
