"""Sesame end to end: a cold run on an empty store against a fully cached re-run.

Each run is the real command, ``assay run examples/sesame --json``, in its own process on
one store; wall time includes interpreter start-up, ``seconds`` is the run as assay
measured it. Writes the figures into bench/RESULTS.md between sesame markers.

Run: ``python bench/sesame/cold_vs_cached.py [--repeats 3]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "RESULTS.md"
BEGIN, END = "<!-- sesame:begin -->", "<!-- sesame:end -->"


def run_once(home: Path) -> tuple[float, dict[str, object]]:
    env = {**os.environ, "ASSAY_HOME": str(home)}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "assay", "run", str(ROOT / "examples" / "sesame"), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - start, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="bench-sesame-") as home:
            cold_wall, cold = run_once(Path(home))
            cached_wall, cached = run_once(Path(home))
        # Every step is reused except the gate check, which always runs (it compares with
        # the production version of the moment).
        rerun = {s["step"] for s in cached["steps"] if s["status"] != "cached"}  # type: ignore[attr-defined]
        assert rerun == {"check_gates"}, rerun
        rows.append(
            (
                cold_wall,
                float(cold["seconds"]),
                cached_wall,
                float(cached["seconds"]),
                cold["metrics"]["macro_f1"],
            )
        )  # type: ignore[index]
    med = [statistics.median(col) for col in zip(*rows, strict=True)]
    ratio_wall, ratio_run = med[2] / med[0], med[3] / med[1]
    print(
        f"cold {med[0]:.2f} s wall ({med[1]:.2f} s run), cached {med[2]:.2f} s wall "
        f"({med[3]:.2f} s run); cached/cold {ratio_wall:.3f} wall, {ratio_run:.3f} run; "
        f"macro-F1 {med[4]:.4f}"
    )
    if args.no_write:
        return
    section = "\n".join(
        [
            BEGIN,
            "## Sesame: cold run and fully cached re-run",
            "",
            f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; "
            f"machine: `nproc` {os.cpu_count()}, "
            f"Python {platform.python_version()}; load average at start "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}",
            "- command: `python bench/sesame/cold_vs_cached.py`",
            f"- method: `assay run examples/sesame --json` twice on one new store, median of "
            f"{args.repeats}; wall time includes interpreter start-up and imports, run time is "
            "assay's own measure from tracing to the last record written. The re-run reuses "
            "every step but `check_gates`, which runs on every run by design.",
            "",
            "| | cold | cached | cached / cold | floor |",
            "|---|---|---|---|---|",
            f"| wall time (s) | {med[0]:.2f} | {med[2]:.2f} | {ratio_wall:.3f} | < 0.1 |",
            f"| run time (s) | {med[1]:.2f} | {med[3]:.2f} | {ratio_run:.3f} | < 0.1 |",
            "",
            f"macro-F1 on the test split: {med[4]:.4f}",
            END,
        ]
    )
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
