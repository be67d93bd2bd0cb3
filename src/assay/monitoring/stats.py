"""Drift and performance statistics: two-sample Kolmogorov-Smirnov, PSI and Wasserstein for
numbers, chi-square and Jensen-Shannon for categories, one-sided shortfall tests of live
scores (an exact binomial for rates, a bootstrap for macro-F1), and Holm's correction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "CategoricalDrift",
    "NumericDrift",
    "categorical_drift",
    "holm",
    "macro_f1",
    "macro_f1_shortfall",
    "numeric_drift",
    "rate_shortfall",
]

# Fewer than this many expected observations in a chi-square cell make its p-value unreliable
# (Cochran's rule); such categories are pooled into one before testing.
_MIN_EXPECTED = 5.0
_PSI_BINS = 10
_PSI_FLOOR = 1e-4  # a bin empty on one side would make PSI infinite
_QUANTILES = 2_001  # grid on which the Wasserstein distance is integrated
_DRAWN_CELLS = 1 << 22  # bootstrap counts held at once: resamples x confusion cells


@dataclass(frozen=True, slots=True)
class NumericDrift:
    """Reference against current for one numeric column."""

    ks_statistic: float
    p_value: float
    psi: float
    wasserstein: float  # in units of the reference's standard deviation
    reference_mean: float
    current_mean: float


@dataclass(frozen=True, slots=True)
class CategoricalDrift:
    """Reference against current for one categorical column."""

    chi_square: float
    degrees_of_freedom: int
    p_value: float
    jensen_shannon: float  # distance, base 2: 0 (same) to 1 (disjoint)
    new_categories: list[str]  # seen now, never in the reference
    pooled: int  # rare categories pooled into one for the test


def numeric_drift(reference: Any, current: Any) -> NumericDrift:
    """Compare two samples of numbers (NaN already removed), both non-empty.

    The decision rests on the two-sample Kolmogorov-Smirnov test, which needs no binning
    and whose p-value accounts for the sample sizes; PSI (10 reference-quantile bins) and
    the Wasserstein distance are reported as effect sizes.
    """
    from scipy.stats import kstwo  # noqa: PLC0415 - scipy only when drift is computed

    a = np.sort(np.asarray(reference, dtype=np.float64))
    b = np.sort(np.asarray(current, dtype=np.float64))
    n, m = len(a), len(b)
    # The empirical CDFs differ most at one of the observed values; each side's points are
    # taken in turn so that no array of both samples is ever held (memory at 1M rows).
    d = max(_largest_gap(a, b), _largest_gap(b, a))
    effective = round(n * m / (n + m))
    p = float(kstwo.sf(d, effective)) if effective > 0 else 1.0
    grid = np.linspace(0.0, 1.0, _QUANTILES)
    spread = float(np.std(a)) or 1.0
    wasserstein = float(np.mean(np.abs(_quantiles(a, grid) - _quantiles(b, grid)))) / spread
    return NumericDrift(
        d, min(max(p, 0.0), 1.0), _psi(a, b), wasserstein, float(a.mean()), float(b.mean())
    )


def _largest_gap(points: Any, other: Any, chunk: int = 1 << 18) -> float:
    """max |F_points(x) - F_other(x)| over x in ``points`` (both sorted), a chunk at a time
    so the temporary arrays stay small whatever the sample size."""
    n, m, largest = len(points), len(other), 0.0
    for start in range(0, n, chunk):
        part = points[start : start + chunk + 1]  # one more, to see where ties end
        here = np.arange(start + 1, start + len(part) + 1, dtype=np.float64) / n
        here -= np.searchsorted(other, part, "right") / m
        # Among equal values only the last has the rank F_points gives them all.
        last = np.append(part[1:] != part[:-1], start + len(part) >= n)
        take = last[: min(chunk, len(part))]
        largest = max(largest, float(np.abs(here[: len(take)][take]).max(initial=0.0)))
    return largest


def _quantiles(sorted_values: Any, grid: Any) -> Any:
    return sorted_values[
        np.minimum((grid * len(sorted_values)).astype(np.int64), len(sorted_values) - 1)
    ]


def _psi(a: Any, b: Any) -> float:
    edges = np.unique(_quantiles(a, np.linspace(0, 1, _PSI_BINS + 1)[1:-1]))
    ref = np.diff(np.searchsorted(a, edges, "left"), prepend=0, append=len(a)) / len(a)
    cur = np.diff(np.searchsorted(b, edges, "left"), prepend=0, append=len(b)) / len(b)
    ref, cur = np.maximum(ref, _PSI_FLOOR), np.maximum(cur, _PSI_FLOOR)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def categorical_drift(reference: dict[str, int], current: dict[str, int]) -> CategoricalDrift:
    """Compare two samples of categories given as counts, both non-empty.

    A chi-square test of homogeneity on the 2 x k table of counts: a category seen on only
    one side is an ordinary cell here, never an infinite statistic (as a goodness-of-fit test
    against reference proportions would give). Categories too rare for the test's
    approximation are pooled into one first.
    """
    from scipy.spatial.distance import jensenshannon  # noqa: PLC0415
    from scipy.stats import chi2_contingency  # noqa: PLC0415

    names = sorted(set(reference) | set(current))
    table = np.array(
        [[reference.get(c, 0) for c in names], [current.get(c, 0) for c in names]], dtype=np.float64
    )
    js = float(jensenshannon(table[0] / table[0].sum(), table[1] / table[1].sum(), base=2))
    rows = table.sum(axis=1, keepdims=True)
    expected_min = (rows.min() * table.sum(axis=0)) / table.sum()
    rare = expected_min < _MIN_EXPECTED
    if rare.any():
        table = np.column_stack([table[:, ~rare], table[:, rare].sum(axis=1)])
        if table[:, -1].sum() * rows.min() / rows.sum() < _MIN_EXPECTED and table.shape[1] > 2:
            # The pooled cell is still too small: fold it into the smallest other category.
            smallest = int(np.argmin(table[:, :-1].sum(axis=0)))
            table[:, smallest] += table[:, -1]
            table = table[:, :-1]
    new = [c for c in names if c not in reference]
    if table.shape[1] < 2:
        return CategoricalDrift(0.0, 0, 1.0, js, new, int(rare.sum()))
    chi2, p, dof, _ = chi2_contingency(table, correction=False)
    return CategoricalDrift(float(chi2), int(dof), float(p), js, new, int(rare.sum()))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values: comparing each with alpha keeps the chance of any
    false alarm across all the tests at most alpha."""
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return [float(x) for x in adjusted]


def rate_shortfall(hits: int, rows: int, level: float) -> float:
    """One-sided exact binomial p-value of "the rate is at least ``level``" given ``hits`` of
    ``rows``: P(X <= hits) for X ~ Binomial(rows, level). Exact, so never more alarms than
    its level promises, however few the rows; a ``level`` at or below 0 cannot be missed."""
    from scipy.stats import binom  # noqa: PLC0415

    if level <= 0.0:
        return 1.0
    return float(min(1.0, binom.cdf(hits, rows, min(level, 1.0))))


def macro_f1(true_counts: Any, predicted_counts: Any, hits: Any) -> Any:
    """Macro-F1 from per-class counts (last axis: the classes), with scikit-learn's
    ``zero_division=0``: a class neither present nor predicted scores 0."""
    both = np.asarray(true_counts, dtype=np.float64) + predicted_counts
    f1 = np.divide(2.0 * np.asarray(hits, dtype=np.float64), both, out=np.zeros_like(both),
                   where=both > 0)  # fmt: skip
    return f1.mean(axis=-1)


def macro_f1_shortfall(
    confusion: Any, scored: int, level: float, *, resamples: int = 4_999, seed: int = 0
) -> float:
    """Bias-corrected percentile-bootstrap p-value of "macro-F1 is at least ``level``".

    ``confusion`` counts the window's rows by true label (rows) and prediction (columns);
    its first ``scored`` classes are those macro-F1 averages, any further row or column
    holds labels outside them. Resampling rows with replacement is a multinomial draw over
    the table's cells, so the cost does not grow with the rows; a fixed ``seed`` makes the
    same window give the same p-value.

    Macro-F1 of a sample is biased low (a ratio of counts), and a resample of it is biased
    low once more; the plain percentile test counts that bias twice and alarms too often
    on small windows. The correction (Efron's BC) measures it as the share of resamples
    below the window's own value: the p-value is the largest alpha at which the
    bias-corrected upper confidence bound of macro-F1 is still below ``level``.
    """
    from scipy.stats import norm  # noqa: PLC0415

    if level <= 0.0:
        return 1.0
    table = np.asarray(confusion, dtype=np.int64)
    rows = int(table.sum())
    cells = np.flatnonzero(table)  # an empty cell stays empty in every resample
    truth, predicted = np.divmod(cells, table.shape[1])
    classes = np.arange(scored)
    is_true = (truth[:, None] == classes).astype(np.int64)
    is_predicted = (predicted[:, None] == classes).astype(np.int64)
    is_hit = is_true * (truth == predicted)[:, None]
    counts = table.flat[cells]
    observed = float(macro_f1(counts @ is_true, counts @ is_predicted, counts @ is_hit))
    rng = np.random.default_rng(seed)
    below_level = below_observed = ties = 0
    chunk = max(1, _DRAWN_CELLS // len(cells))
    for start in range(0, resamples, chunk):
        draws = rng.multinomial(rows, counts / rows, size=min(chunk, resamples - start))
        scores = macro_f1(draws @ is_true, draws @ is_predicted, draws @ is_hit)
        below_level += int(np.count_nonzero(scores < level))
        below_observed += int(np.count_nonzero(scores < observed))
        ties += int(np.count_nonzero(scores == observed))
    edge = 1 / (resamples + 1)  # the resamples cannot tell shares closer to 0 or 1

    def z(share: float) -> float:
        return float(norm.ppf(min(max(share, edge), 1 - edge)))

    # F1 of a few rows takes few values: ties with the window's own count half (mid-rank).
    bias = z((below_observed + ties / 2) / resamples)
    return float(norm.sf(z(below_level / resamples) - 2 * bias))
