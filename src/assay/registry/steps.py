"""The built-in step that registers a pipeline's model."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from pydantic import StringConstraints

from assay.compiled import FORMAT, compile_model
from assay.core import current_context, step
from assay.errors import CompileError
from assay.registry.signature import infer_signature
from assay.registry.versions import NAME_PATTERN, SERVING_FORM

__all__ = ["register_model"]

_log = logging.getLogger(__name__)


@step(version="3", outputs={"registration": "value"})
def register_model(
    model: Any,
    # Checked when the pipeline is traced, not after hours of training.
    name: Annotated[str, StringConstraints(pattern=NAME_PATTERN)],
    metrics: dict[str, Any] | None = None,
    card: dict[str, Any] | None = None,
    reference: Any = None,
) -> dict[str, Any]:
    """Register ``model`` as a new version of model ``name``, with its evaluation metrics
    and its model card (both kept with the version).

    Use it near the end of a pipeline: ``register_model(model, name="sesame",
    metrics=report, card=card)``. The version is written with this step's record; when
    the same model artifact is already registered under ``name``, nothing new is written.
    The output names the model and artifact (the version number depends on the store, so
    it is not part of a cacheable output).

    ``reference`` is the data monitoring compares live inputs with: a sample of data the
    model did not learn from, in the columns it takes (``reference_sample`` of the
    evaluation split makes one). It is recorded as this step's ``reference`` input.

    A linear text model (a scikit-learn vectorizer, or a union of them, before a linear
    classifier) is also compiled to arrays, checked to give the same probabilities, and
    stored as the step's ``serving_form`` output: ``assay serve`` answers from it without
    loading scikit-learn. The version's ``serving`` information says which form it has.

    The model's signature is recorded as the version's ``signature`` information: a text
    model's one text column, or the columns a tabular model was fitted on with their types
    (from ``reference`` where it has them), and its classes or that it is a regressor (see
    ``assay.registry.Signature``). ``assay predict`` and the model server check inputs
    against it.
    """
    ctx = current_context()
    try:
        compiled = compile_model(model)
    except CompileError as exc:
        _log.info("%s is served as it is: %s", name, exc.message)
        serving = {"form": "model", "reason": exc.message}
    else:
        ctx.add_output(SERVING_FORM, compiled.to_bundle(), kind="serving_form")
        serving = {"form": "compiled", "format": FORMAT, "output": SERVING_FORM}
    info: dict[str, Any] = {"metrics": metrics or {}, "card": card or {}, "serving": serving}
    signature = infer_signature(model, reference)
    if signature is not None:
        info["signature"] = signature.to_dict()
    if reference is not None:
        info["reference"] = {
            "rows": len(reference),
            "columns": [str(c) for c in getattr(reference, "columns", [])],
        }
    return ctx.register_model(name, input_name="model", metadata=info)
