"""Synthetic tabular data for the drift benchmark: a reference table and a current window.

20 columns: 14 numeric (normal, lognormal, exponential, uniform, gamma, Student t and three
integer-valued ones) and 6 categorical with 10 to 50 levels each (Zipf-like frequencies, so
every table has rare levels). Reference and current hold the same number of rows, N, and
are independent draws from the same distributions, except in the 5 columns of ``SHIFTED``:

- ``x02_normal``: mean + 0.1 standard deviation (the slight shift)
- ``x03_normal``: mean + 0.5 standard deviation
- ``x06_exponential``: scale x 1.5 (mean and standard deviation + 50%)
- ``cat01_12lv``: 30% of the mass moved onto the reversed frequencies (Jensen-Shannon 0.16)
- ``cat03_50lv``: 40% of the mass spread evenly over the levels (Jensen-Shannon 0.15)

Three unshifted categorical columns (``NEW_LEVEL_COLUMNS``) hold, in the current window only,
``NEW_LEVEL_ROWS`` rows (5) of a level that the reference never has: 0.5% of the rows at
1,000 rows, the case where a goodness-of-fit chi-square against the reference's frequencies
becomes infinite; a share that vanishes as N grows (0.0005% at 1M rows), so these columns
stay unshifted at every size. (A fixed 0.5% share of a new level would be a real shift of
the distribution at 1M rows, which any test worth having must flag.)

Storage: one parquet file per table (``reference.parquet``, ``current.parquet``) in
``<cache>/n<N>/``, written by pyarrow from pandas; numeric columns as float64 or int64,
categorical columns as pandas ``category`` dtype with string levels (``"L07"``; the new level
is ``"NEW"``), which pandas 2 and pandas 3 both read back as ``category`` and both tools
accept. Every value comes from ``numpy.random.default_rng`` seeded from (``SEED``, N, side,
column), so a size's files are the same on every machine and every run.

Usage: ``python bench/monitoring/data.py 1000 10000`` writes (or finds) the files and prints
their folder.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SEED = 20261128
VERSION = 1  # bump when the generator changes: files are cached under it
DEFAULT_CACHE = Path(tempfile.gettempdir()) / f"assay-bench-monitoring-v{VERSION}"

NEW_LEVEL = "NEW"
NEW_LEVEL_ROWS = 5

Sampler = Callable[[np.random.Generator, int], Any]


def _zipf(levels: int, power: float = 1.0) -> np.ndarray:
    weights = 1.0 / np.arange(1, levels + 1) ** power
    return weights / weights.sum()


# name -> (reference sampler, current sampler); numeric columns.
NUMERIC: dict[str, tuple[Sampler, Sampler]] = {
    "x01_normal": (
        lambda g, n: g.normal(0.0, 1.0, n),
        lambda g, n: g.normal(0.0, 1.0, n),
    ),
    "x02_normal": (
        lambda g, n: g.normal(100.0, 15.0, n),
        lambda g, n: g.normal(100.0 + 0.1 * 15.0, 15.0, n),  # + 0.1 sd
    ),
    "x03_normal": (
        lambda g, n: g.normal(-5.0, 3.0, n),
        lambda g, n: g.normal(-5.0 + 0.5 * 3.0, 3.0, n),  # + 0.5 sd
    ),
    "x04_lognormal": (
        lambda g, n: g.lognormal(0.0, 0.75, n),
        lambda g, n: g.lognormal(0.0, 0.75, n),
    ),
    "x05_lognormal": (
        lambda g, n: g.lognormal(3.0, 0.5, n),
        lambda g, n: g.lognormal(3.0, 0.5, n),
    ),
    "x06_exponential": (
        lambda g, n: g.exponential(2.0, n),
        lambda g, n: g.exponential(3.0, n),  # scale x 1.5
    ),
    "x07_exponential": (
        lambda g, n: g.exponential(10.0, n),
        lambda g, n: g.exponential(10.0, n),
    ),
    "x08_uniform": (
        lambda g, n: g.uniform(0.0, 1.0, n),
        lambda g, n: g.uniform(0.0, 1.0, n),
    ),
    "x09_uniform": (
        lambda g, n: g.uniform(-100.0, 100.0, n),
        lambda g, n: g.uniform(-100.0, 100.0, n),
    ),
    "x10_int_poisson": (
        lambda g, n: g.poisson(20.0, n).astype(np.int64),
        lambda g, n: g.poisson(20.0, n).astype(np.int64),
    ),
    "x11_int_uniform": (
        lambda g, n: g.integers(0, 1000, n, dtype=np.int64),
        lambda g, n: g.integers(0, 1000, n, dtype=np.int64),
    ),
    "x12_int_binomial": (
        lambda g, n: g.binomial(50, 0.3, n).astype(np.int64),
        lambda g, n: g.binomial(50, 0.3, n).astype(np.int64),
    ),
    "x13_gamma": (
        lambda g, n: g.gamma(2.0, 1.0, n),
        lambda g, n: g.gamma(2.0, 1.0, n),
    ),
    "x14_student_t": (
        lambda g, n: g.standard_t(5.0, n),
        lambda g, n: g.standard_t(5.0, n),
    ),
}

# name -> (number of levels, reference frequencies, current frequencies); categorical columns.
_P12, _P25, _P50, _P10, _P40, _P18 = (_zipf(k) for k in (12, 25, 50, 10, 40, 18))
CATEGORICAL: dict[str, tuple[np.ndarray, np.ndarray]] = {
    "cat01_12lv": (_P12, 0.7 * _P12 + 0.3 * _P12[::-1]),
    "cat02_25lv": (_P25, _P25),
    "cat03_50lv": (_P50, 0.6 * _P50 + 0.4 / 50),
    "cat04_10lv": (_P10, _P10),
    "cat05_40lv": (_P40, _P40),
    "cat06_18lv": (_P18, _P18),
}

SHIFTED = ["x02_normal", "x03_normal", "x06_exponential", "cat01_12lv", "cat03_50lv"]
SLIGHT = "x02_normal"
NEW_LEVEL_COLUMNS = ["cat02_25lv", "cat04_10lv", "cat05_40lv"]
COLUMNS = [*NUMERIC, *CATEGORICAL]
NUMERIC_COLUMNS = list(NUMERIC)
CATEGORICAL_COLUMNS = list(CATEGORICAL)
SHIFT_NOTES = {
    "x02_normal": "mean + 0.1 sd (slight)",
    "x03_normal": "mean + 0.5 sd",
    "x06_exponential": "scale x 1.5",
    "cat01_12lv": "30% of mass onto reversed frequencies",
    "cat03_50lv": "40% of mass spread evenly",
}


def _rng(rows: int, side: int, column: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([SEED, rows, side, column]))


def make_table(rows: int, side: str) -> pd.DataFrame:
    """One table of ``rows`` rows; ``side`` is ``reference`` or ``current``."""
    which = {"reference": 0, "current": 1}[side]
    data: dict[str, Any] = {}
    for i, (name, samplers) in enumerate(NUMERIC.items()):
        data[name] = samplers[which](_rng(rows, which, i), rows)
    for j, (name, freqs) in enumerate(CATEGORICAL.items()):
        g = _rng(rows, which, len(NUMERIC) + j)
        p = freqs[which]
        levels = [f"L{k:02d}" for k in range(len(p))]
        values = np.asarray(levels, dtype=object)[g.choice(len(p), size=rows, p=p)]
        if side == "current" and name in NEW_LEVEL_COLUMNS:
            values[g.choice(rows, size=NEW_LEVEL_ROWS, replace=False)] = NEW_LEVEL
            levels = [*levels, NEW_LEVEL]
        data[name] = pd.Categorical(values, categories=levels)
    return pd.DataFrame(data)


def ensure(rows: int, cache: Path = DEFAULT_CACHE) -> Path:
    """The folder holding ``reference.parquet`` and ``current.parquet`` for ``rows`` rows,
    written on first use (into a temporary name, then renamed, so a half-written folder is
    never taken for a finished one)."""
    folder = cache / f"n{rows}"
    if (folder / "done.json").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for side in ("reference", "current"):
        part = folder / f"{side}.parquet.part"
        make_table(rows, side).to_parquet(part, engine="pyarrow", index=False)
        part.replace(folder / f"{side}.parquet")
    (folder / "done.json").write_text(json.dumps({"rows": rows, "seed": SEED, "version": VERSION}))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, nargs="+")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args()
    for rows in args.rows:
        print(ensure(rows, args.cache))


if __name__ == "__main__":
    main()
