"""`pb` again, as a pipeline that monitoring can retrain: gated by a small policy, and
taking live inputs with late labels as ``feedback`` for its training split."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import assay
from assay import Settings, pipeline, register_model, step
from assay.governance import check_gates, grant, promote, request_promotion, review
from assay.monitoring import reference_sample
from assay.workspace import Workspace, open_workspace
from tests.monitoring.phrasebank import evaluate, fit, split_corpus

POLICY = """
model: pb
gates:
  min_metrics: {macro_f1: 0.5}
  no_regression: {metric: macro_f1, tolerance: 0.05, against: production}
approval:
  approvers: 1
"""


@step(outputs={"train": "dataset"})
def add_feedback(train: pd.DataFrame, feedback: Path) -> pd.DataFrame:
    extra = pd.read_csv(feedback, dtype=str, keep_default_na=False)
    rows = pd.DataFrame({"sentence": extra["text"], "label": extra["label"]})
    return pd.concat([train, rows], ignore_index=True)


@pipeline
def retrainable(policy: Path, feedback: Path | None = None) -> None:
    train, test = split_corpus()
    if feedback is not None:
        train = add_feedback(train, feedback)
    model = fit(train)
    metrics = evaluate(model, test)
    reference = reference_sample(test, text_column="sentence", label_column="label")
    registration = register_model(model, name="pb", metrics=metrics, reference=reference)
    check_gates(registration, policy=policy)


def in_production(ws: Workspace, settings: Settings, folder: Path, policy: str = POLICY) -> Path:
    """Train pb@1 as ``ws``'s user, have bob approve it and put it in production; returns
    the gate policy's path (``settings``: the store's, for bob to open it too)."""
    path = folder / "policy.yaml"
    path.write_text(policy)
    assay.run(retrainable, {"policy": path}, workspace=ws)
    grant(ws, "bob", "approver")
    request_promotion(ws, "pb@1", comment="first version")
    bob = open_workspace(settings.as_user("bob"))
    review(bob, "pb@1", approve=True, comment="read")
    bob.close()
    promote(ws, "pb@1", "production")
    return path
