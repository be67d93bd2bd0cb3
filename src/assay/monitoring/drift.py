"""Data drift between a reference table and a current window, column by column."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from assay.errors import DataError
from assay.monitoring.stats import categorical_drift, holm, numeric_drift

__all__ = ["ColumnDrift", "DriftReport", "column_tests", "compare_frames", "decide", "too_few"]


@dataclass(frozen=True, slots=True)
class ColumnDrift:
    """One column's verdict: the test, its raw and multiplicity-adjusted p-value, an effect
    size, and ``status``: ``drift``, ``ok`` or ``too few rows`` (never a drift). A test that
    did not run has no statistic, p-value or effect size (``None``), and
    ``details["reason"]`` says why."""

    column: str
    kind: str  # numeric or categorical
    test: str
    statistic: float | None  # None: not tested
    p_value: float | None
    adjusted_p_value: float | None
    effect: str
    effect_size: float | None
    status: str
    reference_rows: int
    current_rows: int
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def drifted(self) -> bool:
        return self.status == "drift"


@dataclass(frozen=True, slots=True)
class DriftReport:
    """Every column's verdict for one window, with the family-wise error rate ``alpha``."""

    alpha: float
    columns: list[ColumnDrift]

    @property
    def drifted(self) -> list[str]:
        """Columns whose drift is significant after Holm's correction."""
        return [c.column for c in self.columns if c.drifted]

    def to_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "drifted": self.drifted,
            "columns": [asdict(c) for c in self.columns],
        }


def compare_frames(
    reference: Any,
    current: Any,
    *,
    columns: Sequence[str] | None = None,
    categorical: Sequence[str] = (),
    alpha: float = 0.01,
    min_rows: int = 100,
    workers: int = 2,
) -> DriftReport:
    """Test every column of ``current`` (a pandas DataFrame) against ``reference``.

    Numeric columns get the two-sample Kolmogorov-Smirnov test (PSI and Wasserstein as
    effect sizes); others, and those named in ``categorical``, a chi-square test of
    homogeneity (Jensen-Shannon distance as effect size). The p-values are adjusted with
    Holm's method, so ``alpha`` bounds the chance that any column of the window is flagged
    when none moved, however many columns there are. A column with fewer than ``min_rows``
    non-missing values on either side is reported as ``too few rows``, never as drift.

    Raises:
        DataError: a column is missing from either table.
    """

    names = list(columns) if columns is not None else [str(c) for c in reference.columns]
    missing = [c for c in names if c not in reference.columns or c not in current.columns]
    if missing:
        raise DataError(
            f"column {missing[0]!r} is not in both the reference and the current data",
            hint="compare tables with the same columns, or name the columns to compare",
        )
    found = column_tests(reference, current, names, categorical, min_rows, workers)
    return decide(found, alpha)


def column_tests(
    reference: Any,
    current: Any,
    names: Sequence[str],
    categorical: Sequence[str] = (),
    min_rows: int = 100,
    workers: int = 2,
) -> list[dict[str, Any]]:
    """Each named column's test, before any correction for testing many (see ``decide``)."""
    import pandas as pd  # noqa: PLC0415

    forced = set(categorical)

    def one(name: str) -> dict[str, Any]:
        ref, cur = reference[name], current[name]
        dtype = ref.dtype
        numeric = (
            name not in forced
            and pd.api.types.is_numeric_dtype(dtype)
            and not pd.api.types.is_bool_dtype(dtype)
        )
        if numeric:
            ref, cur = _numbers(ref), _numbers(cur)
        sizes = (len(ref), len(cur)) if numeric else (int(ref.count()), int(cur.count()))
        base = {
            "column": name,
            "kind": "numeric" if numeric else "categorical",
            "reference_rows": sizes[0],
            "current_rows": sizes[1],
        }
        if min(sizes) < min_rows:
            return too_few(base, "kolmogorov-smirnov" if numeric else "chi-square", min_rows)
        if numeric:
            found = numeric_drift(ref, cur)
            details: dict[str, Any] = {
                "psi": found.psi,
                "reference_mean": found.reference_mean,
                "current_mean": found.current_mean,
            }
            return {
                **base,
                "test": "kolmogorov-smirnov",
                "statistic": found.ks_statistic,
                "p_value": found.p_value,
                "effect": "wasserstein/sd",
                "effect_size": found.wasserstein,
                "details": details,
            }
        counts = categorical_drift(_counts(ref), _counts(cur))
        details = {
            "degrees_of_freedom": counts.degrees_of_freedom,
            "new_categories": counts.new_categories[:20],
            "pooled_categories": counts.pooled,
        }
        return {
            **base,
            "test": "chi-square",
            "statistic": counts.chi_square,
            "p_value": counts.p_value,
            "effect": "jensen-shannon",
            "effect_size": counts.jensen_shannon,
            "details": details,
        }

    # NumPy's sorts and searches release the GIL, so columns are tested side by side.
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(one, names))


def too_few(base: dict[str, Any], test: str, min_rows: int) -> dict[str, Any]:
    """A test that was not run: fewer than ``min_rows`` rows on a side. It gets no numbers,
    so that nothing reads it as a test that found no drift."""
    current, reference = base["current_rows"], base["reference_rows"]
    if current < min_rows:
        reason = f"{current} rows, fewer than {min_rows} ({reference} in the reference)"
    else:
        reason = f"{reference} rows in the reference, fewer than {min_rows}"
    return {
        **base,
        "test": test,
        "statistic": None,
        "p_value": None,
        "effect": "",
        "effect_size": None,
        "status": "too few rows",
        "details": {"min_rows": min_rows, "reason": reason},
    }


def decide(found: list[dict[str, Any]], alpha: float) -> DriftReport:
    """Adjust the p-values of the tests that ran with Holm's method and flag those below
    ``alpha``: the chance of any false alarm in the window stays at most ``alpha``."""
    tested = [i for i, f in enumerate(found) if "status" not in f]
    adjusted = holm([found[i]["p_value"] for i in tested])
    for i, p in zip(tested, adjusted, strict=True):
        found[i]["adjusted_p_value"] = p
        found[i]["status"] = "drift" if p < alpha else "ok"
    for f in found:
        f.setdefault("adjusted_p_value", None)
    return DriftReport(alpha, [ColumnDrift(**f) for f in found])


def _numbers(column: Any) -> Any:
    """The column's non-missing values as float64, without copying a float column that has
    none missing (a copy per column adds up at a million rows)."""
    import numpy as np  # noqa: PLC0415

    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(values)
    return values[~missing] if missing.any() else values


def _counts(values: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.value_counts(sort=False).items() if v}
