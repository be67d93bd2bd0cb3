"""A registry model loaded for serving: its version, classes and a batch predict function."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assay.errors import RegistryError
from assay.metadata import ModelVersionRecord
from assay.registry import load_scorer
from assay.workspace import Workspace

__all__ = ["LoadedModel", "load_version"]


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """One model version in memory. Immutable: a swap replaces the whole object, so a
    request that started on it finishes on it."""

    record: ModelVersionRecord
    model: Any
    classes: tuple[str, ...]
    form: str = "model"  # "compiled": NumPy arrays; "model": the registered object itself

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def version(self) -> int:
        return self.record.version

    @property
    def platform(self) -> str:
        """What answers: ``assay-linear-text`` (the compiled form) or ``sklearn``."""
        return "assay-linear-text" if self.form == "compiled" else "sklearn"

    @property
    def lineage_id(self) -> str:
        """The model artifact's digest: ``assay lineage sha256:<it>`` shows what made it."""
        return f"sha256:{self.record.digest}"

    def predict(self, texts: Sequence[str]) -> tuple[list[str], list[list[float]]]:
        """Labels and class probabilities (in ``classes`` order) for a batch of texts."""
        import numpy as np  # noqa: PLC0415

        proba = np.asarray(self.model.predict_proba(list(texts)), dtype=float)
        labels = [self.classes[i] for i in proba.argmax(axis=1)]
        return labels, proba.tolist()


def load_version(ws: Workspace, record: ModelVersionRecord) -> LoadedModel:
    """Load ``record``'s model for serving (see ``assay.registry.load_scorer``: the compiled
    form where there is one; bytes checked against their sha256; nothing unpickled).

    Raises:
        RegistryError: the model cannot give class probabilities.
        IntegrityError: the stored bytes no longer match the digest.
    """
    model, form = load_scorer(ws, record)
    if not (hasattr(model, "predict_proba") and hasattr(model, "classes_")):
        raise RegistryError(
            f"{record.name}@{record.version} ({type(model).__name__}) cannot be served: it "
            "gives no class probabilities",
            hint="register a fitted scikit-learn classifier or pipeline with predict_proba",
        )
    return LoadedModel(record, model, tuple(str(c) for c in model.classes_), form)
