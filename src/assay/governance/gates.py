"""Evaluating a policy's gates on one model version, each with its evidence."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from assay.governance.cards import ModelCard, missing
from assay.governance.policy import Gates

__all__ = ["GateResult", "evaluate_gates", "metric_value"]


@dataclass(frozen=True, slots=True)
class GateResult:
    """One gate: passed or not, what was seen, what was required, and why."""

    gate: str
    passed: bool
    detail: str
    observed: Any = None
    required: Any = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form."""
        return asdict(self)


def metric_value(metrics: Mapping[str, Any], name: str) -> float | None:
    """A metric by name: top-level (``macro_f1``) or per class (``recall_negative``)."""
    value = metrics.get(name)
    if value is None:
        per_class = metrics.get("per_class") or {}
        for label, values in per_class.items():
            for key, number in values.items():
                if f"{key}_{label}" == name:
                    value = number
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def evaluate_gates(
    gates: Gates,
    *,
    metrics: Mapping[str, Any],
    card: Mapping[str, Any],
    validation: Mapping[str, Any] | None,
    baseline: tuple[str, Mapping[str, Any]] | None,
) -> list[GateResult]:
    """Every gate of ``gates`` on a version's evaluation ``metrics``, ``card`` and data
    ``validation`` report; ``baseline`` is the (label, metrics) of the version compared with
    for regressions, or None when there is none. A metric that is missing or NaN fails."""
    results = [
        _bound(f"min {name}", metric_value(metrics, name), low, above=True)
        for name, low in gates.min_metrics.items()
    ]
    results += [
        _bound(f"max {name}", metric_value(metrics, name), high, above=False)
        for name, high in gates.max_metrics.items()
    ]
    for key, low in gates.min_per_class.items():
        for label in (metrics.get("per_class") or {}) or {"(no classes)": {}}:
            value = metric_value(metrics, f"{key}_{label}")
            results.append(_bound(f"min {key} of class {label}", value, low, above=True))
    if gates.no_regression is not None:
        results.append(_regression(gates, metrics, baseline))
    if gates.model_card_fields:
        gaps = missing(dict(card), gates.model_card_fields)
        results.append(
            GateResult(
                "model card filled",
                not gaps,
                f"empty: {', '.join(gaps)}" if gaps else "all required fields are filled",
                observed=sorted(set(gates.model_card_fields) - set(gaps)),
                required=gates.model_card_fields,
            )
        )
    if gates.data_validation:
        passed = bool(validation and validation.get("passed"))
        detail = (
            "no validation report was given to the gate step"
            if validation is None
            else ("the data validation passed" if passed else "the data validation failed")
        )
        results.append(
            GateResult("data validation", passed, detail, observed=passed, required=True)
        )
    return results


def _bound(gate: str, value: float | None, limit: float, *, above: bool) -> GateResult:
    if value is None or math.isnan(value):
        return GateResult(gate, False, "the evaluation has no such metric", None, limit)
    ok = value >= limit if above else value <= limit
    relation = (">=" if above else "<=") if ok else ("<" if above else ">")
    return GateResult(gate, ok, f"{value:.4f} {relation} {limit}", value, limit)


def _regression(
    gates: Gates, metrics: Mapping[str, Any], baseline: tuple[str, Mapping[str, Any]] | None
) -> GateResult:
    rule = gates.no_regression
    assert rule is not None
    gate = f"no {rule.metric} regression against {rule.against}"
    value = metric_value(metrics, rule.metric)
    if value is None or math.isnan(value):
        return GateResult(gate, False, "the evaluation has no such metric", None, rule.tolerance)
    if baseline is None:
        return GateResult(gate, True, f"no {rule.against} version to compare with", value, None)
    label, base_metrics = baseline
    base = metric_value(base_metrics, rule.metric)
    if base is None or math.isnan(base):
        return GateResult(gate, True, f"{label} has no {rule.metric} to compare with", value, None)
    floor = base - rule.tolerance
    ok = value >= floor
    return GateResult(
        gate,
        ok,
        f"{value:.4f} vs {label} {base:.4f} (tolerance {rule.tolerance})",
        value,
        floor,
    )


def card_fields() -> set[str]:
    """Names a policy may require of a model card."""
    return set(ModelCard.model_fields)
