"""The monitoring policy file: what ``assay monitor run`` watches, where alerts go, and what
starts the training pipeline again."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assay.errors import PolicyError
from assay.governance.policy import pydantic_problem, read_yaml

__all__ = [
    "MonitorPolicy",
    "NewData",
    "Retrain",
    "WebhookSpec",
    "load_monitor_policy",
    "seconds",
]

_Kind = Literal["drift", "performance"]
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(text: str) -> float:
    """``30s``, ``5m``, ``24h`` or ``7d`` in seconds.

    Raises:
        ValueError: ``text`` is no such duration.
    """
    found = _DURATION.match(text)
    if not found:
        raise ValueError(f"{text!r} is not a duration such as 30s, 5m, 24h or 7d")
    return float(found[1]) * _UNITS[found[2]]


def _both() -> list[_Kind]:
    return ["drift", "performance"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: Any) -> str:
    seconds(str(value))
    return str(value)


class WebhookSpec(_Strict):
    """Where new alerts are POSTed; the signing secret is read from an environment variable,
    so it is never written in the file."""

    url: str
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    retries: int = Field(default=3, ge=0, le=10)
    secret_env: str | None = None


class NewData(_Strict):
    """A folder whose new or changed files start a run, given as parameter ``param``."""

    folder: str
    param: str | None = None


class Retrain(_Strict):
    """What starts the training pipeline again, and what may happen to its version."""

    pipeline: str
    """The pipeline to run: a folder, a file or ``module:attribute``, relative to the policy."""
    params: dict[str, Any] = Field(default_factory=dict)
    feedback: str | None = None
    """A pipeline parameter given a CSV of the logged inputs with late labels (columns
    ``text`` and ``label``), so the new version also learns from live traffic. The CSV is
    an artifact of the store, read from there (from a temporary copy on an object store),
    never written next to the policy or the code."""
    # Not ``on``: YAML reads that key as the boolean true.
    alerts: list[_Kind] = Field(default_factory=_both)
    """The kinds of alert that start a retraining."""
    schedule: str | None = None
    """Also retrain when the last retraining is older than this (``30d``)."""
    new_data: NewData | None = None
    cooldown: str = "1h"
    """No retraining sooner than this after the last one, whatever the cause."""
    staging: Literal["auto", "manual"] = "auto"
    """``auto``: a new version that passed its gates moves to staging at once."""
    production: Literal["approval", "auto"] = "approval"
    """``approval``: a promotion request is opened and waits for an approver. ``auto`` moves
    it at once, and only where the model's own policy lists production under
    ``approval.automatic``."""
    experiment: str = "retraining"

    @field_validator("schedule", "cooldown")
    @classmethod
    def _check_durations(cls, value: str | None) -> str | None:
        return None if value is None else _duration(value)


class MonitorPolicy(_Strict):
    """A monitoring policy: one served model reference watched by ``assay monitor run``."""

    model: str
    """The reference watched, such as ``sesame@production``; an alias is followed as it moves."""
    every: str = "5m"
    """How often a round of checks runs."""
    window: str | int = "24h"
    """A duration (requests answered in that time) or a number (the newest requests)."""
    checks: list[_Kind] = Field(default_factory=_both)
    alpha: float = Field(default=0.01, gt=0, lt=1)
    min_rows: int = Field(default=100, ge=1)
    tolerance: float = Field(default=0.05, ge=0, le=1)
    webhook: WebhookSpec | None = None
    retrain: Retrain | None = None

    @field_validator("every")
    @classmethod
    def _check_every(cls, value: str) -> str:
        return _duration(value)

    @field_validator("window")
    @classmethod
    def _check_window(cls, value: str | int) -> str | int:
        if isinstance(value, int):
            if value < 1:
                raise ValueError("a window of requests must hold at least 1")
            return value
        return _duration(value)


def load_monitor_policy(path: Path) -> MonitorPolicy:
    """Read and check a monitoring policy file (YAML).

    Raises:
        PolicyError: the file is missing, not YAML, or a field is unknown or invalid.
    """
    raw = read_yaml(
        path, "monitoring policy", "pass --policy FILE, such as examples/sesame/monitor.yaml"
    )
    try:
        return MonitorPolicy.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        raise PolicyError(
            pydantic_problem(exc, path),
            hint="see docs/concepts/monitoring.md for the monitoring policy's fields",
        ) from None
