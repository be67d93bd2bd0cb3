"""A workspace: one metadata store and one artifact store, opened together from Settings."""

from __future__ import annotations

from dataclasses import dataclass

from assay.anchor import Anchor, FileSealer
from assay.metadata import MetadataStore, open_metadata
from assay.settings import Settings
from assay.store import ArtifactStore, open_artifact_store

__all__ = ["Workspace", "open_workspace"]


@dataclass(frozen=True, slots=True)
class Workspace:
    """The store every command reads and writes: metadata records plus artifact bytes."""

    metadata: MetadataStore
    artifacts: ArtifactStore
    user: str
    anchor: Anchor

    def close(self) -> None:
        """Release database connections."""
        self.metadata.close()


def open_workspace(
    settings: Settings, *, create: bool = True, create_folders: bool = False
) -> Workspace:
    """Open the store ``settings`` points at; the database is created and migrated if needed.

    With ``create`` false only an existing store is opened (what commands that only read
    do), and nothing is made when there is none. Artifact folders appear when the first
    artifact is written, or at once with ``create_folders`` (what ``assay init`` does).

    Raises:
        StoreNotFoundError: ``create`` is false and there is no store where ``settings`` point.
    """
    sealer = FileSealer(settings.audit_key, settings.audit_checkpoints, settings.audit_home)
    return Workspace(
        metadata=open_metadata(settings.db_url, actor=settings.user, sealer=sealer, create=create),
        anchor=sealer,
        artifacts=open_artifact_store(settings.artifact_root, create=create_folders),
        user=settings.user,
    )
