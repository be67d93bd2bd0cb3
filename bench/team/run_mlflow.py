"""MLflow side of the team-server benchmark: fills the SQLite store ``mlflow server`` will
serve; run with bench/.venvs/mlflow/bin/python.

Usage: ``python bench/team/run_mlflow.py populate --db PATH --runs 10000 --versions 20``
(prints JSON lines, see ``workload.emit``).
"""

from __future__ import annotations

import argparse
import logging
import platform
import sqlite3
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tracking"))  # the shared workload (runs, filter, timing)

import mlflow  # noqa: E402
import workload as w  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param  # noqa: E402

MODEL = "teammodel"
# Start times are set, one millisecond apart in index order, so "newest first" is the same
# well-defined order as assay's (MLflow keeps milliseconds; two runs logged in the same
# millisecond would otherwise tie). 2026-01-01 00:00 UTC.
BASE_MS = 1_767_225_600_000


def register_versions(client: MlflowClient, art: Path, versions: int) -> None:
    """``versions`` versions of MODEL, each from a run of its own (as a training run makes)."""
    eid = client.create_experiment("models", artifact_location=(art / "models").as_uri())
    client.create_registered_model(MODEL)
    for v in range(1, versions + 1):
        run_id = client.create_run(eid, start_time=BASE_MS - 60_000 + v).info.run_id
        client.log_batch(run_id, params=[Param("weight", str(float(v)))])
        client.set_terminated(run_id)
        source = (art / "models" / run_id / "model").as_uri()
        client.create_model_version(MODEL, source=source, run_id=run_id)


def create_runs(client: MlflowClient, eid: str, runs: int) -> None:
    """The workload's query runs, tagged with their index, one log_batch each."""
    for index in range(runs):
        params, steps = w.query_run(index)
        start = BASE_MS + index
        run_id = client.create_run(eid, start_time=start, tags={"idx": str(index)}).info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, start, s) for s, ms in enumerate(steps) for k, v in ms.items()],
            params=[Param(k, str(v)) for k, v in params.items()],
        )
        client.set_terminated(run_id, end_time=start + 1)


def populate(db: Path, runs: int, versions: int) -> None:
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    art = db.parent / "art"
    client = MlflowClient()
    start = w.clock()
    register_versions(client, art, versions)  # also creates and migrates the database
    w.emit(task="versions_created", tool="mlflow", versions=versions, seconds=w.clock() - start)
    eid = client.create_experiment("query", artifact_location=(art / "query").as_uri())
    start = w.clock()
    create_runs(client, eid, runs)
    w.emit(task="runs_created", tool="mlflow", runs=runs, seconds=w.clock() - start)
    page = client.search_runs([eid], filter_string=f"tags.idx = '{runs // 2}'", max_results=1)
    w.emit(
        task="page_run", tool="mlflow", idx=runs // 2, run_id=page[0].info.run_id, experiment=eid
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="task", required=True)
    p = sub.add_parser("populate")
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--versions", type=int, default=20)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    w.emit(
        task="versions",
        tool="mlflow",
        version=mlflow.__version__,
        python=platform.python_version(),
        sqlite=sqlite3.sqlite_version,
    )
    populate(args.db, args.runs, args.versions)


if __name__ == "__main__":
    main()
