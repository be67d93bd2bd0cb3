"""Monitoring: the checked windows of a model's traffic, the alerts they raised (and closing
one), and the retrainings monitoring started; as ``assay monitor alerts|close|retrains``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from assay.monitoring.alerts import close_alert
from assay.registry import MAX_VERSION, known_model
from assay.server.api.deps import Writer, Ws
from assay.server.api.listing import page_of
from assay.server.api.plain import PlainRoute, plain

__all__ = ["router"]

MAX_ID = 2**31 - 1
"""No store numbers an alert higher (its id is a 32-bit integer column); a larger id is
refused (400) before the database, whose integers it would overflow, sees it."""

Model = Annotated[str, Query(min_length=1, max_length=200, description="the model's name")]


class Closing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=10_000, description="what was done about it")


router = APIRouter(route_class=PlainRoute, tags=["monitoring"])


@router.get("/monitoring/windows")
def windows(
    ws: Ws,
    model: Model,
    version: Annotated[int | None, Query(ge=1, le=MAX_VERSION)] = None,
    kind: Literal["drift", "performance"] | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The windows of ``model``'s prediction log that were checked (of one ``version``,
    of one ``kind``), oldest first: rows, status (ok, drift, drop, too few rows) and the
    full report of each test; ``next_cursor`` asks for the next page."""
    known_model(ws, model)
    found = ws.metadata.windows(model, version, kind)
    query = {"model": model, "version": version, "kind": kind}
    shown, after = page_of(found, query, limit, cursor)
    return {
        "windows": [plain(asdict(w)) for w in shown],
        "total": len(found),
        "next_cursor": after,
    }


@router.get("/monitoring/alerts")
def alerts(
    ws: Ws,
    model: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    status: Literal["open", "closed"] | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Stored alerts (of ``model``, in ``status``), newest first, as ``assay monitor
    alerts --json`` prints them: what was found, how often, and whether it was
    delivered; ``next_cursor`` asks for the next page."""
    if model is not None:
        known_model(ws, model)
    found = ws.metadata.alerts(model, status)
    shown, after = page_of(found, {"model": model, "status": status}, limit, cursor)
    return {
        "alerts": [plain(asdict(a)) for a in shown],
        "total": len(found),
        "next_cursor": after,
    }


@router.post("/monitoring/alerts/{alert_id}/close")
def close(
    ws: Writer, alert_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: Closing
) -> dict[str, Any]:
    """Close an open alert (a developer's), saying what was done about it; the reason goes
    to the audit log, and the same finding raised later opens a new alert. A 404 when no
    open alert has that id."""
    closed = close_alert(ws, alert_id, body.reason)
    found: dict[str, Any] = plain(asdict(closed))
    return found


@router.get("/monitoring/retrains")
def retrains(
    ws: Ws,
    model: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: int = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Retrainings monitoring started (of ``model``), newest first, as ``assay monitor
    retrains --json`` prints them: the cause, the run, the version it registered and the
    outcome (gates, aliases moved, a promotion request); ``next_cursor`` asks for more."""
    if model is not None:
        known_model(ws, model)
    found = ws.metadata.retrains(model)
    shown, after = page_of(found, {"model": model}, limit, cursor)
    return {
        "retrains": [plain(asdict(r)) for r in shown],
        "total": len(found),
        "next_cursor": after,
    }
