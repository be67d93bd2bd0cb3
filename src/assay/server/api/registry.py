"""The registry's records as a run reads them through the server: versions registered
from artifacts, a version by number, where an alias points, the gate verdicts on a
version. What ``assay.remote.HttpModels`` calls; any authenticated user reads them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from assay.core import spelled_out
from assay.metadata import GateVerdictRecord, ModelVersionRecord, shallow_dict
from assay.server.api.deps import Ws
from assay.server.api.plain import PlainRoute

__all__ = ["DIGESTS", "router", "verdict", "version"]

DIGESTS = 200
"""The most digests one question may name (a URL of 15 KB)."""

Name = Annotated[str, Query(min_length=1, max_length=200)]
Number = Annotated[int | None, Query(ge=1, le=2**31)]

router = APIRouter(route_class=PlainRoute, tags=["models"])


@router.get("/registry/versions")
def versions_of_digests(
    ws: Ws,
    digest: Annotated[
        list[Annotated[str, Query(pattern=r"^[0-9a-f]{64}$")]], Query(max_length=DIGESTS)
    ],
) -> dict[str, Any]:
    """The model versions registered from any of the artifacts ``digest`` names (repeat
    it, 200 times at most), by name and number."""
    return {"versions": [version(v) for v in ws.metadata.versions_of_digests(digest)]}


@router.get("/registry/version")
def model_version(
    ws: Ws, name: Name, version_: Annotated[Number, Query(alias="version")] = None
) -> dict[str, Any]:
    """Version ``version`` of model ``name`` (its highest number when none is given);
    ``version`` null when there is none."""
    found = ws.metadata.model_version(name, version_)
    return {"version": None if found is None else version(found)}


@router.get("/registry/alias")
def alias_version(ws: Ws, name: Name, alias: Name) -> dict[str, Any]:
    """The version number ``alias`` of model ``name`` points at (null: none)."""
    return {"version": ws.metadata.alias_version(name, alias)}


@router.get("/registry/verdicts")
def verdicts(
    ws: Ws, name: Name, version_: Annotated[Number, Query(alias="version")] = None
) -> dict[str, Any]:
    """The gate verdicts on model ``name`` (or one of its versions), oldest first."""
    return {"verdicts": [verdict(v) for v in ws.metadata.verdicts(name, version_)]}


def version(record: ModelVersionRecord) -> dict[str, Any]:
    """A version's record as JSON carries it (NaN and inf spelled out)."""
    return {**shallow_dict(record), "info": spelled_out(record.info)}


def verdict(record: GateVerdictRecord) -> dict[str, Any]:
    """A verdict's record as JSON carries it (NaN and inf spelled out)."""
    return {
        **shallow_dict(record),
        "policy": spelled_out(record.policy),
        "results": spelled_out(record.results),
    }
