"""Runs: listed with the filter language of ``assay runs list --where``, paged by cursor;
one run with its steps and metrics."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from assay.metadata import RunRecord, shallow_dict
from assay.server.api.deps import Ws
from assay.server.api.paging import decode_cursor, encode_cursor, limit_of
from assay.server.api.plain import PlainRoute
from assay.tracking import run_detail, search_runs

__all__ = ["router", "run_json"]


_LEFT_OUT = ("packages", "traceback")


def run_json(run: RunRecord, metrics: dict[str, float] | None = None) -> dict[str, Any]:
    """A run as ``assay runs list --json`` prints it: its fields but its packages and
    traceback, and its latest metrics."""
    # Field by field, not dataclasses.asdict: that deep-copies the run's whole package list
    # only for it to be dropped (most of a listing's time, measured).
    found = {k: v for k, v in shallow_dict(run).items() if k not in _LEFT_OUT}
    return {**found, "metrics": metrics or {}}


router = APIRouter(route_class=PlainRoute, tags=["runs"])


@router.get("/runs")
def list_runs(
    ws: Ws,
    where: Annotated[str | None, Query(description="e.g. metrics.macro_f1 > 0.8")] = None,
    order_by: Annotated[str | None, Query(description="e.g. -metrics.macro_f1")] = None,
    experiment: str | None = None,
    pipeline: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Runs matching ``where``, sorted by ``order_by`` (newest first otherwise), a page
    of ``limit`` at a time: ``next_cursor`` asks for the next page; ``fields``: the
    metrics, params and tags the filter and the order name (what a listing shows)."""
    query: dict[str, Any] = {"where": where, "order_by": order_by, "experiment": experiment}
    query |= {"pipeline": pipeline, "limit": limit}
    offset = decode_cursor(cursor, query)
    page = search_runs(
        ws,
        experiment=experiment,
        where=where,
        order_by=order_by,
        limit=limit_of(limit),
        pipeline=pipeline,
        offset=offset,
    )
    more = page.total > offset + len(page.runs)
    return {
        "runs": [run_json(r, page.metrics.get(r.id)) for r in page.runs],
        "total": page.total,
        "fields": page.fields,
        "next_cursor": encode_cursor(query, offset + len(page.runs)) if more else None,
    }


@router.get("/runs/{run_id}")
def get_run(ws: Ws, run_id: str, full: bool = False) -> dict[str, Any]:
    """One run (by id, or its first characters): its fields, steps and latest metrics, as a
    page shows it; with ``full``, as ``assay runs show --json`` prints it (its environment's
    package list, tracebacks, each step's outputs, every metric value)."""
    if full:
        return run_detail(ws, run_id).to_json()
    with ws.metadata.snapshot() as meta:  # one read transaction, not one a query
        run = meta.get_run(run_id, whole=False)
        executions = meta.executions(run.id)
        metrics = meta.latest_metrics([run.id]).get(run.id, {})
    steps = [{k: v for k, v in asdict(e).items() if k != "traceback"} for e in executions]
    return {**run_json(run, metrics), "steps": steps}


@router.get("/runs/{run_id}/metrics/{key}")
def metric_history(ws: Ws, run_id: str, key: str) -> dict[str, Any]:
    """Every value of metric ``key`` the run logged, in step order."""
    run = ws.metadata.get_run(run_id)
    history = [asdict(m) for m in ws.metadata.metrics(run.id) if m.key == key]
    return {"run_id": run.id, "key": key, "history": history}
