"""assay side of the tracking benchmark; prints JSON lines (see workload.emit).

Usage:
    python run_assay.py throughput --mode call|batch [--runs 200] [--profile]
    python run_assay.py query [--sizes 1000 10000]

Stores live under a fresh folder in $TMPDIR (the harness gives each process its own).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import io
import json
import math
import platform
import pstats
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import workload as w

import assay
from assay import Settings
from assay.cli import main as cli_main
from assay.tracking import parse_order, parse_where
from assay.workspace import open_workspace


def log_call_by_call(settings: Settings, runs: int, experiment: str) -> list[str]:
    """One log call per value: a log_params per param, a log_metrics per metric value."""
    ids = []
    for r in range(runs):
        with assay.start_run(experiment=experiment, settings=settings) as run:
            for key, value in w.run_params(r).items():
                assay.log_params({key: value})
            for s in range(w.STEPS):
                for m in range(w.METRICS):
                    assay.log_metrics({w.metric_name(m): w.metric_value(r, m, s)}, step=s)
        ids.append(run.run_id)
    return ids


def log_batched(settings: Settings, runs: int, experiment: str) -> list[str]:
    """The natural batches: one log_params with all params, one log_metrics per step."""
    ids = []
    for r in range(runs):
        with assay.start_run(experiment=experiment, settings=settings) as run:
            assay.log_params(w.run_params(r))
            for s in range(w.STEPS):
                assay.log_metrics(
                    {w.metric_name(m): w.metric_value(r, m, s) for m in range(w.METRICS)}, step=s
                )
        ids.append(run.run_id)
    return ids


def verify(settings: Settings, experiment: str, ids: list[str]) -> dict[str, Any]:
    """Read every param and metric value back through assay.Client; count what matches."""
    problems: list[str] = []
    params_ok = metrics_ok = 0
    start = w.clock()
    with assay.Client(settings) as client:
        frame = client.runs(experiment=experiment)
        if sorted(frame["id"]) != sorted(ids):
            problems.append(f"{len(frame)} runs stored, {len(ids)} logged")
        rows = {row["id"]: row for row in frame.to_dict("records")}
        for r, run_id in enumerate(ids):
            row = rows.get(run_id, {})
            if row.get("status") != "succeeded":
                problems.append(f"run {r} status {row.get('status')!r}")
            for key, value in w.run_params(r).items():
                if row.get(f"params.{key}") == value:
                    params_ok += 1
                elif len(problems) < 10:
                    problems.append(f"run {r} {key}: {row.get(f'params.{key}')!r} != {value!r}")
            for m in range(w.METRICS):
                history = client.metrics_history(run_id, w.metric_name(m)).sort_values("step")
                expected = [(s, w.metric_value(r, m, s)) for s in range(w.STEPS)]
                got = list(zip(history["step"].astype(int), history["value"], strict=True))
                for (s, value), (gs, gv) in zip(expected, got, strict=False):
                    if s == gs and gv == value:
                        metrics_ok += 1
                if len(got) != len(expected) and len(problems) < 10:
                    problems.append(f"run {r} m{m}: {len(got)} values, {len(expected)} logged")
    return {
        "runs_stored": len(frame),
        "params_ok": params_ok,
        "metrics_ok": metrics_ok,
        "params_expected": len(ids) * w.PARAMS,
        "metrics_expected": len(ids) * w.METRICS * w.STEPS,
        "problems": problems[:10],
        "seconds": w.clock() - start,
    }


def empty_runs(settings: Settings, n: int = 20) -> float:
    """Seconds per ``with start_run(...): pass``: the fixed cost of a run."""
    start = w.clock()
    for _ in range(n):
        with assay.start_run(experiment="empty", settings=settings):
            pass
    return (w.clock() - start) / n


# Where the time goes: (label, end of the file path, function name) looked up in a profile;
# a name starting with "~" matches every function whose name contains the rest (built-ins).
THROUGHPUT_PARTS = (
    ("start_run, whole run (enter + exit)", "assay/runner/adhoc.py", "start_run"),
    ("  open_workspace (engine, migration check)", "assay/workspace/__init__.py", "open_workspace"),
    ("  environment.capture (packages, host, git)", "assay/runner/environment.py", "capture"),
    ("    git status subprocess", "assay/runner/environment.py", "_git_state"),
    ("  metadata.insert_run", "assay/metadata/repository.py", "insert_run"),
    ("  AdHocRun.flush -> metadata.log_run_data", "assay/runner/adhoc.py", "flush"),
    (
        "  metadata.finish_run (with the buffered values, if written at the end)",
        "assay/metadata/repository.py",
        "finish_run",
    ),
    ("  Workspace.close", "assay/workspace/__init__.py", "close"),
    ("    sqlite3 Connection.close (WAL checkpoint)", "~", "~close' of 'sqlite3.Connection"),
    ("sqlite3 Connection.commit (all)", "~", "~commit' of 'sqlite3.Connection"),
    ("assay.log_params (buffer only)", "assay/tracking/logging.py", "log_params"),
    ("assay.log_metrics (buffer only)", "assay/tracking/logging.py", "log_metrics"),
)
QUERY_PARTS = (
    ("Client.runs", "assay/tracking/client.py", "runs"),
    ("  metadata.list_runs", "assay/metadata/repository.py", "list_runs"),
    ("  runs_frame (latest metrics + DataFrame)", "assay/tracking/table.py", "runs_frame"),
    ("    metadata.latest_metrics", "assay/metadata/repository.py", "latest_metrics"),
    ("sqlite3 execute, all statements (SQL run time)", "~", "~execute' of 'sqlite3.Cursor"),
    ("sqlite3 fetch, all statements", "~", "~fetch"),
    ("JSON columns decoded (params, tags, packages)", "json/__init__.py", "loads"),
    ("rows -> RunRecord", "assay/metadata/rows.py", "run"),
)


def profile_parts(
    profiler: cProfile.Profile, total: float, spec: tuple[tuple[str, str, str], ...]
) -> dict[str, Any]:
    """Cumulative time of the functions in ``spec``, and the 15 costliest by own time."""
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]

    def matches(file: str, name: str, suffix: str, func: str) -> bool:
        if suffix == "~":
            return file == "~" and func[1:] in name
        return file.endswith(suffix) and name == func

    parts = []
    for label, suffix, func in spec:
        found = [
            (calls, cum)
            for (file, _line, name), (_cc, calls, _tot, cum, _callers) in stats.items()
            if matches(file, name, suffix, func)
        ]
        cum = sum(t for _, t in found)
        parts.append(
            {
                "part": label,
                "calls": sum(c for c, _ in found),
                "cumtime_s": cum,
                "share": cum / total,
            }
        )
    top = sorted(
        (
            {
                "function": f"{Path(file).parent.name}/{Path(file).name}:{line}({name})",
                "calls": calls,
                "tottime_s": tot,
                "cumtime_s": cum,
            }
            for (file, line, name), (_cc, calls, tot, cum, _callers) in stats.items()
        ),
        key=lambda row: row["tottime_s"],
        reverse=True,
    )[:15]
    return {"parts": parts, "top_tottime": top}


def throughput(mode: str, runs: int, profile: bool) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f"assay-{mode}-"))
    settings = Settings.for_project(tmp)
    log = log_call_by_call if mode == "call" else log_batched
    log(settings, 1, "warmup")  # creates the database; one untimed run, as for MLflow
    profiler = cProfile.Profile() if profile else None
    start = w.clock()
    if profiler is not None:
        profiler.enable()
    ids = log(settings, runs, mode)
    if profiler is not None:
        profiler.disable()
    seconds = w.clock() - start
    values = runs * (w.PARAMS + w.METRICS * w.STEPS)
    w.emit(
        task="throughput",
        tool="assay",
        mode=mode,
        runs=runs,
        runs_asked=runs,
        values=values,
        seconds=seconds,
        values_per_s=values / seconds,
        calls=values if mode == "call" else runs * (1 + w.STEPS),
        profiled=profile,
    )
    if profiler is not None:
        w.emit(
            task="profile",
            tool="assay",
            mode=mode,
            runs=runs,
            seconds=seconds,
            **profile_parts(profiler, seconds, THROUGHPUT_PARTS),
        )
        return
    w.emit(task="verify", tool="assay", mode=mode, experiment=mode, **verify(settings, mode, ids))
    w.emit(task="empty_run", tool="assay", mode=mode, seconds=empty_runs(settings))


def create_query_runs(ws: Any, first: int, last: int) -> None:
    for index in range(first, last):
        params, steps = w.query_run(index)
        with assay.start_run(experiment="query", workspace=ws, params=params):
            for s, metrics in enumerate(steps):
                assay.log_metrics(metrics, step=s)


def query(sizes: list[int]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="assay-query-"))
    settings = Settings.for_project(tmp)
    ws = open_workspace(settings)
    client = assay.Client(settings)
    where, order = parse_where(w.WHERE), parse_order("-metrics.m1")
    argv = [
        "--home",
        str(tmp),
        "runs",
        "list",
        "--where",
        w.WHERE,
        "--order-by",
        "-metrics.m1",
        "--limit",
        str(w.LIMIT),
        "--json",
    ]

    def by_client() -> Any:
        return client.runs(where=w.WHERE, order_by="-metrics.m1", limit=w.LIMIT)

    def by_list_runs() -> Any:
        return ws.metadata.list_runs(where=where, order=order, limit=w.LIMIT)

    def by_cli() -> Any:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            cli_main(argv)
        return json.loads(out.getvalue())

    created = 0
    for size in sizes:
        start = w.clock()
        create_query_runs(ws, created, size)
        w.emit(
            task="create", tool="assay", runs=size, added=size - created, seconds=w.clock() - start
        )
        created = size
        expected = w.expected_top(size)
        client_s, client_all, frame = w.median_timing(by_client)
        list_s, list_all, records = w.median_timing(by_list_runs)
        cli_s, cli_all, listed = w.median_timing(by_cli)
        top = [float(v) for v in frame["metrics.m1"]]
        ids = list(frame["id"])
        w.emit(
            task="query",
            tool="assay",
            runs=size,
            timings={
                "Client.runs": {"median_s": client_s, "all_s": client_all},
                "metadata.list_runs": {"median_s": list_s, "all_s": list_all},
                "cli runs list --json": {"median_s": cli_s, "all_s": cli_all},
            },
            rows=len(frame),
            top_m1_matches_reference=all(
                math.isclose(a, b, rel_tol=0, abs_tol=1e-12)
                for a, b in zip(top, expected, strict=True)
            )
            if len(top) == len(expected)
            else False,
            list_runs_same_ids=[r.id for r in records] == ids,
            cli_same_ids=[r["id"] for r in listed] == ids,
            top_m1=top[:5],
        )
    w.emit(task="query_profile", tool="assay", runs=created, **profile_query(client, ws, settings))
    client.close()
    ws.close()


def profile_query(client: Any, ws: Any, settings: Settings, repeats: int = 5) -> dict[str, Any]:
    """Where a Client.runs search spends its time, and what the SQL alone costs."""
    profiler = cProfile.Profile()
    start = w.clock()
    profiler.enable()
    for _ in range(repeats):
        client.runs(where=w.WHERE, order_by="-metrics.m1", limit=w.LIMIT)
    profiler.disable()
    total = w.clock() - start
    report: dict[str, Any] = {"calls": repeats, "seconds": total}
    report.update(profile_parts(profiler, total, QUERY_PARTS))
    try:  # the statement list_runs sends, run straight through sqlite3 (assay internals)
        import sqlalchemy as sa  # noqa: PLC0415

        from assay.metadata import schema  # noqa: PLC0415
        from assay.metadata.search import compile_filter, order_by  # noqa: PLC0415

        statement = (
            sa.select(schema.runs)
            .where(compile_filter(parse_where(w.WHERE)))
            .order_by(*order_by(parse_order("-metrics.m1")))
            .limit(w.LIMIT)
        )
        sql = str(
            statement.compile(
                dialect=ws.metadata.engine.dialect, compile_kwargs={"literal_binds": True}
            )
        )
        db = sqlite3.connect(settings.db_url.removeprefix("sqlite:///"))
        plan = [row[-1] for row in db.execute("EXPLAIN QUERY PLAN " + sql)]
        raw_s, raw_all, rows = w.median_timing(lambda: db.execute(sql).fetchall())
        db.close()
        report["raw_sql"] = {
            "median_s": raw_s,
            "all_s": raw_all,
            "rows": len(rows),
            "plan": plan,
            "sql": " ".join(sql.split()),
        }
    except Exception as exc:
        report["raw_sql"] = {"error": f"{type(exc).__name__}: {exc}"}
    return report


def source_state() -> dict[str, Any]:
    """The commit, and a digest of assay's source files as this process imported them."""
    package = Path(assay.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    git = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=package,
        capture_output=True,
        text=True,
        check=False,
    )
    return {"commit": git.stdout.strip(), "src_sha256": digest.hexdigest()[:12]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="task", required=True)
    t = sub.add_parser("throughput")
    t.add_argument("--mode", choices=("call", "batch"), required=True)
    t.add_argument("--runs", type=int, default=w.RUNS)
    t.add_argument("--profile", action="store_true")
    q = sub.add_parser("query")
    q.add_argument("--sizes", type=int, nargs="+", default=list(w.QUERY_SIZES))
    args = parser.parse_args()
    import pandas  # noqa: PLC0415
    import sqlalchemy  # noqa: PLC0415

    w.emit(
        task="versions",
        tool="assay",
        version=assay.__version__,
        python=platform.python_version(),
        sqlite=sqlite3.sqlite_version,
        sqlalchemy=sqlalchemy.__version__,
        pandas=pandas.__version__,
        **source_state(),
    )
    if args.task == "throughput":
        throughput(args.mode, args.runs, args.profile)
    else:
        query(sorted(args.sizes))


if __name__ == "__main__":
    main()
