"""The built-in step that registers a pipeline's model."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints

from assay.core import current_context, step
from assay.registry.versions import NAME_PATTERN

__all__ = ["register_model"]


@step(version="1", outputs={"registration": "value"})
def register_model(
    model: Any,
    # Checked when the pipeline is traced, not after hours of training.
    name: Annotated[str, StringConstraints(pattern=NAME_PATTERN)],
    metrics: dict[str, Any] | None = None,
    card: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Register ``model`` as a new version of model ``name``, with its evaluation metrics
    and its model card (both kept with the version).

    Use it near the end of a pipeline: ``register_model(model, name="sesame",
    metrics=report, card=card)``. The version is written with this step's record; when
    the same model artifact is already registered under ``name``, nothing new is written.
    The output names the model and artifact (the version number depends on the store, so
    it is not part of a cacheable output).
    """
    return current_context().register_model(
        name, input_name="model", metadata={"metrics": metrics or {}, "card": card or {}}
    )
