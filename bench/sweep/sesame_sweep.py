"""A 100-trial sesame sweep on 2 workers: wall time and what reusing shared steps saved.

Runs ``assay sweep examples/sesame`` over a 10 x 10 grid (alpha x agreement_power) on a new
store, then reads the records: every step execution reused from the cache would, run on its
own, have cost what the execution it reused cost. Writes the figures into bench/RESULTS.md.

Run: ``python bench/sweep/sesame_sweep.py [--workers 2]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from assay import Settings
from assay.workspace import open_workspace

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "RESULTS.md"
BEGIN, END = "<!-- sweep:begin -->", "<!-- sweep:end -->"
ALPHA = "3e-5,5e-5,7e-5,1e-4,1.5e-4,2e-4,3e-4,5e-4,7e-4,1e-3"
POWER = "0,0.5,1,1.5,2,3,4,5,6,8"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as home:
        env = {**os.environ, "ASSAY_HOME": home}
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "assay",
                "sweep",
                str(ROOT / "examples" / "sesame"),
                "--grid",
                f"alpha={ALPHA}",
                "--grid",
                f"agreement_power={POWER}",
                "--objective",
                "metrics.macro_f1",
                "--workers",
                str(args.workers),
                "--json",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - started
        summary = json.loads(done.stdout)
        ws = open_workspace(Settings.for_project(home))
        try:
            runs = ws.metadata.list_runs(limit=None)
            executions = [e for r in runs for e in ws.metadata.executions(r.id)]
            by_id = {e.id: e for e in executions}
            ran = [e for e in executions if e.status != "cached"]
            reused = [e for e in executions if e.status == "cached"]
            saved = sum(
                (by_id[e.cached_from].ended_at or 0) - by_id[e.cached_from].started_at
                for e in reused
                if e.cached_from in by_id
            )
            step_time = sum((e.ended_at or 0) - e.started_at for e in ran)
        finally:
            ws.close()
    best = summary["best"]
    line = (
        f"{summary['trials']} trials on {args.workers} workers in {wall:.0f} s; "
        f"{len(reused)} of {len(executions)} step executions reused, saving {saved:.1f} s "
        f"of step time ({saved / (saved + step_time):.1%} of what independent trials would "
        f"spend in steps); best macro-F1 {best['value']:.4f} at {best['params']}"
    )
    print(line)
    if args.no_write:
        return
    section = "\n".join(
        [
            BEGIN,
            "## A 100-trial sesame sweep",
            "",
            f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: `nproc` "
            f"{os.cpu_count()}, Python {platform.python_version()}",
            f"- command: `python bench/sweep/sesame_sweep.py --workers {args.workers}`",
            f"- sweep: alpha in {{{ALPHA}}} x agreement_power in {{{POWER}}}, objective "
            "metrics.macro_f1, a new store",
            "",
            "| figure | value |",
            "|---|---|",
            f"| trials (failed) | {summary['trials']} ({summary['failed']}) |",
            f"| wall time | {wall:.0f} s |",
            f"| step executions run / reused | {len(ran)} / {len(reused)} |",
            f"| step time spent running | {step_time:.1f} s |",
            f"| step time saved by reuse | {saved:.1f} s |",
            f"| best macro-F1 | {best['value']:.4f} ({best['params']}) |",
            "",
            "Reuse saves the shared steps (ingest, validate, split) of 99 trials; train, evaluate",
            "and register depend on the swept parameters and run in every trial, so they dominate.",
            END,
        ]
    )
    text = RESULTS.read_text()
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
