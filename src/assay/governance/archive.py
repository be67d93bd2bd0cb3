"""Archiving versions: hidden from listings and ``NAME@latest``, kept as evidence, audited."""

from __future__ import annotations

from assay.errors import GovernanceError
from assay.governance.roles import require
from assay.metadata import ModelVersionRecord
from assay.metadata.state import STATE_TABLES
from assay.registry import parse_ref, resolve
from assay.workspace import Workspace

__all__ = ["archive", "restore"]


def archive(ws: Workspace, ref: str, reason: str) -> ModelVersionRecord:
    """Archive version ``ref`` (``NAME@VERSION``), recording who and why in the audit log.

    Its records, artifacts and lineage are kept; ``NAME@VERSION`` still names it.

    Raises:
        GovernanceError: no reason, no version number, the version is archived already or
            an alias points at it.
        PermissionDenied: the user lacks the developer role.
    """
    version = _version(ws, ref, reason, "archive")
    return ws.metadata.archive_version(version.name, version.version, by=ws.user, reason=reason)


def restore(ws: Workspace, ref: str, reason: str) -> ModelVersionRecord:
    """Bring archived version ``ref`` back, recording who and why in the audit log.

    Raises:
        GovernanceError: no reason, no version number, or the version is not archived.
        PermissionDenied: the user lacks the developer role.
    """
    version = _version(ws, ref, reason, "restore")
    return ws.metadata.restore_version(version.name, version.version, by=ws.user, reason=reason)


def _version(ws: Workspace, ref: str, reason: str, action: str) -> ModelVersionRecord:
    parsed = parse_ref(ref)
    if parsed.version is None:
        # @latest moves as versions come and go; what is archived must be named exactly.
        raise GovernanceError(
            f"{action} names one version by its number, not {ref!r}",
            hint=f"write {parsed.name}@N; `assay models list {parsed.name} --all` lists them",
        )
    if not reason.strip():
        raise GovernanceError(f"{action} needs a reason", hint="add --reason 'why'")
    require(ws, "developer", f"{action} model versions", reads=STATE_TABLES)
    return resolve(ws, ref)
