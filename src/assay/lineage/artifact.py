"""One artifact in its neighbourhood, as ``assay artifacts show`` tells it: what it is, the
step that made it, the steps that read it and the model versions registered from it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from assay.workspace import Workspace

__all__ = ["describe_artifact"]


def describe_artifact(ws: Workspace, ref: str, *, verify: bool = False) -> dict[str, Any]:
    """The artifact whose digest is or starts with ``ref``, as ``artifacts show --json``
    prints it; with ``verify``, its stored bytes are re-hashed first.

    Raises:
        ArtifactNotFoundError: no artifact, or more than one, matches.
        IntegrityError: ``verify``, and the stored bytes hash to something else.
    """
    meta = ws.metadata
    art = meta.get_artifact(ref)
    producer = meta.get_execution(art.producer) if art.producer else None
    consumers = [meta.get_execution(e.execution_id) for e in meta.events_for(art.digest, "input")]
    versions = meta.versions_of_digests([art.digest])
    if verify:
        ws.artifacts.get_bytes(art.digest)  # raises IntegrityError on a mismatch
    return {
        **asdict(art),
        "verified": verify,
        "producer": None
        if producer is None
        else {"execution": producer.id, "step": producer.step, "run": producer.run_id},
        "consumers": [
            {"execution": c.id, "step": c.step, "run": c.run_id, "status": c.status}
            for c in consumers
        ],
        "models": [f"{v.name}@{v.version}" for v in versions],
    }
