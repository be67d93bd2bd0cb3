"""MLflow side of the tracking benchmark; run with bench/.venvs/mlflow/bin/python.

Usage:
    python run_mlflow.py throughput --mode call|batch [--runs 200] [--budget-s 600]
    python run_mlflow.py query [--sizes 1000 10000] [--budget-s 600]

Backend store: SQLite (``sqlite:///$TMPDIR/.../mlflow.db``); prints JSON lines.
"""

from __future__ import annotations

import argparse
import logging
import math
import platform
import sqlite3
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import mlflow
import workload as w
from mlflow import MlflowClient
from mlflow.entities import Metric, Param


def setup(prefix: str) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
    return tmp


def experiment(tmp: Path, name: str) -> str:
    """Create an experiment; the first one also creates and migrates the database."""
    return MlflowClient().create_experiment(name, artifact_location=(tmp / "art" / name).as_uri())


def log_call_by_call(eid: str, runs: int, budget_s: float, start: float) -> list[str]:
    """One call per value: mlflow.log_param per param, mlflow.log_metric per metric value."""
    ids = []
    for r in range(runs):
        with mlflow.start_run(experiment_id=eid) as run:
            for key, value in w.run_params(r).items():
                mlflow.log_param(key, value)
            for s in range(w.STEPS):
                for m in range(w.METRICS):
                    mlflow.log_metric(w.metric_name(m), w.metric_value(r, m, s), step=s)
        ids.append(run.info.run_id)
        if w.clock() - start > budget_s:
            break  # the harness reports how many runs were measured
    return ids


def log_batched(eid: str, runs: int, budget_s: float, start: float) -> list[str]:
    """One MlflowClient().log_batch per run with all its params and metric values."""
    client = MlflowClient()
    ids = []
    for r in range(runs):
        run_id = client.create_run(eid).info.run_id
        now = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[
                Metric(w.metric_name(m), w.metric_value(r, m, s), now, s)
                for s in range(w.STEPS)
                for m in range(w.METRICS)
            ],
            params=[Param(key, str(value)) for key, value in w.run_params(r).items()],
        )
        client.set_terminated(run_id)
        ids.append(run_id)
        if w.clock() - start > budget_s:
            break
    return ids


def verify(eid: str, ids: list[str]) -> dict[str, Any]:
    """Read every param and metric value back through MlflowClient; count what matches."""
    client = MlflowClient()
    problems: list[str] = []
    params_ok = metrics_ok = 0
    start = w.clock()
    stored = {run.info.run_id: run for run in client.search_runs([eid], max_results=50_000)}
    if sorted(stored) != sorted(ids):
        problems.append(f"{len(stored)} runs stored, {len(ids)} logged")
    for r, run_id in enumerate(ids):
        run = stored.get(run_id)
        if run is None:
            continue
        if run.info.status != "FINISHED":
            problems.append(f"run {r} status {run.info.status!r}")
        for key, value in w.run_params(r).items():
            if run.data.params.get(key) == str(value):
                params_ok += 1
            elif len(problems) < 10:
                problems.append(f"run {r} {key}: {run.data.params.get(key)!r} != {str(value)!r}")
        for m in range(w.METRICS):
            history = sorted(
                client.get_metric_history(run_id, w.metric_name(m)), key=lambda x: x.step
            )
            for s, got in zip(range(w.STEPS), history, strict=False):
                if got.step == s and got.value == w.metric_value(r, m, s):
                    metrics_ok += 1
            if len(history) != w.STEPS and len(problems) < 10:
                problems.append(f"run {r} m{m}: {len(history)} values, {w.STEPS} logged")
    return {
        "runs_stored": len(stored),
        "params_ok": params_ok,
        "metrics_ok": metrics_ok,
        "params_expected": len(ids) * w.PARAMS,
        "metrics_expected": len(ids) * w.METRICS * w.STEPS,
        "problems": problems[:10],
        "seconds": w.clock() - start,
    }


def empty_runs(eid: str, n: int = 20) -> float:
    """Seconds per ``with mlflow.start_run(): pass``: the fixed cost of a run."""
    start = w.clock()
    for _ in range(n):
        with mlflow.start_run(experiment_id=eid):
            pass
    return (w.clock() - start) / n


def throughput(mode: str, runs: int, budget_s: float) -> None:
    tmp = setup(f"mlflow-{mode}-")
    eid = experiment(tmp, mode)
    log = log_call_by_call if mode == "call" else log_batched
    log(experiment(tmp, "warmup"), 1, math.inf, w.clock())  # one untimed run
    start = w.clock()
    ids = log(eid, runs, budget_s, start)
    seconds = w.clock() - start
    values = len(ids) * (w.PARAMS + w.METRICS * w.STEPS)
    w.emit(
        task="throughput",
        tool="mlflow",
        mode=mode,
        runs=len(ids),
        runs_asked=runs,
        values=values,
        seconds=seconds,
        values_per_s=values / seconds,
        calls=values if mode == "call" else len(ids) * 3,
        profiled=False,
    )
    w.emit(task="verify", tool="mlflow", mode=mode, experiment=mode, **verify(eid, ids))
    w.emit(task="empty_run", tool="mlflow", mode=mode, seconds=empty_runs(experiment(tmp, "e")))


def create_query_runs(client: MlflowClient, eid: str, first: int, last: int) -> None:
    for index in range(first, last):
        params, steps = w.query_run(index)
        run_id = client.create_run(eid).info.run_id
        now = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, now, s) for s, ms in enumerate(steps) for k, v in ms.items()],
            params=[Param(k, str(v)) for k, v in params.items()],
        )
        client.set_terminated(run_id)


def query(sizes: list[int], budget_s: float) -> None:
    tmp = setup("mlflow-query-")
    eid = experiment(tmp, "query")
    client = MlflowClient()

    def by_search_runs() -> Any:
        return mlflow.search_runs(
            experiment_ids=[eid],
            filter_string=w.WHERE,
            order_by=["metrics.m1 DESC"],
            max_results=w.LIMIT,
        )

    def by_client() -> Any:
        return client.search_runs(
            [eid], filter_string=w.WHERE, order_by=["metrics.m1 DESC"], max_results=w.LIMIT
        )

    created, per_run_s, started = 0, None, w.clock()
    for size in sizes:
        if per_run_s is not None and (size - created) * per_run_s > budget_s:
            w.emit(
                task="skipped",
                tool="mlflow",
                runs=size,
                reason=f"creating {size - created} more runs would take about "
                f"{(size - created) * per_run_s:.0f} s, over the {budget_s:.0f} s budget",
            )
            continue
        start = w.clock()
        create_query_runs(client, eid, created, size)
        seconds = w.clock() - start
        per_run_s = seconds / (size - created)
        w.emit(task="create", tool="mlflow", runs=size, added=size - created, seconds=seconds)
        created = size
        expected = w.expected_top(size)
        frame_s, frame_all, frame = w.median_timing(by_search_runs)
        client_s, client_all, found = w.median_timing(by_client)
        top = [float(v) for v in frame["metrics.m1"]]
        w.emit(
            task="query",
            tool="mlflow",
            runs=size,
            timings={
                "mlflow.search_runs": {"median_s": frame_s, "all_s": frame_all},
                "MlflowClient.search_runs": {"median_s": client_s, "all_s": client_all},
            },
            rows=len(frame),
            top_m1_matches_reference=len(top) == len(expected)
            and all(
                math.isclose(a, b, rel_tol=0, abs_tol=1e-12)
                for a, b in zip(top, expected, strict=False)
            ),
            client_same_ids=[r.info.run_id for r in found] == list(frame["run_id"]),
            top_m1=top[:5],
        )
    w.emit(task="query_done", tool="mlflow", seconds=w.clock() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="task", required=True)
    t = sub.add_parser("throughput")
    t.add_argument("--mode", choices=("call", "batch"), required=True)
    t.add_argument("--runs", type=int, default=w.RUNS)
    t.add_argument("--budget-s", type=float, default=600.0)
    q = sub.add_parser("query")
    q.add_argument("--sizes", type=int, nargs="+", default=list(w.QUERY_SIZES))
    q.add_argument("--budget-s", type=float, default=600.0)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    import pandas  # noqa: PLC0415
    import sqlalchemy  # noqa: PLC0415

    w.emit(
        task="versions",
        tool="mlflow",
        version=mlflow.__version__,
        python=platform.python_version(),
        sqlite=sqlite3.sqlite_version,
        sqlalchemy=sqlalchemy.__version__,
        pandas=pandas.__version__,
    )
    if args.task == "throughput":
        throughput(args.mode, args.runs, args.budget_s)
    else:
        query(sorted(args.sizes), args.budget_s)


if __name__ == "__main__":
    main()
