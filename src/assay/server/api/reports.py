"""Reports: the evidence of a model version (``assay report``) and the monitoring of a
model (``assay monitor report``), as JSON or as the same self-contained HTML page."""

from __future__ import annotations

import threading
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse

from assay.governance import require
from assay.report import build_evidence
from assay.server.api.deps import Ws
from assay.server.api.plain import PlainRoute, plain

__all__ = ["router"]

Format = Literal["json", "html"]

# The pages' pictures are drawn inside matplotlib's rc_context and warnings.catch_warnings,
# both process-wide: two pages drawn at once on the server's threads would undo each
# other's settings. One page is drawn at a time.
_DRAWING = threading.Lock()

_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/json": {}, "text/html": {}},
        "description": "the report: JSON, or with format=html a self-contained page",
    }
}

router = APIRouter(route_class=PlainRoute, tags=["reports"])


@router.get("/models/{name}/versions/{ref}/evidence", responses=_ANSWERS, response_model=None)
def evidence(
    ws: Ws,
    name: str,
    ref: str,
    format: Format = "json",
    verify: Annotated[
        bool, Query(description="re-check the audit chain (false: faster, marked unverified)")
    ] = True,
) -> JSONResponse | HTMLResponse:
    """The evidence of a version (a number or an alias) for an auditor, by their four
    questions (schema ``assay.evidence/1``, as ``assay report --format json`` writes it):
    its card, gates, approvals and audit events, evaluation and data, alias history and
    monitoring, and its provenance; with ``format=html``, the page ``assay report``
    writes. It holds the version's audit events, so it needs a role that reads them."""
    require(ws, "viewer", "read the evidence report")
    found = build_evidence(ws, f"{name}@{ref}", verify_audit=verify)
    if format != "html":
        return JSONResponse(plain(found))
    from assay.report.html import render_html  # noqa: PLC0415 - Jinja2 only when rendering

    with _DRAWING:
        return HTMLResponse(render_html(found))


@router.get("/models/{name}/monitoring", responses=_ANSWERS, response_model=None)
def monitoring(
    ws: Ws,
    name: str,
    version: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=64,
            description="a version (a number, an alias or latest); every version without",
        ),
    ] = None,
    since: Annotated[
        float | None,
        Query(ge=0, le=1e11, allow_inf_nan=False, description="windows from then (unix time)"),
    ] = None,
    format: Format = "json",
) -> JSONResponse | HTMLResponse:
    """How a model fared since it was served, as ``assay monitor report`` shows it: the
    versions covered with their evaluation-time metrics, the checked windows oldest first
    and the alerts newest first (of one ``version``, or of every one; from ``since``);
    with ``format=html``, the page ``assay monitor report`` writes."""
    from assay.report.monitoring import (  # noqa: PLC0415 - matplotlib only when rendering
        build_monitoring,
        render_monitoring,
    )

    ref = name if version is None else f"{name}@{version}"
    found = build_monitoring(ws, ref, since=since)
    if format != "html":
        return JSONResponse(plain(found))
    with _DRAWING:
        return HTMLResponse(render_monitoring(found))
