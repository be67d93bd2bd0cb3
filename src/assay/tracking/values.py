"""Checking what may be logged: parameter values and tags."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from assay.errors import DataError, ParameterError

__all__ = [
    "MAX_EXPERIMENT",
    "MAX_NAME",
    "check_experiment",
    "check_params",
    "check_tags",
    "contradicted",
    "same_value",
]

MAX_EXPERIMENT = 200  # the runs.experiment column

MAX_NAME = 250  # the longest parameter, metric or tag name every supported database takes


def check_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with names as strings, if every value is a string, number, bool or None.

    Raises:
        DataError: a name is too long or a value is not a scalar.
    """
    checked = {}
    for key, value in params.items():
        name = _name(key, "parameter")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise DataError(
                f"parameter {name!r} is a {type(value).__name__}, not a scalar",
                hint="log strings, numbers, booleans or None; put larger values in an artifact",
            )
        checked[name] = value
    return checked


def check_experiment(name: str) -> str:
    """``name`` stripped, if it is 1 to 200 characters long.

    Raises:
        ParameterError: it is not.
    """
    stripped = name.strip()
    if not stripped or len(stripped) > MAX_EXPERIMENT:
        raise ParameterError(
            f"experiment name {stripped[:40]!r} is {len(stripped)} characters long",
            hint=f"use a name of 1 to {MAX_EXPERIMENT} characters",
        )
    return stripped


def check_tags(tags: Mapping[str, Any]) -> dict[str, str]:
    """``tags`` as strings, with their names checked.

    Raises:
        DataError: a name is empty or too long.
    """
    return {_name(k, "tag"): str(v) for k, v in tags.items()}


def same_value(a: Any, b: Any) -> bool:
    """Equal parameter values, counting NaN as equal to NaN."""
    nan = isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    return nan or a == b


def contradicted(known: Mapping[str, Any], logged: Mapping[str, Any]) -> str | None:
    """The first name in ``logged`` whose value differs from the one in ``known``, if any."""
    return next((k for k, v in logged.items() if k in known and not same_value(known[k], v)), None)


def _name(key: Any, what: str) -> str:
    name = str(key)
    if not name or len(name) > MAX_NAME:
        raise DataError(
            f"{what} name {name[:40]!r} is {len(name)} characters long",
            hint=f"use names of 1 to {MAX_NAME} characters",
        )
    return name
