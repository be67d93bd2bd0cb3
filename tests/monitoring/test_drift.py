"""Drift tests on data with and without a known shift, small windows, many columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.errors import DataError
from assay.monitoring import compare_frames, holm
from assay.monitoring.stats import categorical_drift, numeric_drift


def table(n: int, seed: int, shift: float = 0.0, new_level: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    levels = [f"l{i}" for i in range(20)]
    weights = np.linspace(1, 3, 20) / np.linspace(1, 3, 20).sum()
    colour = rng.choice(levels, size=n, p=weights).astype(object)
    if new_level:
        colour[: max(1, n // 200)] = "never-seen"
    return pd.DataFrame(
        {
            "amount": rng.normal(100 + 10 * shift, 10, n),
            "steady": rng.exponential(2.0, n),
            "count": rng.poisson(4, n),
            "colour": colour,
            "flag": rng.random(n) < 0.3,
        }
    )


def test_a_shifted_numeric_column_is_flagged_and_the_others_are_not() -> None:
    report = compare_frames(table(20_000, 1), table(20_000, 2, shift=0.1))
    assert report.drifted == ["amount"]
    amount = next(c for c in report.columns if c.column == "amount")
    assert amount.test == "kolmogorov-smirnov" and amount.adjusted_p_value < 0.01
    assert 0.05 < amount.effect_size < 0.15  # a 0.1 sd shift, in sd units
    assert amount.details["current_mean"] > amount.details["reference_mean"]


@pytest.mark.parametrize("n", [300, 3_000, 30_000])
def test_no_column_is_flagged_when_nothing_moved(n: int) -> None:
    for seed in range(5):
        report = compare_frames(table(n, seed), table(n, seed + 100))
        assert report.drifted == [], (n, seed, [(c.column, c.p_value) for c in report.columns])


def test_a_category_never_seen_before_is_no_false_alarm_on_its_own() -> None:
    # 1 row in 200 carries a new level: a goodness-of-fit test against the reference's
    # proportions would see an infinite statistic; the homogeneity test does not.
    report = compare_frames(table(1_000, 3), table(1_000, 4, new_level=True))
    colour = next(c for c in report.columns if c.column == "colour")
    assert colour.status == "ok" and np.isfinite(colour.statistic)
    assert colour.details["new_categories"] == ["never-seen"]


def test_a_moved_category_mix_is_flagged_with_its_distance() -> None:
    ref = {"a": 500, "b": 300, "c": 200}
    same = categorical_drift(ref, {"a": 510, "b": 290, "c": 200})
    moved = categorical_drift(ref, {"a": 200, "b": 300, "c": 500})
    assert same.p_value > 0.05 and moved.p_value < 1e-6
    assert moved.jensen_shannon > 5 * same.jensen_shannon


def test_rare_categories_are_pooled_for_the_chi_square() -> None:
    ref = {"a": 400, "b": 400, **{f"r{i}": 1 for i in range(30)}}
    cur = {"a": 410, "b": 390, **{f"s{i}": 1 for i in range(30)}}
    found = categorical_drift(ref, cur)
    assert found.pooled == 60 and found.degrees_of_freedom == 2 and found.p_value > 0.01


def test_a_small_window_is_reported_as_such_never_as_drift() -> None:
    report = compare_frames(table(5_000, 1), table(50, 2, shift=3.0), min_rows=100)
    assert report.drifted == []
    assert {c.status for c in report.columns} == {"too few rows"}
    # Not tested is not "p = 1, effect 0": no number stands for a test that never ran.
    for column in report.to_dict()["columns"]:
        assert column["p_value"] is None and column["adjusted_p_value"] is None
        assert column["statistic"] is None and column["effect_size"] is None
        assert column["details"]["reason"] == "50 rows, fewer than 100 (5000 in the reference)"


def test_numeric_statistics_agree_with_their_definitions() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 4_000), rng.normal(0.5, 1, 3_000)
    from scipy.stats import ks_2samp, wasserstein_distance

    found = numeric_drift(a, b)
    reference = ks_2samp(a, b, method="asymp")
    assert found.ks_statistic == pytest.approx(reference.statistic)
    assert found.p_value == pytest.approx(reference.pvalue, rel=1e-6, abs=1e-300)
    assert found.wasserstein == pytest.approx(wasserstein_distance(a, b) / a.std(), rel=0.02)
    assert found.psi > 0.1 and numeric_drift(a, a).psi == pytest.approx(0.0)
    # Many equal values (counts): the statistic is still the largest gap between the CDFs.
    ties_a, ties_b = rng.poisson(3, 4_000), rng.poisson(3.2, 3_000)
    expected = ks_2samp(ties_a, ties_b, method="asymp").statistic
    assert numeric_drift(ties_a, ties_b).ks_statistic == pytest.approx(expected)


def test_holm_keeps_the_family_wise_error_and_its_order() -> None:
    assert holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert holm([]) == []


def test_columns_must_exist_on_both_sides() -> None:
    with pytest.raises(DataError, match="'extra' is not in both"):
        compare_frames(table(200, 1), table(200, 2), columns=["amount", "extra"])


def test_missing_values_are_left_out_and_the_statistic_holds_across_chunks() -> None:
    from scipy.stats import ks_2samp

    from assay.monitoring.stats import _largest_gap

    rng = np.random.default_rng(4)
    a, b = np.sort(rng.poisson(5, 5_000).astype(float)), np.sort(rng.poisson(5.3, 4_000) * 1.0)
    whole = max(_largest_gap(a, b), _largest_gap(b, a))
    for chunk in (7, 100, 999):  # chunk edges inside runs of equal values
        assert max(_largest_gap(a, b, chunk), _largest_gap(b, a, chunk)) == pytest.approx(whole)
    assert whole == pytest.approx(ks_2samp(a, b).statistic)
    frame = table(500, 1)
    holes = frame.copy()
    holes.loc[::5, "amount"] = np.nan
    amount = next(c for c in compare_frames(frame, holes).columns if c.column == "amount")
    assert amount.current_rows == 400 and amount.status == "ok"
