"""Model cards: what a version is for, the data it met and how well it did, as registered
with it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from assay.governance.cards import TEAM_FIELDS, missing
from assay.registry import resolve
from assay.server.api.deps import Ws
from assay.server.api.plain import PlainRoute, plain

__all__ = ["router"]

router = APIRouter(route_class=PlainRoute, tags=["models"])


@router.get("/models/{name}/versions/{ref}/card")
def card(ws: Ws, name: str, ref: str) -> dict[str, Any]:
    """The model card of a version (a number or an alias): the team's fields, the data
    and metrics filled from its run, and which of the team's fields it leaves empty."""
    version = resolve(ws, f"{name}@{ref}")
    found: dict[str, Any] = version.info.get("card") or {}
    return {
        "model": f"{version.name}@{version.version}",
        "card": plain(found),
        "empty_team_fields": missing(found, list(TEAM_FIELDS)),
    }
