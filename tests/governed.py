"""A small governed pipeline for the governance, audit and report tests: a model (a dict of
weights, stored as JSON) whose "evaluation" is given as a parameter, a card, a registration
and the policy gates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

import assay
from assay import Settings, pipeline, register_model, step
from assay.governance import (
    check_gates,
    grant,
    model_card,
    promote,
    request_promotion,
    review,
)
from assay.workspace import Workspace, open_workspace

POLICY = """
model: toy
gates:
  min_metrics: {macro_f1: 0.7}
  min_per_class: {recall: 0.5}
  no_regression: {metric: macro_f1, tolerance: 0.02, against: production}
  model_card_fields: [intended_use, owners, limitations]
  data_validation: true
approval:
  approvers: 1
"""

CARD = """
summary: A toy classifier.
intended_use: Tests of assay's governance.
out_of_scope_use: Anything real.
owners: [alice]
limitations: It knows two classes.
ethical_considerations: None; it is a toy.
"""


def write_project(folder: Path, *, policy: str = POLICY, card: str = CARD) -> tuple[Path, Path]:
    """Write the policy and card files; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "policy.yaml").write_text(policy)
    (folder / "model_card.yaml").write_text(card)
    return folder / "policy.yaml", folder / "model_card.yaml"


@step
def make_data(rows: int = 20) -> pd.DataFrame:
    return pd.DataFrame({"text": [f"t{i}" for i in range(rows)], "label": ["a", "b"] * (rows // 2)})


@step(outputs=["model", "report"])
def fit(
    data: pd.DataFrame, quality: float = 0.8, weight: float = 1.0
) -> tuple[dict[str, Any], dict[str, Any]]:
    model = {"weight": weight, "rows": len(data)}
    report = {
        "n": len(data),
        "labels": ["a", "b"],
        "accuracy": quality,
        "macro_f1": quality,
        "per_class": {
            "a": {"precision": quality, "recall": quality, "f1": quality, "support": 10},
            "b": {"precision": quality, "recall": quality - 0.1, "f1": quality, "support": 10},
        },
        "confusion_matrix": [[8, 2], [3, 7]],
    }
    return model, report


@step
def check(data: pd.DataFrame, ok: bool = True) -> dict[str, Any]:
    return {"passed": ok, "rows": len(data), "issues": []}


@pipeline
def toy(
    policy: Path,
    card: Path,
    quality: float = 0.8,
    weight: float = 1.0,
    valid: bool = True,
) -> None:
    data = make_data()
    validation = check(data, ok=valid)
    model, report = fit(data, quality=quality, weight=weight)
    card_value = model_card(card, evaluation=report, training_data=data, evaluation_data=data)
    registration = register_model(model, name="toy", metrics=report, card=card_value)
    check_gates(registration, policy=policy, validation=validation)


def promoted_toy(settings: Settings, folder: Path) -> Workspace:
    """A store where alice trained toy@1, bob approved it and alice promoted it to
    production; returns alice's open workspace (the caller closes it)."""
    policy, card = write_project(folder)
    alice = open_workspace(settings)
    assay.run(toy, {"policy": policy, "card": card}, workspace=alice)
    grant(alice, "bob", "approver")
    request_promotion(alice, "toy@1", comment="ready for production")
    bob = open_workspace(settings.as_user("bob"))
    review(bob, "toy@1", approve=True, comment="metrics and card checked")
    bob.close()
    promote(alice, "toy@1", "production")
    return alice
