"""Recording a run's steps through the server: executions with the artifacts, events and
metric values they made, the model versions they registered and the gate verdicts they
reached, and the team's cache of executions to reuse. What ``assay.remote.HttpSteps``
calls."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from assay.core import restored, spelled_out
from assay.errors import DataError, RecordExistsError
from assay.governance import require
from assay.metadata import (
    ArtifactRecord,
    CachedExecution,
    EventRecord,
    ExecutionBundle,
    ExecutionRecord,
    GateVerdictRecord,
    MetricRecord,
    Registration,
    shallow_dict,
)
from assay.metadata.plan import PlannedStep, plan_cache
from assay.registry import check_name
from assay.remote import number, spelled
from assay.server.api.deps import Writer, Ws
from assay.server.api.plain import PlainRoute
from assay.server.api.recording import RunId, RunStarted, own, started
from assay.tracking import check_params
from assay.workspace import Workspace

__all__ = ["router"]

_Id = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
_Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
_Name = Annotated[str, Field(min_length=1, max_length=200)]
_Short = Annotated[str, Field(min_length=1, max_length=32)]
_Type = Annotated[str, Field(max_length=300)]
_MOMENT = Field(ge=0, le=1e11, allow_inf_nan=False)
_Spelled = Literal["NaN", "Infinity", "-Infinity"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExecutionSent(_Body):
    id: _Id
    run_id: _Id
    step: _Name
    function: _Type
    fingerprint: Annotated[str, Field(max_length=64)]
    cache_key: _Hex
    status: Literal["succeeded", "failed", "interrupted", "cached"]
    params: dict[str, Any] = Field(default_factory=dict)
    started_at: float = _MOMENT
    ended_at: float | None = _MOMENT
    cached_from: _Id | None = None
    error: str | None = Field(default=None, max_length=100_000)
    traceback: str | None = Field(default=None, max_length=1_000_000)
    logged_params: dict[str, Any] = Field(default_factory=dict)


class ArtifactSent(_Body):
    digest: _Hex
    kind: _Short
    codec: _Short
    size: int = Field(ge=0)
    type_name: _Type
    created_at: float = _MOMENT
    producer: _Id | None = None


class EventSent(_Body):
    execution_id: _Id
    digest: _Hex
    direction: Literal["input", "output"]
    name: _Name
    codec: _Short
    kind: _Short
    type_name: _Type


class MetricSent(_Body):
    run_id: _Id
    key: _Name
    value: float | _Spelled
    timestamp: float = _MOMENT
    execution_id: _Id
    step: int | None = Field(default=None, ge=-(2**62), le=2**62)


class BundleSent(_Body):
    execution: ExecutionSent
    artifacts: list[ArtifactSent] = Field(default_factory=list, max_length=100_000)
    events: list[EventSent] = Field(default_factory=list, max_length=100_000)
    metrics: list[MetricSent] = Field(default_factory=list, max_length=10_000)


class RegistrationSent(_Body):
    name: _Name
    digest: _Hex
    codec: _Short
    run_id: _Id
    execution_id: _Id
    user: str = Field(default="", max_length=200, description="ignored: the caller's")
    info: dict[str, Any] = Field(default_factory=dict)


class VerdictSent(_Body):
    name: _Name
    version: int = Field(ge=1, le=2**31)
    passed: bool
    policy_digest: Annotated[str, Field(max_length=64)]
    policy: dict[str, Any]
    results: list[dict[str, Any]] = Field(max_length=1000)
    created_at: float = _MOMENT
    created_by: str = Field(default="", max_length=200, description="ignored: the caller's")
    run_id: _Id
    execution_id: _Id


class ExecutionsSent(_Body):
    run: RunStarted | None = Field(
        default=None, description="the run's start, for a run not recorded yet (no end)"
    )
    executions: list[BundleSent] = Field(min_length=1, max_length=1000)
    registrations: list[RegistrationSent] = Field(default_factory=list, max_length=100)
    verdicts: list[VerdictSent] = Field(default_factory=list, max_length=100)


router = APIRouter(route_class=PlainRoute, tags=["runs"])


@router.post("/runs/{run_id}/executions", status_code=201)
def record_executions(ws: Writer, run_id: RunId, body: ExecutionsSent) -> dict[str, Any]:
    """Record executions of the run's steps, in one transaction, as the caller (who
    started the run, or an admin): their artifacts (whose bytes the server must hold
    already: upload them first), events and metric values, and the model versions they
    register (as the caller) and gate verdicts they reach. With ``run``, the run starts
    first (one it has not been told of yet; one it has is not started again)."""
    _check(ws, run_id, body)
    if body.run is not None:
        # A request sent again finds the run there; own() checks whose it is.
        with contextlib.suppress(RecordExistsError):
            ws.metadata.insert_run(started(ws, body.run))
    own(ws, run_id)
    if body.registrations or body.verdicts:
        require(ws, "developer", "register models")
    ws.metadata.record_executions(*_records(ws, body))
    return {"run_id": run_id, "executions": len(body.executions)}


def _check(ws: Workspace, run_id: str, body: ExecutionsSent) -> None:
    """Refuse, before anything is written, a body that does not hang together, or that
    names artifacts whose bytes the server lacks."""
    if body.run is not None and (body.run.id != run_id or body.run.end is not None):
        raise DataError(f"the run sent must be run {run_id[:12]}, started and not ended")
    ids = {b.execution.id for b in body.executions}
    if any(b.execution.run_id != run_id for b in body.executions):
        raise DataError(f"every execution sent must belong to run {run_id[:12]}")
    for b in body.executions:
        if any(m.run_id != run_id or m.execution_id not in ids for m in b.metrics):
            raise DataError("a metric value must name its run and an execution sent with it")
    told = [(r.run_id, r.execution_id) for r in body.registrations] + [
        (v.run_id, v.execution_id) for v in body.verdicts
    ]
    if any(run != run_id or execution not in ids for run, execution in told):
        raise DataError("a registration or verdict must name an execution sent with it")
    named = {a.digest for b in body.executions for a in b.artifacts}
    missing = sorted(d for d in named if not ws.artifacts.exists(d))
    if missing:
        raise DataError(
            f"the server holds no bytes of artifact {missing[0][:12]}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
            hint="upload an artifact's bytes (PUT /api/v1/blobs/DIGEST) before its record",
        )


def _records(
    ws: Workspace, body: ExecutionsSent
) -> tuple[list[ExecutionBundle], list[Registration], list[GateVerdictRecord]]:
    """The records ``body`` sends, as the caller's."""
    batch: list[ExecutionBundle] = [
        (
            ExecutionRecord(
                **{
                    **b.execution.model_dump(),
                    "params": restored(b.execution.params),
                    "logged_params": check_params(restored(b.execution.logged_params)),
                }
            ),
            [ArtifactRecord(**a.model_dump()) for a in b.artifacts],
            [EventRecord(**e.model_dump()) for e in b.events],
            [MetricRecord(**{**m.model_dump(), "value": number(m.value)}) for m in b.metrics],
        )
        for b in body.executions
    ]
    registrations = [
        Registration(
            **{
                **r.model_dump(),
                "name": check_name(r.name),
                "user": ws.user,
                "info": restored(r.info),
            }
        )
        for r in body.registrations
    ]
    verdicts = [
        GateVerdictRecord(
            **{
                **v.model_dump(),
                "created_by": ws.user,
                "policy": restored(v.policy),
                "results": restored(v.results),
            }
        )
        for v in body.verdicts
    ]
    return batch, registrations, verdicts


class PlannedSent(_Body):
    name: _Name
    fingerprint: Annotated[str, Field(max_length=64)]
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: dict[str, _Hex | tuple[_Name, _Name]] = Field(default_factory=dict)
    outputs: list[_Name] = Field(default_factory=list, max_length=1000)


class PlanAsked(_Body):
    steps: list[PlannedSent] = Field(max_length=10_000)
    registering: bool = True


@router.post("/cache/plan")
def plan(ws: Writer, body: PlanAsked) -> dict[str, Any]:
    """What the cache gives for a pipeline's cacheable steps, in one request: each step
    (in the graph's order) whose inputs are files or outputs of steps found, looked up by
    the key it will have (see ``GET /cache/{key}``; ``cached`` null when nothing is found);
    ``registering`` false also tries the key of a step that withheld a registration (a
    sweep's trial)."""
    steps = [
        PlannedStep(
            s.name,
            s.fingerprint,
            restored(s.params),
            {k: v if isinstance(v, str) else (v[0], v[1]) for k, v in s.inputs.items()},
            tuple(s.outputs),
        )
        for s in body.steps
    ]
    found = plan_cache(
        steps, ws.metadata.find_cached, register=body.registering, held=ws.artifacts.held
    )
    return {
        "found": {
            name: {"key": key, "cached": None if c is None else cached_json(c)}
            for name, (key, c) in found.items()
        }
    }


def cached_json(found: CachedExecution) -> dict[str, Any]:
    """A cached execution as JSON carries it."""
    return {
        "execution_id": found.execution_id,
        "outputs": {k: shallow_dict(a) for k, a in found.outputs.items()},
        "metrics": [{**shallow_dict(m), "value": spelled(m.value)} for m in found.metrics],
        "logged_params": spelled_out(found.logged_params),
    }


@router.get("/cache/{cache_key}")
def find_cached(
    ws: Ws, cache_key: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]
) -> dict[str, Any]:
    """The newest successful execution with ``cache_key``, whoever ran it, with its
    outputs, metric values and logged parameters (``cached`` null when there is none, or
    when the server no longer holds the bytes of one of its outputs)."""
    found = ws.metadata.find_cached(cache_key)
    if found is None or not all(ws.artifacts.exists(a.digest) for a in found.outputs.values()):
        return {"cached": None}
    return {"cached": cached_json(found)}


@router.get("/runs/{run_id}/executions")
def run_executions(ws: Ws, run_id: str) -> dict[str, Any]:
    """The executions of a run (by id, or its first characters), in the order they
    started; their parameters spell NaN and infinity as ``{"__float__": "nan"}``."""
    run = ws.metadata.get_run(run_id, whole=False)
    return {
        "run_id": run.id,
        "executions": [
            {
                **shallow_dict(e),
                "params": spelled_out(e.params),
                "logged_params": spelled_out(e.logged_params),
            }
            for e in ws.metadata.executions(run.id)
        ],
    }
