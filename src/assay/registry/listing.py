"""Registered versions as ``assay models list`` shows them: each with the aliases pointing
at it and the result of its newest gate verdict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assay.metadata import ModelVersionRecord, shallow_dict
from assay.registry.versions import gate_results, known_model
from assay.workspace import Workspace

__all__ = ["ListedVersion", "list_versions"]


@dataclass(frozen=True, slots=True)
class ListedVersion:
    """A version, the aliases pointing at it, and ``passed`` or ``failed`` by its newest
    gate verdict (None: its gates never ran)."""

    record: ModelVersionRecord
    aliases: list[str]
    gates: str | None

    def to_json(self) -> dict[str, Any]:
        """As ``assay models list --json`` and ``GET /api/v1/models`` give it."""
        # Shallow: dataclasses.asdict deep-copies each version's metrics and signature
        # only for them to be encoded.
        return {**shallow_dict(self.record), "aliases": self.aliases, "gates": self.gates}


def list_versions(ws: Workspace, name: str | None = None) -> list[ListedVersion]:
    """Every version (of model ``name``), archived ones too, oldest first by model.

    Raises:
        ModelNotFoundError: no model is called ``name``.
    """
    with ws.snapshot() as seen:  # one read transaction for the three tables
        every = seen.metadata.model_versions(name)
        if name is not None and not every:
            known_model(seen, name)  # raises, naming the models there are
            return []
        aliases: dict[tuple[str, int], list[str]] = {}
        for a in seen.metadata.aliases(name):
            aliases.setdefault((a.name, a.version or 0), []).append(a.alias)
        gates = {
            (model, version): "passed" if passed else "failed"
            for model in sorted({v.name for v in every})
            for version, passed in gate_results(seen, model).items()
        }
    return [
        ListedVersion(v, aliases.get((v.name, v.version), []), gates.get((v.name, v.version)))
        for v in every
    ]
