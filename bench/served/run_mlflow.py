"""MLflow side of the recording-through-a-server benchmark: the tracking workload logged by a
process pointed at ``mlflow server`` (REST), read back through it; run with
bench/.venvs/mlflow/bin/python; prints JSON lines.

Usage: ``python bench/served/run_mlflow.py --server URL --mode call|batch [--runs 200]
[--budget-s 600]`` (call by call through REST is slow: the runs logged within the budget
are what is measured).
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import uuid
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tracking"))  # the shared workload and log loops

import mlflow  # noqa: E402
import run_mlflow as tracking  # noqa: E402
import workload as w  # noqa: E402
from mlflow import MlflowClient  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--mode", choices=("call", "batch"), required=True)
    parser.add_argument("--runs", type=int, default=w.RUNS)
    parser.add_argument("--budget-s", type=float, default=600.0)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    w.emit(
        task="versions", tool="mlflow", version=mlflow.__version__, python=platform.python_version()
    )
    mlflow.set_tracking_uri(args.server)
    client = MlflowClient()
    suffix = uuid.uuid4().hex[:8]  # the server's store outlives this process
    warm = client.create_experiment(f"warmup-{suffix}")
    eid = client.create_experiment(f"{args.mode}-{suffix}")
    log = tracking.log_call_by_call if args.mode == "call" else tracking.log_batched
    log(warm, 1, float("inf"), w.clock())  # one untimed run
    start = w.clock()
    ids = log(eid, args.runs, args.budget_s, start)
    seconds = w.clock() - start
    values = len(ids) * (w.PARAMS + w.METRICS * w.STEPS)
    w.emit(
        task="throughput",
        tool="mlflow",
        mode=args.mode,
        runs=len(ids),
        values=values,
        seconds=seconds,
        values_per_s=values / seconds,
    )
    w.emit(task="verify", tool="mlflow", mode=args.mode, **tracking.verify(eid, ids))


if __name__ == "__main__":
    main()
