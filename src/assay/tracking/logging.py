"""Logging metrics from inside a step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assay.core import current_context

__all__ = ["log_metrics", "log_params", "set_note", "set_tags"]


def log_metrics(metrics: Mapping[str, float], *, step: int | None = None) -> None:
    """Record numeric metrics for the current run; they are written with the step's records.

    Args:
        metrics: metric name to value; NaN and inf are recorded as they are.
        step: optional index (epoch, iteration) for a metric's history.

    Raises:
        AssayError: called outside a running step, or a value is not a number.
    """
    current_context().log_metrics(metrics, step=step)


def log_params(params: Mapping[str, Any]) -> None:
    """Record parameters of the current run (strings, numbers, booleans or None).

    A name keeps one value for the whole run: logging it again with another value fails.
    Parameters logged by a step are recorded again on every run that reuses the step.

    Raises:
        DefinitionError: called outside a running step.
        DataError: a value is not a scalar or contradicts an earlier one.
    """
    current_context().log_params(params)


def set_tags(tags: Mapping[str, Any]) -> None:
    """Set tags of the current run; a tag set again takes the new value (shown as text)."""
    current_context().annotate(tags=tags)


def set_note(note: str) -> None:
    """Replace the free-text note of the current run."""
    current_context().annotate(note=str(note))
