"""Model cards: what a model is for, on what data it was trained and how well it does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assay.errors import PolicyError
from assay.governance.policy import pydantic_problem, read_yaml

__all__ = ["DataSummary", "ModelCard", "SliceMetrics", "TEAM_FIELDS", "load_card_file", "missing"]


class DataSummary(BaseModel):
    """A dataset the model met: its artifact digest, size and label distribution."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    digest: str | None = None
    rows: int | None = None
    labels: dict[str, int] = Field(default_factory=dict)


class SliceMetrics(BaseModel):
    """Metrics on one slice of the evaluation data (one class, one segment)."""

    model_config = ConfigDict(extra="forbid")

    slice: str
    metrics: dict[str, float]


class ModelCard(BaseModel):
    """The card: filled from lineage and evaluation where possible, by the team elsewhere."""

    model_config = ConfigDict(extra="forbid")

    model: str = ""
    summary: str = ""
    intended_use: str = ""
    out_of_scope_use: str = ""
    owners: list[str] = Field(default_factory=list)
    training_data: DataSummary = Field(default_factory=DataSummary)
    evaluation_data: DataSummary = Field(default_factory=DataSummary)
    metrics: dict[str, float] = Field(default_factory=dict)
    slices: list[SliceMetrics] = Field(default_factory=list)
    limitations: str = ""
    ethical_considerations: str = ""
    references: list[str] = Field(default_factory=list)


TEAM_FIELDS = (
    "summary",
    "intended_use",
    "out_of_scope_use",
    "owners",
    "limitations",
    "ethical_considerations",
    "references",
)
"""The fields the team writes; the rest come from the run."""


def load_card_file(path: Path) -> dict[str, Any]:
    """The team's part of a card, read from YAML and checked against the schema.

    Raises:
        PolicyError: the file is missing or malformed (the error names the field).
    """
    raw = read_yaml(path, "model card file", "put model_card.yaml next to the pipeline") or {}
    if not isinstance(raw, dict):
        raise PolicyError(f"{path} must hold a mapping of card fields")
    extra = sorted(set(raw) - set(TEAM_FIELDS) - {"model"})
    if extra:
        raise PolicyError(
            f"{path}: field {extra[0]} is not a field the team fills",
            hint=f"fields: {', '.join(TEAM_FIELDS)}; data and metrics are filled from the run",
        )
    try:
        ModelCard.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(pydantic_problem(exc, path)) from None
    return dict(raw)


def missing(card: dict[str, Any], required: list[str]) -> list[str]:
    """The fields of ``required`` that the card leaves empty (or does not have)."""
    gaps = []
    for name in required:
        value = card.get(name)
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if v not in (None, "", [], {})}
        if value in (None, "", [], {}) or (isinstance(value, str) and not value.strip()):
            gaps.append(name)
    return gaps
