"""assay side of the team-server benchmark: fills the store the server will serve, and
times the same reads in-process (to split an HTTP answer into route and transport).

Usage (the harness runs it with ASSAY_HOME, XDG_STATE_HOME and XDG_CONFIG_HOME set to a
temporary folder; it prints JSON lines, see ``workload.emit``):

    python bench/team/run_assay.py populate --runs 10000 --versions 20
    python bench/team/run_assay.py inprocess --page-run ID [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import platform
import pstats
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tracking"))  # the shared workload (runs, filter, timing)

import httpx  # noqa: E402
import sqlalchemy  # noqa: E402
import workload as w  # noqa: E402

import assay  # noqa: E402
from assay import Settings, pipeline, register_model, step  # noqa: E402
from assay.server.api import models as model_routes  # noqa: E402
from assay.server.api import runs as run_routes  # noqa: E402
from assay.server.api.app import PREFIX, TeamOptions, TeamServer, create_app  # noqa: E402
from assay.server.api.fast import FastReads  # noqa: E402
from assay.server.api.plain import PlainJSONResponse  # noqa: E402
from assay.tracking import search_runs  # noqa: E402
from assay.workspace import Workspace, open_workspace  # noqa: E402

MODEL = "teammodel"
SRC = Path(assay.__file__).resolve().parent.parent
STDLIB = Path(argparse.__file__).resolve().parent
SITE = Path(sqlalchemy.__file__).resolve().parent.parent
EXPERIMENT = "query"


@step
def fit(weight: float) -> dict[str, Any]:
    """A stand-in model (stored as JSON): the weight makes each version's artifact differ."""
    return {"weight": weight}


@pipeline
def train(weight: float = 1.0) -> None:
    model = fit(weight=weight)
    register_model(model, name=MODEL, metrics={"weight": weight})


def register_versions(ws: Workspace, versions: int) -> None:
    """``versions`` versions of MODEL, each a pipeline run registering a new artifact."""
    for v in range(1, versions + 1):
        assay.run(train, {"weight": float(v)}, workspace=ws, experiment="models")


def create_runs(ws: Workspace, runs: int) -> None:
    """The workload's query runs, each tagged with its index so answers can be matched
    across tools (the run ids differ)."""
    for index in range(runs):
        params, steps = w.query_run(index)
        with assay.start_run(
            experiment=EXPERIMENT, workspace=ws, params=params, tags={"idx": str(index)}
        ):
            for s, metrics in enumerate(steps):
                assay.log_metrics(metrics, step=s)


def populate(runs: int, versions: int) -> None:
    settings = Settings.from_env()
    ws = open_workspace(settings)
    try:
        # The versions first: their pipeline runs are then older than every query run, so
        # they never appear among the newest 100.
        start = w.clock()
        register_versions(ws, versions)
        w.emit(task="versions_created", tool="assay", versions=versions, seconds=w.clock() - start)
        start = w.clock()
        create_runs(ws, runs)
        w.emit(task="runs_created", tool="assay", runs=runs, seconds=w.clock() - start)
        page = search_runs(ws, where=f"tags.idx = '{runs // 2}'", limit=1).runs
        w.emit(task="page_run", tool="assay", idx=runs // 2, run_id=page[0].id)
    finally:
        ws.close()


def inprocess(page_run: str, profile: bool) -> None:
    """The routes' work without HTTP: what each answer costs inside the server process."""
    ws = open_workspace(Settings.from_env())
    order = "-metrics.m1"
    try:
        # The route functions themselves, called as FastAPI would call them.
        calls = {
            "search": lambda: run_routes.list_runs(
                ws,
                where=w.WHERE,
                order_by=order,
                experiment=None,
                pipeline=None,
                limit=w.LIMIT,
                cursor=None,
            ),
            "newest": lambda: run_routes.list_runs(
                ws,
                where=None,
                order_by=None,
                experiment=None,
                pipeline=None,
                limit=w.LIMIT,
                cursor=None,
            ),
            "run page": lambda: run_routes.get_run(ws, page_run),
            "model versions": lambda: model_routes.list_models(ws, name=MODEL, archived=False),
        }
        timings = {}
        for name, call in calls.items():
            median, each, _ = w.median_timing(call)
            timings[name] = {"median_s": median, "all_s": each}
        # The whole request through the ASGI app as the server stacks it (the reads it answers
        # before FastAPI, then FastAPI), in this thread's event loop (no socket, no test
        # client's thread): matching, who asks, the worker thread, encoding the answer.
        app = FastReads(create_app(TeamServer(ws, TeamOptions())), PREFIX)
        loop = asyncio.new_event_loop()
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        )

        def get(path: str, params: dict[str, Any] | None = None) -> httpx.Response:
            return loop.run_until_complete(client.get(path, params=params))

        asgi = {
            "search": lambda: get(
                "/api/v1/runs", {"where": w.WHERE, "order_by": order, "limit": w.LIMIT}
            ),
            "newest": lambda: get("/api/v1/runs", {"limit": w.LIMIT}),
            "run page": lambda: get(f"/api/v1/runs/{page_run}"),
            "model versions": lambda: get("/api/v1/models", {"name": MODEL}),
            "health": lambda: get("/api/v1/health"),
        }
        asgi_timings = {}
        try:
            for name, request in asgi.items():
                median, each, response = w.median_timing(request)
                response.raise_for_status()
                asgi_timings[name] = {"median_s": median, "all_s": each}
        finally:
            loop.run_until_complete(client.aclose())
            loop.close()
        encode = encoding(calls)
        w.emit(task="inprocess", tool="assay", api=timings, asgi=asgi_timings, encode=encode)
        if profile:
            for name, call in calls.items():
                w.emit(task="profile_route", tool="assay", query=name, **profile_route(call))
            w.emit(task="profile", tool="assay", **profile_search(ws, order))
    finally:
        ws.close()


def encoding(calls: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Seconds the server takes to turn each route's answer into JSON bytes: the answer
    class every route answers with (``PlainJSONResponse``), on the worker thread that
    computed it."""
    found = {}
    for name, call in calls.items():
        answer = call()
        median, each, response = w.median_timing(lambda answer=answer: PlainJSONResponse(answer))
        found[name] = {"median_s": median, "all_s": each, "bytes": len(response.body)}
    return found


# What a profile lists (regular expressions on file and function names): assay's own
# functions, SQLite and JSON decoding.
ROUTE_PARTS = r"assay/|sqlite3|json/(__init__|decoder)|dataclasses"


def profile_route(call: Callable[[], Any], repeats: int = 5) -> dict[str, Any]:
    """cProfile of a route function: assay's functions, SQLite and JSON by cumulative time."""
    call()  # warm, as the timings are
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for _ in range(repeats):
        call()
    profiler.disable()
    total = time.perf_counter() - start
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).sort_stats("cumulative")
    stats.print_stats(ROUTE_PARTS, 24)
    # Paths shortened to the package: the lines are read, not opened.
    cumulative = text.getvalue()
    for prefix in (SRC, SITE, STDLIB):
        cumulative = cumulative.replace(f"{prefix}/", "")
    return {"calls": repeats, "seconds": total, "cumulative": cumulative}


def profile_search(ws: Workspace, order: str, repeats: int = 5) -> dict[str, Any]:
    """cProfile of ``search_runs`` with the filter, and the statement's own time in SQLite."""
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for _ in range(repeats):
        search_runs(ws, where=w.WHERE, order_by=order, limit=w.LIMIT)
    profiler.disable()
    total = time.perf_counter() - start
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
    report: dict[str, Any] = {"calls": repeats, "seconds": total, "cumulative": text.getvalue()}
    try:  # the statement list_runs sends, straight through sqlite3 (assay internals)
        import sqlalchemy as sa  # noqa: PLC0415

        from assay.metadata import schema  # noqa: PLC0415
        from assay.metadata.search import compile_filter, order_by  # noqa: PLC0415
        from assay.tracking import parse_order, parse_where  # noqa: PLC0415

        statement = (
            sa.select(schema.runs)
            .where(compile_filter(parse_where(w.WHERE)))
            .order_by(*order_by(parse_order(order)))
            .limit(w.LIMIT)
        )
        sql = str(
            statement.compile(
                dialect=ws.metadata.engine.dialect, compile_kwargs={"literal_binds": True}
            )
        )
        db = sqlite3.connect(Settings.from_env().db_url.removeprefix("sqlite:///"))
        plan = [row[-1] for row in db.execute("EXPLAIN QUERY PLAN " + sql)]
        raw_s, raw_all, rows = w.median_timing(lambda: db.execute(sql).fetchall())
        db.close()
        report["raw_sql"] = {"median_s": raw_s, "all_s": raw_all, "rows": len(rows), "plan": plan}
    except Exception as exc:  # internals may move; the profile above still stands
        report["raw_sql"] = {"error": f"{type(exc).__name__}: {exc}"}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="task", required=True)
    p = sub.add_parser("populate")
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--versions", type=int, default=20)
    q = sub.add_parser("inprocess")
    q.add_argument("--page-run", required=True)
    q.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    w.emit(
        task="versions",
        tool="assay",
        version=assay.__version__,
        python=platform.python_version(),
        sqlite=sqlite3.sqlite_version,
    )
    if args.task == "populate":
        populate(args.runs, args.versions)
    else:
        inprocess(args.page_run, args.profile)


if __name__ == "__main__":
    main()
