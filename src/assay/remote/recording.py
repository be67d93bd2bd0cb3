"""What a run records into when it works through a team server: its runs, its steps and
its artifacts' bytes, all through one connection holding only a credential."""

from __future__ import annotations

from dataclasses import dataclass

from assay.remote.blobs import HttpBlobs
from assay.remote.connection import Connection, connect
from assay.remote.models import HttpModels
from assay.remote.runs import HttpRuns
from assay.remote.steps import HttpSteps
from assay.settings import Settings
from assay.store import ArtifactStore, open_artifact_store

__all__ = ["Recording", "recording"]


@dataclass(frozen=True, slots=True)
class Recording:
    """The repositories of a team server, as ``user`` (who the server records the work
    as is whoever the credential stands for: ``user`` is only what this process calls
    them)."""

    runs: HttpRuns
    steps: HttpSteps
    models: HttpModels
    artifacts: ArtifactStore
    user: str
    connection: Connection

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


def recording(settings: Settings) -> Recording:
    """The team server ``settings.server_url`` names, with the settings' artifact root as
    the local cache of artifact bytes (kept by digest, checked on every read).

    Raises:
        AuthenticationError: the kept credential has expired.
    """
    connection = connect(settings)
    runs = HttpRuns(connection)
    blobs = HttpBlobs(connection, open_artifact_store(settings.artifact_root).blobs)
    artifacts = ArtifactStore(blobs, location=settings.server_url)
    return Recording(
        runs, HttpSteps(runs, blobs), HttpModels(connection), artifacts, settings.user, connection
    )
