"""The model versions repository, as a run reads it: the versions registered from
artifacts, a version by number or alias, and the gate verdicts on it; from a database
(``MetadataStore``) or a team server (``assay.remote.HttpModels``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from assay.metadata.records import GateVerdictRecord, ModelVersionRecord

__all__ = ["ModelRepository"]


class ModelRepository(Protocol):
    """Registered model versions, read."""

    def versions_of_digests(self, digests: Sequence[str]) -> list[ModelVersionRecord]:
        """Model versions registered from any of ``digests``, by name and number."""
        ...

    def model_version(self, name: str, version: int | None) -> ModelVersionRecord | None:
        """Version ``version`` of ``name``, or its highest number (archived or not) when
        ``version`` is None; None when there is none."""
        ...

    def alias_version(self, name: str, alias: str) -> int | None:
        """The version number ``alias`` of ``name`` points at; None when it points at none."""
        ...

    def verdicts(self, name: str, version: int | None = None) -> list[GateVerdictRecord]:
        """Gate verdicts on a model (or one of its versions), oldest first."""
        ...
