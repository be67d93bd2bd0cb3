"""What a run records into when it works through a team server: its runs, its steps and
its artifacts' bytes, all through one connection holding only a credential."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from assay.remote.blobs import HttpBlobs
from assay.remote.connection import Connection, connect
from assay.remote.models import HttpModels
from assay.remote.runs import HttpRuns
from assay.remote.steps import HttpSteps
from assay.settings import Settings
from assay.store import ArtifactStore, open_artifact_store

log = logging.getLogger("assay.remote")

__all__ = ["UNSENT", "Recording", "recording", "runs_for"]

UNSENT = "unsent"
"""The folder, in the user's configuration folder, of run ends kept while the server they
are for could not be reached."""


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
    runs = runs_for(settings, connection)
    blobs = HttpBlobs(connection, open_artifact_store(settings.artifact_root).blobs)
    artifacts = ArtifactStore(blobs, location=settings.server_url)
    return Recording(
        runs, HttpSteps(runs, blobs), HttpModels(connection), artifacts, settings.user, connection
    )


def runs_for(settings: Settings, connection: Connection) -> HttpRuns:
    """The runs repository of ``connection``, which keeps the ends of runs it cannot send
    in the configuration folder; those kept for this server earlier are sent first."""
    runs = HttpRuns(connection, spool=Path(settings.config_home) / UNSENT)
    try:
        runs.deliver()
    except Exception as exc:  # a new run is not held up by an old one's end
        log.warning("kept run ends were not sent: %s", exc)
    return runs
