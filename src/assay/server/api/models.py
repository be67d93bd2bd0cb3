"""Models: versions with their gates and aliases, where an alias pointed at a date, and the
four-eyes flow (request, approve or reject, promote, roll back), checked against who is
authenticated."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from assay.governance import (
    history,
    identified,
    latest_verdict,
    parse_when,
    promote,
    request_promotion,
    review,
    rollback,
)
from assay.metadata import ModelVersionRecord
from assay.registry import MAX_VERSION, known_model, list_versions, resolve
from assay.server.api.deps import Writer, Ws
from assay.server.api.plain import PlainRoute
from assay.workspace import Workspace

__all__ = ["router"]

PathVersion = Annotated[int, Path(ge=1, le=MAX_VERSION)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PromotionAsked(_Body):
    version: int = Field(ge=1, le=MAX_VERSION)
    alias: str = Field(default="production", min_length=1, max_length=64)
    comment: str = Field(default="", max_length=10_000)


class Decision(_Body):
    comment: str = Field(min_length=1, max_length=10_000)


class Move(_Body):
    version: int = Field(ge=1, le=MAX_VERSION)
    reason: str = Field(default="", max_length=10_000)
    expected_version: int | None = Field(
        default=None,
        ge=1,
        le=MAX_VERSION,
        description="the version the alias held when the caller looked",
    )
    expect: bool = Field(
        default=False, description="refuse with a 409 unless the alias holds expected_version"
    )


class Rollback(_Body):
    reason: str = Field(default="", max_length=10_000)


def _version_json(ws: Workspace, v: ModelVersionRecord, aliases: list[str]) -> dict[str, Any]:
    verdict = latest_verdict(ws, v)
    gates = None if verdict is None else ("passed" if verdict.passed else "failed")
    return {**asdict(v), "aliases": aliases, "gates": gates}


router = APIRouter(route_class=PlainRoute, tags=["models"])


@router.get("/models")
def list_models(ws: Ws, name: str | None = None, archived: bool = False) -> dict[str, Any]:
    """Registered versions (of model ``name``), with their aliases and gate results, as
    ``assay models list --json`` gives them; archived ones only with ``archived``."""
    found = list_versions(ws, name)
    return {"versions": [v.to_json() for v in found if archived or v.record.archived_at is None]}


@router.get("/models/{name}/versions/{ref}")
def get_version(ws: Ws, name: str, ref: str) -> dict[str, Any]:
    """One version (a number or an alias) with its gate verdicts' evidence."""
    v = resolve(ws, f"{name}@{ref}")
    held = [a.alias for a in ws.metadata.aliases(name) if a.version == v.version]
    verdicts = [asdict(x) for x in ws.metadata.verdicts(v.name, v.version)]
    return {**_version_json(ws, v, held), "verdicts": verdicts}


@router.get("/models/{name}/history")
def alias_history(
    ws: Ws, name: str, alias: str | None = None, at: str | None = None
) -> dict[str, Any]:
    """Every move of the model's aliases (or one), oldest first, up to ``at`` (a date or
    time; now by default): who put what where, when, why, and the request approved."""
    known_model(ws, name)
    when = parse_when(at) if at else None
    moves = history(ws, name, alias, when)
    found = identified(ws, name, moves)
    return {
        "name": name,
        "moves": [asdict(m) for m in moves],
        "identified": {"moves": found.moves, "reviews": found.reviews},
    }


@router.get("/promotions")
def list_requests(ws: Ws, name: str | None = None, status: str | None = None) -> dict[str, Any]:
    """Promotion requests (of model ``name``, in ``status``), oldest first, with their
    reviews."""
    return {"requests": [asdict(r) for r in ws.metadata.requests(name, status=status)]}


@router.post("/models/{name}/promotions", status_code=201)
def ask(ws: Writer, name: str, body: PromotionAsked) -> dict[str, Any]:
    """Ask for version ``version`` to take ``alias``; approvers then review it."""
    found = request_promotion(ws, f"{name}@{body.version}", body.alias, body.comment)
    return asdict(found)


def decide(
    ws: Workspace, name: str, version: int, alias: str, body: Decision, ok: bool
) -> dict[str, Any]:
    found = review(ws, f"{name}@{version}", approve=ok, comment=body.comment, alias=alias)
    return asdict(found)


@router.post("/models/{name}/versions/{version}/promotions/{alias}/approve")
def approve(
    ws: Writer, name: str, version: PathVersion, alias: str, body: Decision
) -> dict[str, Any]:
    """Approve the open request: an approver who neither trained the version nor asked."""
    return decide(ws, name, version, alias, body, True)


@router.post("/models/{name}/versions/{version}/promotions/{alias}/reject")
def reject(
    ws: Writer, name: str, version: PathVersion, alias: str, body: Decision
) -> dict[str, Any]:
    """Reject the open request, saying why."""
    return decide(ws, name, version, alias, body, False)


@router.post("/models/{name}/aliases/{alias}")
def move(ws: Writer, name: str, alias: str, body: Move) -> dict[str, Any]:
    """Point ``alias`` at ``version`` (with ``expect``, only if it still holds
    ``expected_version``: a 409 says what moved it meanwhile)."""
    ref = f"{name}@{body.version}"
    if body.expect:
        moved = promote(ws, ref, alias, body.reason, expected=body.expected_version)
    else:
        moved = promote(ws, ref, alias, body.reason)
    return asdict(moved)


@router.post("/models/{name}/aliases/{alias}/rollback")
def roll_back(ws: Writer, name: str, alias: str, body: Rollback) -> dict[str, Any]:
    """Point ``alias`` back at the version it held before."""
    return asdict(rollback(ws, name, alias, body.reason))
