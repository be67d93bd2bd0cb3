"""Experiments: each with its number of runs, paged; and runs compared side by side, as
``assay runs compare`` shows them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from assay.server.api.deps import Ws
from assay.server.api.listing import page_of
from assay.server.api.plain import PlainRoute, plain
from assay.tracking import compare_runs

__all__ = ["MAX_COMPARED", "router"]

MAX_COMPARED = 50
"""The most runs one comparison puts side by side."""

RunRef = Annotated[str, Field(min_length=1, max_length=64)]

router = APIRouter(route_class=PlainRoute, tags=["experiments"])


@router.get("/experiments")
def list_experiments(ws: Ws, limit: int = 100, cursor: str | None = None) -> dict[str, Any]:
    """Every experiment by name, with its number of runs and when its newest run started
    (unix seconds), a page of ``limit`` at a time: ``next_cursor`` asks for the next."""
    found = ws.metadata.experiments()
    shown, after = page_of(found, {"experiments": True}, limit, cursor)
    return {
        "experiments": [
            {"name": name, "runs": runs, "last_started_at": last} for name, runs, last in shown
        ],
        "total": len(found),
        "next_cursor": after,
    }


@router.get("/compare")
def compare(
    ws: Ws,
    run: Annotated[
        list[RunRef],
        Query(
            min_length=2,
            max_length=MAX_COMPARED,
            description="a run id (or its first characters); give two or more",
        ),
    ],
) -> dict[str, Any]:
    """Runs side by side, as ``assay runs compare --json`` prints them: ``runs`` (their
    short ids), ``fields`` (each attribute, ``params.*``, ``tags.*`` and last ``metrics.*``
    with one value a run, null where a run has none) and the ``differing`` fields."""
    frame, differing = compare_runs(ws, run)
    table = frame.astype(object).where(frame.notna(), None)
    return {
        "runs": [str(c) for c in frame.columns],
        "differing": differing,
        "fields": {str(f): plain(list(v)) for f, v in table.iterrows()},
    }
