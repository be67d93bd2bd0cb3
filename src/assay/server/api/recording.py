"""Recording runs through the server: a run started, its parameters and metric values
added, its tags set, its end; as the authenticated user, who alone (or an admin) adds to
it. What ``assay.remote.HttpRuns`` calls."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from assay.core import restored, spelled_out
from assay.errors import PermissionDenied
from assay.governance import require, roles_of
from assay.metadata import MetricRecord, RunRecord, shallow_dict
from assay.metadata.runs import Finished, RunEnd
from assay.remote import number
from assay.server.api.deps import Writer, Ws
from assay.server.api.plain import PlainRoute
from assay.tracking import check_experiment, check_params, check_tags
from assay.tracking.values import MAX_NAME
from assay.workspace import Workspace

__all__ = ["RunId", "RunStarted", "own", "router", "started"]

RunId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="a run's whole id")]
_Spelled = Literal["NaN", "Infinity", "-Infinity"]
_MOMENT = Field(ge=0, le=1e11, allow_inf_nan=False)  # seconds since 1970, before year 5138


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MetricLogged(_Body):
    key: str = Field(min_length=1, max_length=MAX_NAME)
    value: float | _Spelled
    timestamp: float = _MOMENT
    step: int | None = Field(default=None, ge=-(2**62), le=2**62)
    execution_id: None = Field(default=None, description="a step's values come with the step")


class RunData(_Body):
    params: dict[str, Any] = Field(default_factory=dict)
    metrics: list[MetricLogged] = Field(default_factory=list, max_length=10_000)


class RunEnded(RunData):
    status: Finished
    error: str | None = Field(default=None, max_length=100_000)
    traceback: str | None = Field(default=None, max_length=1_000_000)


class RunStarted(_Body):
    id: str = Field(pattern=r"^[0-9a-f]{32}$")
    pipeline: str = Field(min_length=1, max_length=200)
    source: str = Field(max_length=4096)
    status: Literal["running"] = "running"
    params: dict[str, Any] = Field(default_factory=dict)
    started_at: float = _MOMENT
    user: str = Field(default="", max_length=200, description="ignored: the run is the caller's")
    host: str = Field(max_length=200)
    pid: int = Field(ge=0, le=2**31 - 1)
    python_version: str = Field(max_length=64)
    packages: dict[str, Annotated[str, Field(max_length=200)]] = Field(
        default_factory=dict, max_length=10_000
    )
    git_commit: str | None = Field(default=None, max_length=64)
    git_dirty: bool | None = None
    ended_at: None = None
    error: None = None
    traceback: None = None
    experiment: str = "default"
    tags: dict[str, Annotated[str, Field(max_length=5000)]] = Field(default_factory=dict)
    note: str | None = Field(default=None, max_length=10_000)
    end: RunEnded | None = Field(
        default=None, description="the run's end, for a run that ended before it was sent"
    )


class Annotation(_Body):
    tags: dict[str, Annotated[str, Field(max_length=5000)]] = Field(default_factory=dict)
    note: str | None = Field(default=None, max_length=10_000)


router = APIRouter(route_class=PlainRoute, tags=["runs"])


@router.post("/runs", status_code=201)
def start_run(ws: Writer, body: RunStarted) -> dict[str, Any]:
    """Record a run that has started, as the caller's (developers and admins); with
    ``end``, one that has ended too (what a client sends for a run shorter than it waits
    before announcing one)."""
    record = started(ws, body)
    ws.metadata.insert_run(record, None if body.end is None else _end(record.id, body.end))
    return {"id": record.id, "user": record.user}


def started(ws: Workspace, body: RunStarted) -> RunRecord:
    """The run ``body`` starts, as the caller's, if they may start runs."""
    require(ws, "developer", "start runs")
    return RunRecord(
        **{
            **body.model_dump(exclude={"end"}),
            "user": ws.user,
            "params": check_params(restored(body.params)),
            "experiment": check_experiment(body.experiment),
            "tags": check_tags(body.tags),
        }
    )


@router.post("/runs/{run_id}/data")
def add_data(ws: Writer, run_id: RunId, body: RunData) -> dict[str, Any]:
    """Add parameters and metric values to a run, in one transaction."""
    own(ws, run_id)
    metrics = _metrics(run_id, body.metrics)
    ws.metadata.log_run_data(run_id, check_params(restored(body.params)), metrics)
    return {"id": run_id, "params": len(body.params), "metrics": len(metrics)}


@router.post("/runs/{run_id}/finish")
def finish_run(ws: Writer, run_id: RunId, body: RunEnded) -> dict[str, Any]:
    """Record how a run ended, with its last parameters and metric values."""
    own(ws, run_id)
    end = _end(run_id, body)
    ws.metadata.finish_run(
        run_id,
        end.status,
        error=end.error,
        traceback=end.traceback,
        params=end.params,
        metrics=end.metrics,
    )
    return {"id": run_id, "status": body.status}


@router.patch("/runs/{run_id}")
def annotate_run(ws: Writer, run_id: RunId, body: Annotation) -> dict[str, Any]:
    """Set a run's tags (a tag set again takes the new value) and, if given, its note."""
    own(ws, run_id)
    ws.metadata.annotate_run(run_id, tags=check_tags(body.tags), note=body.note)
    return {"id": run_id}


@router.get("/runs/{run_id}/record")
def run_record(ws: Ws, run_id: str, whole: bool = True) -> dict[str, Any]:
    """A run's record as the store holds it (by id, or its first characters); not
    ``whole``: without its package list and traceback. Its parameters spell NaN and
    infinity as ``{"__float__": "nan"}``."""
    run = ws.metadata.get_run(run_id, whole=whole)
    return {**shallow_dict(run), "params": spelled_out(run.params)}


@router.get("/runs/{run_id}/metrics")
def run_metrics(ws: Ws, run_id: str) -> dict[str, Any]:
    """Every metric value of a run, oldest first."""
    run = ws.metadata.get_run(run_id, whole=False)
    found = [
        {k: v for k, v in shallow_dict(m).items() if k != "run_id"}
        for m in ws.metadata.metrics(run.id)
    ]
    return {"run_id": run.id, "metrics": found}


def _end(run_id: str, end: RunEnded) -> RunEnd:
    return RunEnd(
        end.status,
        end.error,
        end.traceback,
        check_params(restored(end.params)),
        _metrics(run_id, end.metrics),
    )


def own(ws: Workspace, run_id: str) -> RunRecord:
    """The run ``run_id``, if the caller may add to it: whoever started it, or an admin."""
    run = ws.metadata.get_run(run_id, whole=False)  # the whole id (RunId): never a prefix
    if run.user != ws.user and "admin" not in roles_of(ws, ws.user):
        raise PermissionDenied(
            f"run {run_id[:12]} is {run.user}'s: {ws.user} may not add to it",
            hint="record your own run; an admin may add to anyone's",
        )
    return run


def _metrics(run_id: str, logged: list[MetricLogged]) -> list[MetricRecord]:
    return [
        MetricRecord(
            run_id,
            m.key,
            number(m.value),
            m.timestamp,
            None,
            m.step,
        )
        for m in logged
    ]
