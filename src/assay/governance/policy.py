"""The policy file kept next to a pipeline: the gates a version must pass, and approvals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assay.errors import PolicyError

__all__ = [
    "Approval",
    "Gates",
    "Policy",
    "Regression",
    "load_policy",
    "pydantic_problem",
    "read_yaml",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Regression(_Strict):
    """No drop of ``metric`` beyond ``tolerance`` against the version at alias ``against``."""

    metric: str
    tolerance: float = Field(default=0.0, ge=0)
    against: str = "production"


class Gates(_Strict):
    """What a version must show before it may move to ``staging`` or ``production``."""

    min_metrics: dict[str, float] = Field(default_factory=dict)
    """Lowest allowed value of each named metric (``macro_f1``, ``accuracy``, ...)."""
    max_metrics: dict[str, float] = Field(default_factory=dict)
    """Highest allowed value of each named metric (an error rate, say)."""
    min_per_class: dict[str, float] = Field(default_factory=dict)
    """Lowest allowed value of a per-class metric (``recall``, ``precision``, ``f1``) for
    every class."""
    no_regression: Regression | None = None
    model_card_fields: list[str] = Field(default_factory=list)
    """Model-card fields that must be filled."""
    data_validation: bool = False
    """The data validation report given to the gate step must have passed."""


class Approval(_Strict):
    """Who must agree before an alias in ``aliases`` moves."""

    approvers: int = Field(default=1, ge=1, le=10)
    aliases: list[str] = Field(default_factory=lambda: ["production"])
    automatic: list[str] = Field(default_factory=list)
    """Aliases that a retraining started by monitoring may move to without approval, once
    the new version passed its gates: an explicit opt-out of four eyes, recorded with the
    verdict. Empty by default: ``production`` then always waits for an approver."""


class Policy(_Strict):
    """A policy file: gates and approval rules for one model."""

    model: str | None = None
    gates: Gates = Field(default_factory=Gates)
    approval: Approval = Field(default_factory=Approval)


def pydantic_problem(exc: ValidationError, source: object) -> str:
    """The first problem of a validation error, naming the field by its path."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    return f"{source}: field {where}: {first['msg']}"


def read_yaml(path: Path, what: str, hint: str) -> Any:
    """The YAML value in ``path`` (a governance file: ``what``).

    Raises:
        PolicyError: the file cannot be read (with ``hint``) or is not YAML.
    """
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"cannot read the {what} {path}: {exc.strerror}", hint=hint) from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path} is not valid YAML: {exc}".splitlines()[0]) from None


def load_policy(path: Path) -> tuple[Policy, dict[str, Any]]:
    """Read and check a policy file (YAML or JSON); returns the policy and its plain form.

    Raises:
        PolicyError: the file is missing, not YAML, or a field is unknown or invalid.
    """
    raw = read_yaml(
        path, "policy file", "put policy.yaml next to the pipeline, or pass --param policy=FILE"
    )
    try:
        policy = Policy.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        raise PolicyError(
            pydantic_problem(exc, path), hint="see docs/concepts/governance.md for the schema"
        ) from None
    return policy, policy.model_dump(mode="json")
