"""The built-in step that registers a pipeline's model."""

from __future__ import annotations

from typing import Any

from assay.core import current_context, step

__all__ = ["register_model"]


@step(version="1", outputs={"version": "value"})
def register_model(model: Any, name: str, metrics: dict[str, Any] | None = None) -> dict[str, Any]:
    """Register ``model`` as a new version of model ``name``, with its evaluation metrics.

    Use it as the last call of a pipeline: ``register_model(model, name="sesame",
    metrics=report)``. When the same model artifact is already registered under ``name``,
    its existing version is returned and nothing new is written.
    """
    return current_context().register_model(
        name, input_name="model", metadata={"metrics": metrics or {}}
    )
