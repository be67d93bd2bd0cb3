"""Public fakes for users' own tests: an in-memory workspace and blob storage."""

from __future__ import annotations

from assay.anchor import MemorySealer
from assay.metadata import open_metadata
from assay.store import ArtifactStore, MemoryBlobStorage
from assay.workspace import Workspace

__all__ = ["MemoryBlobStorage", "memory_workspace"]


def memory_workspace(user: str = "test-user") -> Workspace:
    """A workspace held entirely in memory: SQLite ``:memory:`` and a dict of blobs."""
    anchor = MemorySealer()
    return Workspace(
        metadata=open_metadata("sqlite://", actor=user, sealer=anchor),
        artifacts=ArtifactStore(MemoryBlobStorage()),
        user=user,
        anchor=anchor,
    )
