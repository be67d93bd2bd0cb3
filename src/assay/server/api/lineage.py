"""Lineage: the graph of data, steps and parameters that made an artifact or a model
version, or of what was made from it, as ``assay lineage --json`` prints it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path

from assay.lineage import downstream, upstream
from assay.server.api.deps import Ws
from assay.server.api.plain import PlainRoute, plain

__all__ = ["router"]

router = APIRouter(route_class=PlainRoute, tags=["lineage"])


@router.get("/lineage/{ref}")
def lineage(
    ws: Ws,
    ref: Annotated[
        str,
        Path(
            min_length=1,
            max_length=300,
            description="an artifact digest (or its first characters), or NAME@VERSION",
        ),
    ],
    direction: Literal["up", "down"] = "up",
) -> dict[str, Any]:
    """The graph around ``ref``: ``up``, the artifacts and executions (with their
    parameters) that made it; ``down``, what was made from it and the model versions
    registered from that. Nodes carry their attributes; edges are named by the step's
    input or output."""
    graph = downstream(ws, ref) if direction == "down" else upstream(ws, ref)
    found: dict[str, Any] = plain(graph.to_dict())
    return found
