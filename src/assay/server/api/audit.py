"""The audit log, paged and filtered, each event as its sealed body says (with how its
actor was identified), and verifying the chain on demand."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Query

from assay.audit import verify_chain
from assay.chain import sealed
from assay.governance import parse_when, require
from assay.server.api.deps import Ws
from assay.server.api.paging import limit_of
from assay.server.api.plain import PlainRoute

__all__ = ["router"]


router = APIRouter(route_class=PlainRoute, tags=["audit"])


@router.get("/audit")
def events(
    ws: Ws,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: int = 100,
    actor: str | None = None,
    action: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    """Events after ``after`` (a sequence number), oldest first, filtered; ``next``
    is the ``after`` of the next page (None at the end)."""
    require(ws, "viewer", "read the audit log")
    found = ws.metadata.audit_page(
        after=after,
        limit=limit_of(limit),
        actor=actor,
        action=action,
        since=parse_when(since) if since else None,
        until=parse_when(until) if until else None,
    )
    shown = [
        {**dataclasses.asdict(sealed(e)), "hash": e.hash, "signed": e.signature is not None}
        for e in found
    ]
    return {"events": shown, "next": found[-1].seq if len(found) == limit else None}


@router.get("/audit/verify")
def verify(ws: Ws, artifacts: bool = True) -> dict[str, Any]:
    """Check the whole chain now: every event, signature and checkpoint, every sealed
    table row by row, and (unless ``artifacts`` is false) every artifact's bytes; answered
    as ``assay audit verify --json`` prints it."""
    require(ws, "viewer", "verify the audit log")
    return verify_chain(ws, artifacts=artifacts).to_dict()
