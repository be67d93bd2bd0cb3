"""Policy and model-card files: the schema, and errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.errors import PolicyError
from assay.governance import evaluate_gates, load_card_file, load_policy
from assay.governance.policy import Gates
from tests.conftest import ROOT
from tests.governed import CARD, POLICY


def write(tmp_path: Path, text: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_shipped_sesame_files_are_valid() -> None:
    policy, plain = load_policy(ROOT / "examples" / "sesame" / "policy.yaml")
    assert policy.gates.min_metrics["macro_f1"] == 0.70 and plain["approval"]["approvers"] == 1
    card = load_card_file(ROOT / "examples" / "sesame" / "model_card.yaml")
    assert card["owners"] and card["intended_use"]


def test_toy_policy_round_trips(tmp_path: Path) -> None:
    policy, plain = load_policy(write(tmp_path, POLICY))
    assert policy.gates.no_regression is not None
    assert plain["gates"]["no_regression"] == {
        "metric": "macro_f1",
        "tolerance": 0.02,
        "against": "production",
    }
    assert load_card_file(write(tmp_path, CARD, "card.yaml"))["owners"] == ["alice"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("gates:\n  min_metric: {a: 1}\n", "field gates.min_metric: Extra inputs"),
        ("gates:\n  min_metrics: {macro_f1: high}\n", "field gates.min_metrics.macro_f1"),
        ("gates:\n  no_regression: {tolerance: 0.1}\n", "field gates.no_regression.metric"),
        ("gates:\n  no_regression: {metric: f1, tolerance: -1}\n", "no_regression.tolerance"),
        ("approval:\n  approvers: 0\n", "field approval.approvers"),
        ("gates: [\n", "is not valid YAML"),
        ("- a\n- b\n", "field (top level)"),
    ],
)
def test_malformed_policy_names_the_field(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(write(tmp_path, text))
    assert needle in caught.value.message


def test_missing_policy_and_bad_card(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read the policy file"):
        load_policy(tmp_path / "none.yaml")
    with pytest.raises(PolicyError, match="field metrics is not a field the team fills"):
        load_card_file(write(tmp_path, "metrics: {a: 1}\n", "card.yaml"))
    with pytest.raises(PolicyError, match="field owners"):
        load_card_file(write(tmp_path, "owners: 3\n", "card.yaml"))


def test_gates_fail_on_missing_or_nan_metrics_and_empty_card_fields() -> None:
    gates = Gates(
        min_metrics={"macro_f1": 0.5, "absent": 0.1},
        max_metrics={"error": 0.2},
        model_card_fields=["intended_use", "owners", "training_data"],
    )
    results = {
        r.gate: r
        for r in evaluate_gates(
            gates,
            metrics={"macro_f1": float("nan"), "error": 0.1},
            card={"intended_use": "  ", "owners": ["x"], "training_data": {"rows": None}},
            validation=None,
            baseline=None,
        )
    }
    assert not results["min macro_f1"].passed and not results["min absent"].passed
    assert results["max error"].passed
    card = results["model card filled"]
    assert not card.passed and card.detail == "empty: intended_use, training_data"
