"""Live performance against the evaluation-time figures: each metric's shortfall tested
one-sided, all of a window's tests in one family under Holm's correction, as drift's are."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from assay.monitoring.stats import holm, macro_f1_shortfall, rate_shortfall

__all__ = ["MetricCheck", "PerformanceReport", "live_performance"]

TOO_FEW = "too few rows"


@dataclass(frozen=True, slots=True)
class MetricCheck:
    """One live metric against its value at evaluation.

    ``drop`` is evaluation minus live (the effect). The test's null hypothesis is "live is
    at least evaluation minus tolerance"; ``p_value`` and ``adjusted_p_value`` (Holm) are
    ``None`` when it was not tested, and ``details["reason"]`` says why. ``status``:
    ``drop`` (adjusted p below alpha and a drop beyond the tolerance), ``ok``, or
    ``too few rows`` (never a drop).
    """

    metric: str
    test: str  # binomial, bootstrap, or "" when not tested
    evaluation: float
    live: float | None
    drop: float | None
    rows: int
    p_value: float | None
    adjusted_p_value: float | None
    status: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def tested(self) -> bool:
        return self.p_value is not None


@dataclass(frozen=True, slots=True)
class PerformanceReport:
    """Every metric's verdict for one window of labelled rows; ``live`` is the window's
    classification report, ``None`` (and no metric tested) below ``min_rows`` rows."""

    alpha: float
    tolerance: float
    rows: int
    min_rows: int
    live: dict[str, Any] | None
    metrics: list[MetricCheck]

    @property
    def dropped(self) -> list[str]:
        return [m.metric for m in self.metrics if m.status == "drop"]

    @property
    def status(self) -> str:
        if self.live is None:
            return TOO_FEW
        return "drop" if self.dropped else "ok"

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "labelled_rows": self.rows,
            "alpha": self.alpha,
            "tolerance": self.tolerance,
            "min_rows": self.min_rows,
            "metrics": [asdict(m) for m in self.metrics],
        }
        if self.live is not None:
            found["live"] = self.live
            found["compared"] = [m.metric for m in self.metrics if m.tested]
            found["drops"] = {
                m.metric: {
                    "evaluation": m.evaluation,
                    "live": m.live,
                    "p_value": m.p_value,
                    "adjusted_p_value": m.adjusted_p_value,
                }
                for m in self.metrics
                if m.status == "drop"
            }
        return found


def live_performance(
    baseline: Mapping[str, Any],
    truth: Sequence[str],
    predicted: Sequence[str],
    *,
    alpha: float = 0.01,
    tolerance: float = 0.05,
    min_rows: int = 100,
    min_class_rows: int = 20,
    resamples: int = 4_999,
    seed: int = 0,
) -> PerformanceReport:
    """Test whether the labelled rows score worse than ``baseline`` (a classification
    report at evaluation) by more than ``tolerance``, beyond what chance explains.

    Accuracy and each class's recall are rates of hits, so each gets an exact one-sided
    binomial test against its evaluation value minus ``tolerance``. Macro-F1 is no rate:
    it gets a bias-corrected percentile bootstrap of the window's rows. The p-values are
    adjusted with Holm's method, so ``alpha`` bounds the chance that any metric of the
    window alarms when none fell short. The evaluation values are taken as exact: the
    tolerance is the margin for their own noise and for a drop too small to matter.

    Fewer than ``min_rows`` rows (and never none): nothing is tested. A class with fewer than
    ``min_class_rows`` rows: its recall is not tested, nor macro-F1, which averages every
    class's F1 and reads a class that is rare in the window as a collapse.
    """
    from assay.evaluation import classification_report, flat_metrics  # noqa: PLC0415

    rows = len(truth)
    if rows < max(min_rows, 1):
        return PerformanceReport(alpha, tolerance, rows, min_rows, None, [])
    classes = [str(c) for c in baseline["labels"]]
    live = classification_report(list(truth), list(predicted), classes)
    then, now = flat_metrics(dict(baseline)), flat_metrics(live)
    index = {c: i for i, c in enumerate(classes)}
    other = len(classes)  # labels outside the evaluation's, true or predicted
    confusion = [[0] * (other + 1) for _ in range(other + 1)]
    for said, guessed in zip(truth, predicted, strict=True):
        confusion[index.get(said, other)][index.get(guessed, other)] += 1
    support = {c: live["per_class"][c]["support"] for c in classes}
    rare = [c for c in classes if support[c] < min_class_rows]

    found: list[dict[str, Any]] = []

    def tested(metric: str, test: str, n: int, p: float) -> None:
        found.append(_entry(metric, test, then[metric], now[metric], n, p, {}))

    def untested(metric: str, n: int, reason: str) -> None:
        value = now[metric] if n else None
        details = {"min_rows": min_class_rows, "reason": reason}
        found.append(_entry(metric, "", then[metric], value, n, None, details))

    hits = sum(said == guessed for said, guessed in zip(truth, predicted, strict=True))
    tested("accuracy", "binomial", rows, rate_shortfall(hits, rows, then["accuracy"] - tolerance))
    if rare:
        counts = ", ".join(f"{c} {support[c]}" for c in rare)
        reason = f"a class has fewer than {min_class_rows} labelled rows ({counts})"
        untested("macro_f1", rows, reason)
    else:
        level = then["macro_f1"] - tolerance
        p = macro_f1_shortfall(confusion, other, level, resamples=resamples, seed=seed)
        tested("macro_f1", "bootstrap", rows, p)
    for c in classes:
        metric, n = f"recall_{c}", support[c]
        if c in rare:
            untested(metric, n, f"{n} labelled rows of {c}, fewer than {min_class_rows}")
        else:
            hit = confusion[index[c]][index[c]]
            tested(metric, "binomial", n, rate_shortfall(hit, n, then[metric] - tolerance))
    _decide(found, alpha, tolerance)
    return PerformanceReport(
        alpha, tolerance, rows, min_rows, live, [MetricCheck(**f) for f in found]
    )


def _entry(
    metric: str,
    test: str,
    evaluation: float,
    live: float | None,
    rows: int,
    p_value: float | None,
    details: dict[str, Any],
) -> dict[str, Any]:
    return {
        "metric": metric,
        "test": test,
        "evaluation": float(evaluation),
        "live": None if live is None else float(live),
        "drop": None if live is None else float(evaluation) - float(live),
        "rows": rows,
        "p_value": p_value,
        "adjusted_p_value": None,
        "status": TOO_FEW if p_value is None else "",
        "details": details,
    }


def _decide(found: list[dict[str, Any]], alpha: float, tolerance: float) -> None:
    """Holm across the metrics that were tested; a drop needs both significance and a
    size beyond the tolerance (the test's margin), never one without the other."""
    tested = [f for f in found if f["p_value"] is not None]
    for f, adjusted in zip(tested, holm([f["p_value"] for f in tested]), strict=True):
        f["adjusted_p_value"] = adjusted
        f["status"] = "drop" if adjusted < alpha and f["drop"] > tolerance else "ok"
