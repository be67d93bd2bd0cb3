"""A workspace: one metadata store and one artifact store, opened together from Settings."""

from __future__ import annotations

from dataclasses import dataclass

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

    def close(self) -> None:
        """Release database connections."""
        self.metadata.close()


def open_workspace(settings: Settings) -> Workspace:
    """Open (creating if needed) the store that ``settings`` points at."""
    return Workspace(
        metadata=open_metadata(settings.db_url),
        artifacts=open_artifact_store(settings.artifact_root),
        user=settings.user,
    )
