"""assay side of the recording-through-a-server benchmark: the tracking workload logged by a
process pointed at a team server (``ASSAY_SERVER_URL``), read back through it; prints JSON
lines (see ``workload.emit``).

Usage: ``python bench/served/run_assay.py --server URL --mode call|batch [--runs 200]``
(the harness runs it; the process has no store of its own).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tracking"))  # the shared workload and log loops

import run_assay as tracking  # noqa: E402
import workload as w  # noqa: E402

import assay  # noqa: E402
from assay import Settings  # noqa: E402
from assay.remote import connect  # noqa: E402
from assay.remote.runs import HttpRuns  # noqa: E402


def verify(settings: Settings, ids: list[str]) -> dict[str, Any]:
    """Every param and metric value read back through the server; what matches counted."""
    problems: list[str] = []
    params_ok = metrics_ok = 0
    start = w.clock()
    connection = connect(settings)
    runs = HttpRuns(connection)
    try:
        for r, run_id in enumerate(ids):
            run = runs.get_run(run_id, whole=False)
            if run.status != "succeeded":
                problems.append(f"run {r} status {run.status!r}")
            for key, value in w.run_params(r).items():
                if run.params.get(key) == value:
                    params_ok += 1
                elif len(problems) < 10:
                    problems.append(f"run {r} {key}: {run.params.get(key)!r} != {value!r}")
            got = {(m.key, m.step): m.value for m in runs.metrics(run_id)}
            for m in range(w.METRICS):
                for s in range(w.STEPS):
                    if got.get((w.metric_name(m), s)) == w.metric_value(r, m, s):
                        metrics_ok += 1
            if len(got) != w.METRICS * w.STEPS and len(problems) < 10:
                problems.append(f"run {r}: {len(got)} values, {w.METRICS * w.STEPS} logged")
    finally:
        connection.close()
    return {
        "runs_stored": len(ids),
        "params_ok": params_ok,
        "metrics_ok": metrics_ok,
        "params_expected": len(ids) * w.PARAMS,
        "metrics_expected": len(ids) * w.METRICS * w.STEPS,
        "problems": problems[:10],
        "seconds": w.clock() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--mode", choices=("call", "batch"), required=True)
    parser.add_argument("--runs", type=int, default=w.RUNS)
    args = parser.parse_args()
    w.emit(
        task="versions", tool="assay", version=assay.__version__, python=platform.python_version()
    )
    # A folder that stays empty: the runs go to the server, nothing is written here.
    local = Path(tempfile.mkdtemp(prefix="assay-served-")) / "laptop"
    settings = Settings.for_project(local).with_server(args.server)
    log = tracking.log_call_by_call if args.mode == "call" else tracking.log_batched
    log(settings, 1, "warmup")  # one untimed run, as for MLflow
    start = w.clock()
    ids = log(settings, args.runs, args.mode)
    seconds = w.clock() - start
    values = args.runs * (w.PARAMS + w.METRICS * w.STEPS)
    w.emit(
        task="throughput",
        tool="assay",
        mode=args.mode,
        runs=args.runs,
        values=values,
        seconds=seconds,
        values_per_s=values / seconds,
        local_files=sum(1 for _ in local.rglob("*")) if local.exists() else 0,
    )
    w.emit(task="verify", tool="assay", mode=args.mode, **verify(settings, ids))


if __name__ == "__main__":
    main()
