"""A registry model loaded for serving: its version, classes and a batch predict function."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assay.compiled import CompiledTextModel, compile_model
from assay.errors import CompileError, RegistryError
from assay.metadata import ModelVersionRecord
from assay.registry import load_model, serving_form
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
    """Load ``record``'s model for serving, its bytes checked against their sha256 digest.

    A version registered with a compiled serving form is loaded from it: NumPy arrays, no
    scikit-learn. Any other is decoded with its codec (skops with an explicit list of
    trusted types for scikit-learn; nothing is unpickled), then compiled here if it can be
    (checked against the model, as at registration), so it answers at the same speed.

    Raises:
        RegistryError: the model cannot give class probabilities.
        IntegrityError: the stored bytes no longer match the digest.
    """
    form = serving_form(ws, record)
    if form is not None:
        compiled = CompiledTextModel.from_bundle(ws.artifacts.get(form.digest, form.codec))
        return LoadedModel(record, compiled, _classes(compiled), "compiled")
    _, model = load_model(ws, f"{record.name}@{record.version}")
    _release_memory()
    if not (hasattr(model, "predict_proba") and hasattr(model, "classes_")):
        raise RegistryError(
            f"{record.name}@{record.version} ({type(model).__name__}) cannot be served: it "
            "gives no class probabilities",
            hint="register a fitted scikit-learn classifier or pipeline with predict_proba",
        )
    try:
        return LoadedModel(record, compile_model(model), _classes(model), "compiled")
    except CompileError:
        return LoadedModel(record, model, _classes(model))


def _classes(model: Any) -> tuple[str, ...]:
    return tuple(str(c) for c in model.classes_)


def _release_memory() -> None:
    # Decoding a model allocates several times its final size; glibc keeps the freed
    # arenas, so a server would carry that peak for its whole life without this.
    import contextlib  # noqa: PLC0415
    import ctypes  # noqa: PLC0415
    import gc  # noqa: PLC0415

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do this way
        ctypes.CDLL("libc.so.6").malloc_trim(0)
