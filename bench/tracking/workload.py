"""The tracking workloads, shared by the assay and MLflow workers (standard library only).

Both workers import this module, so both log exactly the same names and values and
the harness can check that the two searches return the same runs in the same order.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]  # the repository

# Throughput: 200 runs x (10 params + 5 metrics x 50 steps) = 2,000 params + 50,000 metrics.
RUNS = 200
PARAMS = 10
METRICS = 5
STEPS = 50

# Query: runs with a few params and metrics; the search of issue 3.
QUERY_SIZES = (1_000, 10_000)
QUERY_METRIC_STEPS = 3  # each metric logged at steps 0, 1, 2; a search sees the last
WHERE = "metrics.m1 > 0.5 and params.p1 = 'a'"
LIMIT = 100
REPEATS = 5  # timed searches, after one untimed warm-up


def param_name(p: int) -> str:
    return f"p{p}"


def metric_name(m: int) -> str:
    return f"m{m}"


def param_value(run: int, p: int) -> Any:
    """An int, a float or a string, as hyper-parameters are; MLflow keeps ``str(value)``."""
    kind = p % 3
    if kind == 0:
        return run * 100 + p
    if kind == 1:
        return run + p / 8  # exact in binary, so str() round-trips
    return f"r{run}-p{p}"


def run_params(run: int) -> dict[str, Any]:
    return {param_name(p): param_value(run, p) for p in range(PARAMS)}


def metric_value(run: int, m: int, step: int) -> float:
    """A deterministic float with a full mantissa, distinct per (run, metric, step)."""
    return ((run * 7919 + m * 104_729 + step * 1_299_709) % 1_000_003) / 1_000_003 + step


def query_run(index: int) -> tuple[dict[str, Any], list[dict[str, float]]]:
    """Params and per-step metrics of query run ``index``: p1 in a/b/c, m1..m3 uniform."""
    rng = random.Random(index)
    params = {"p1": rng.choice("abc"), "p2": rng.randrange(1, 100), "p3": rng.random()}
    steps = [{metric_name(m): rng.random() for m in (1, 2, 3)} for _ in range(QUERY_METRIC_STEPS)]
    return params, steps


def expected_top(n_runs: int) -> list[float]:
    """The m1 values the search must return, best first: the reference for both tools."""
    hits = []
    for index in range(n_runs):
        params, steps = query_run(index)
        m1 = steps[-1]["m1"]
        if params["p1"] == "a" and m1 > 0.5:
            hits.append(m1)
    return sorted(hits, reverse=True)[:LIMIT]


def emit(**record: Any) -> None:
    """One JSON line on stdout for the harness."""
    sys.stdout.write(json.dumps(record, default=str) + "\n")
    sys.stdout.flush()


def clock() -> float:
    return time.perf_counter()


def median_timing(call: Any, repeats: int = REPEATS) -> tuple[float, list[float], Any]:
    """Run ``call`` once untimed, then ``repeats`` times; median seconds, all seconds, result."""
    result = call()
    times = []
    for _ in range(repeats):
        start = clock()
        result = call()
        times.append(clock() - start)
    ordered = sorted(times)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return median, times, result


def machine() -> dict[str, str]:
    """The machine and the checkout a benchmark ran on: CPUs, kernel, load, commit, and how
    many files under src/ differ from it."""
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return out.stdout.strip()

    changed = [line for line in git("status", "--porcelain", "--", "src").splitlines() if line]
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "kernel": f"{platform.system()} {platform.release()}",
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "commit": git("rev-parse", "--short", "HEAD"),
        "src_changes": str(len(changed)),
    }


def merge_section(results: Path, begin: str, end: str, section: str) -> None:
    """Put ``section`` (which starts with ``begin`` and ends with ``end``) in place of the
    one between those markers in ``results``, or at its end when there is none."""
    text = results.read_text()
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    results.write_text(text)
