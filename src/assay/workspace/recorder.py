"""What a pipeline run records into: a workspace on the store itself, or a team server's
repositories (``assay.remote.Recording``), behind one small Protocol."""

from __future__ import annotations

from typing import Protocol

from assay.metadata.runs import RunRepository, StepRepository
from assay.metadata.versions import ModelRepository
from assay.store import ArtifactStore

__all__ = ["Recorder"]


class Recorder(Protocol):
    """Where a run's records and artifacts go, and as whom."""

    @property
    def runs(self) -> RunRepository: ...

    @property
    def steps(self) -> StepRepository: ...

    @property
    def models(self) -> ModelRepository: ...

    @property
    def artifacts(self) -> ArtifactStore: ...

    @property
    def user(self) -> str: ...

    def close(self) -> None: ...
