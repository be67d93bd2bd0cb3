"""Shared, stdlib-only helpers for the per-framework orchestration scripts.

Every ``run_<framework>.py`` runs in its own interpreter (often its own
virtual environment), measures one trial for one chain length and prints a
single JSON line built by :func:`result_line`. Nothing here imports a
framework, so the module works in every venv.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

clock: Callable[[], float] = time.perf_counter


def parse_args(description: str) -> argparse.Namespace:
    """Parse the options every runner accepts."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--n", type=int, default=10, help="steps in the chain (>= 2)")
    parser.add_argument(
        "--no-warmup",
        action="store_true",
        help="skip the untimed 2-step warm-up run that loads lazily imported code",
    )
    args = parser.parse_args()
    if args.n < 2:
        parser.error("--n must be at least 2")
    return args


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Return (wall seconds, result) of one call."""
    start = clock()
    result = fn()
    return clock() - start, result


def result_line(
    framework: str,
    version: str,
    n_steps: int,
    cold_s: float,
    cached_s: float | None,
    **extra: Any,
) -> str:
    """One JSON line in the format the harness collects."""
    record: dict[str, Any] = {
        "framework": framework,
        "version": version,
        "n_steps": n_steps,
        "cold_s": round(cold_s, 6),
        "cached_s": None if cached_s is None else round(cached_s, 6),
        "per_step_cold_ms": round(cold_s * 1000 / n_steps, 4),
        "per_step_cached_ms": None if cached_s is None else round(cached_s * 1000 / n_steps, 4),
        "python": platform.python_version(),
    }
    record.update(extra)
    return json.dumps(record)


def check(condition: bool, message: str) -> None:
    """Fail loudly when a framework did not do what the benchmark assumes."""
    if not condition:
        raise SystemExit(f"benchmark check failed: {message}")
