"""Deleting artifact bytes, except those that are evidence for a registered model version."""

from __future__ import annotations

from assay.errors import GovernanceError
from assay.governance.roles import require
from assay.metadata import ArtifactRecord, AuditEntry
from assay.metadata.state import STATE_TABLES
from assay.workspace import Workspace

__all__ = ["delete_artifact", "protecting_versions"]


def protecting_versions(ws: Workspace, digest: str) -> list[str]:
    """The registered versions whose run read or wrote ``digest`` (``NAME@VERSION``)."""
    found = []
    for version in ws.metadata.model_versions():
        executions = ws.metadata.executions(version.run_id)
        events = ws.metadata.events_of([e.id for e in executions])
        if version.digest == digest or any(e.digest == digest for e in events):
            found.append(f"{version.name}@{version.version}")
    return found


def delete_artifact(ws: Workspace, ref: str, reason: str) -> ArtifactRecord:
    """Delete the bytes of artifact ``ref`` (admins only), recording why in the audit log.

    The record stays, so lineage still names what was there; a cached step whose output is
    gone runs again.

    Raises:
        GovernanceError: the artifact is evidence for a registered version (its model, data,
            card or any other input or output of the run that made it), or no reason is given.
    """
    require(ws, "admin", "delete artifacts", reads=STATE_TABLES)
    artifact = ws.metadata.get_artifact(ref)
    if not reason.strip():
        raise GovernanceError("deleting an artifact needs a reason", hint="add --reason 'why'")
    versions = protecting_versions(ws, artifact.digest)
    if versions:
        raise GovernanceError(
            f"artifact {artifact.digest[:12]} is evidence for {', '.join(versions)} and cannot "
            "be deleted",
            hint="artifacts of registered model versions are kept for as long as the versions",
        )
    ws.artifacts.delete(artifact.digest)
    ws.metadata.record_event(
        AuditEntry("artifact.deleted", f"artifact:{artifact.digest}", {"reason": reason}), ws.user
    )
    return artifact
