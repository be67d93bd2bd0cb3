"""Small pipelines used across the tests; counters show which steps really executed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from assay import log_metrics, pipeline, step

CALLS: Counter[str] = Counter()


@step
def make_numbers(n: int = 5) -> pd.DataFrame:
    CALLS["make_numbers"] += 1
    return pd.DataFrame({"x": list(range(n))})


@step(outputs=["evens", "odds"])
def partition(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    CALLS["partition"] += 1
    return frame[frame.x % 2 == 0], frame[frame.x % 2 == 1]


@step
def total(frame: pd.DataFrame, scale: float = 1.0) -> float:
    CALLS["total"] += 1
    value = float(frame.x.sum()) * scale
    log_metrics({"total": value})
    return value


@step
def as_array(frame: pd.DataFrame) -> np.ndarray:
    CALLS["as_array"] += 1
    return frame.x.to_numpy()


@pipeline
def numbers(n: int = 5, scale: float = 1.0) -> None:
    frame = make_numbers(n)
    evens, odds = partition(frame)
    total(evens, scale=scale)
    total(odds, scale=scale)
    as_array(frame)


@step
def read_text(path: Path) -> str:
    CALLS["read_text"] += 1
    return path.read_text()


@step
def shout(text: str) -> str:
    CALLS["shout"] += 1
    return text.upper()


@pipeline
def files(path: Path) -> None:
    shout(read_text(path))


@step
def explode(x: int) -> int:
    raise ValueError(f"cannot handle {x}")


@step
def source_value() -> int:
    CALLS["source_value"] += 1
    return 3


@pipeline
def failing() -> None:
    explode(source_value())
