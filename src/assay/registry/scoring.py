"""A version's model as it is scored: its compiled form, else the model compiled when
loaded, else the registered model itself."""

from __future__ import annotations

from typing import Any

from assay.compiled import CompiledTextModel, compile_linear, compile_model
from assay.errors import CompileError
from assay.metadata import ModelVersionRecord
from assay.registry.versions import serving_form
from assay.workspace import Workspace

__all__ = ["load_scorer"]


def load_scorer(ws: Workspace, record: ModelVersionRecord) -> tuple[Any, str]:
    """``record``'s model ready to score, and its form: ``compiled`` or ``model``.

    A version registered with a compiled serving form is loaded from it: NumPy arrays, no
    scikit-learn. Any other is decoded with its codec (skops with an explicit list of
    trusted types for scikit-learn; nothing is unpickled), then compiled if it can be (a
    linear text pipeline, or a linear model of numeric columns; checked against the model,
    as at registration). Every artifact's bytes are checked against their sha256 digest
    first.

    Raises:
        IntegrityError: the stored bytes no longer match their digest.
    """
    form = serving_form(ws, record)
    if form is not None:
        return CompiledTextModel.from_bundle(ws.artifacts.get(form.digest, form.codec)), "compiled"
    model = ws.artifacts.get(record.digest, record.codec)
    _release_memory()
    for compile_form in (compile_model, compile_linear):
        try:
            return compile_form(model), "compiled"
        except CompileError:
            continue
    return model, "model"


def _release_memory() -> None:
    # Decoding a model allocates several times its final size; glibc keeps the freed
    # arenas, so a server would carry that peak for its whole life without this.
    import contextlib  # noqa: PLC0415
    import ctypes  # noqa: PLC0415
    import gc  # noqa: PLC0415

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do this way
        ctypes.CDLL("libc.so.6").malloc_trim(0)
