"""Team server against the MLflow tracking server, over HTTP, side by side; reported as ratios.

Both servers hold the same 10,000 runs (``bench/tracking/workload.py``: params p1 in a/b/c,
p2, p3; metrics m1..m3 logged at steps 0-2; each run tagged ``idx`` with its index) and one
model with 20 versions. Four reads, each answered by both servers over a keep-alive HTTP
connection (httpx) after one warm-up, in 5 rounds of 10 requests in a row to one tool, the
tools alternating; the median of the requests that follow one to the same server (the first
of a round, after the other tool, is reported apart as cold; see ``measure``):

1. search: ``metrics.m1 > 0.5 and params.p1 = 'a'``, best m1 first, 100 runs
   (assay ``GET /api/v1/runs?where=...&order_by=-metrics.m1``, MLflow ``POST runs/search``);
2. newest: the newest 100 runs, unfiltered;
3. run page: one run (assay ``GET /api/v1/runs/ID``, MLflow ``GET runs/get``);
4. model versions: the model's version list (assay ``GET /api/v1/models?name=``, MLflow
   ``GET model-versions/search?filter=name='...'``).

Every answer is checked: both tools name the same runs (by ``idx``) in the same order, the
search's m1 values are the ones computed from the workload, the run page has the same params
and latest metrics, the version lists hold the same versions in the same order. A mismatch
fails the run.

assay: its store is written in-process (``run_assay.py populate``), then ``python -m assay
server`` (``--auth local`` on 127.0.0.1) serves it. MLflow: ``bench/.venvs/mlflow``
(``bash bench/tracking/setup_mlflow.sh``) writes a SQLite store with ``log_batch``
(``run_mlflow.py populate``), then ``mlflow server --workers 1`` serves it, its job runner
off (``MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false``: nine helper processes the reads never use).
The two stores are filled at the same time (untimed; paused while ``/tmp/assay-quiet``
exists, which another benchmark on this machine creates while it times). The servers run side
by side; timing starts once both are idle and the load average is under ``--max-load``.
Afterwards ``run_assay.py inprocess`` times the same reads without HTTP (the route function,
then the ASGI app in-process), and profiles each route when a floor is missed.

Usage: ``python bench/team/harness.py`` (5 to 15 minutes to fill the stores, depending on
what else runs, then a minute or two); a quick trial: ``python bench/team/harness.py --runs
500 --no-write``; ``--keep`` keeps the stores and ``--reuse DIR`` times them again. Writes
``bench/team/results.json`` (raw timings) and ``bench/team/SECTION.md`` (the section for
bench/RESULTS.md), and prints the section; ``--render-only`` rewrites the section from
``results.json`` without measuring.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH / "tracking"))  # the shared workload (runs, filter, reference)

import workload as w  # noqa: E402

MLFLOW_BIN = BENCH / ".venvs" / "mlflow" / "bin"
RESULTS_JSON = HERE / "results.json"
SECTION_MD = HERE / "SECTION.md"
BEGIN, END = "<!-- team:begin -->", "<!-- team:end -->"
MODEL = "teammodel"  # as in run_assay.py and run_mlflow.py
# Another benchmark on this 2-core machine asks for quiet by creating this file.
QUIET = Path("/tmp/assay-quiet")

# Floors: MLflow ms / assay ms, at least (the issue); a query without one is for reference.
FLOORS = {"search": 10.0, "newest": 5.0, "run page": 5.0, "model versions": 5.0}
# MLflow figures the issue quotes (mlflow server 3.17.2, 10,000 runs, median of 5).
ISSUE_MLFLOW_MS = {"search": 841.0, "newest": 52.0}


class Mismatch(Exception):
    """An answer differs from the other tool's, from the reference, or between repeats."""


# -- processes ---------------------------------------------------------------------------


def wait_quiet(limit_s: float = 7200.0) -> None:
    """Wait while another benchmark holds the machine (bounded: then go on, and say so)."""
    deadline = time.monotonic() + limit_s
    announced = False
    while QUIET.exists() and time.monotonic() < deadline:
        if not announced:
            print(f"   waiting: {QUIET} exists (another benchmark is timing)", flush=True)
            announced = True
        time.sleep(30)
    if QUIET.exists():
        print(f"   {QUIET} still there after {limit_s:.0f} s; going on", flush=True)


def wait_calm(max_load: float, limit_s: float = 600.0) -> float:
    """Wait until the 1-minute load average is under ``max_load`` (the stores' filling, or
    other work on this shared machine, fading), at most ``limit_s``; seconds waited."""
    started = time.monotonic()
    while os.getloadavg()[0] >= max_load and time.monotonic() - started < limit_s:
        time.sleep(15)
    waited = time.monotonic() - started
    load = os.getloadavg()[0]
    if load >= max_load:
        print(f"   load average still {load:.2f} after {waited:.0f} s; timing anyway", flush=True)
    return waited


HEALTH = {"assay": "/api/v1/health", "mlflow": "/health"}


def server_commands(tmp: Path) -> dict[str, list[str]]:
    """Each tool's server over its SQLite store under ``tmp``, on 127.0.0.1 (the port is
    added by the caller): ``python -m assay server`` and ``mlflow server --workers 1``."""
    return {
        "assay": [sys.executable, "-m", "assay", "server", "--host", "127.0.0.1"],
        "mlflow": [
            str(MLFLOW_BIN / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{tmp / 'mlflow' / 'mlflow.db'}",
            "--default-artifact-root",
            (tmp / "mlflow" / "art").as_uri(),
            "--host",
            "127.0.0.1",
            "--workers",
            "1",  # one process, as assay's server; requests here come one at a time anyway
        ],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    """A process in a session of its own, so that stopping it reaches the workers it forks
    (``mlflow server`` runs uvicorn as a child)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group this harness started, SIGKILL after 20 s; then SIGKILL
    to whatever is left in the group (``mlflow server``'s helpers outlive their parent)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
            os.killpg(proc.pid, signal.SIGCONT)  # a paused process acts on SIGTERM once resumed
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=20)


def group_cpu_s(pgid: int) -> float:
    """CPU seconds used so far by the live processes of group ``pgid`` (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ...
                total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def wait_settled(pgids: list[int], limit_s: float = 300.0) -> float:
    """Wait until the servers are idle (under 5% of a core over 5 s): a server that answers
    its health check may still be starting helpers; seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        before = sum(group_cpu_s(g) for g in pgids)
        time.sleep(5)
        if sum(group_cpu_s(g) for g in pgids) - before < 0.25:
            return time.monotonic() - started
    print(f"   the servers were still busy after {limit_s:.0f} s; timing anyway", flush=True)
    return time.monotonic() - started


def tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else ""


def records_of(log: Path) -> list[dict[str, Any]]:
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                found.append(json.loads(line))
    return found


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, limit_s: float) -> float:
    """Poll ``url`` until it answers 200; seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited ({proc.returncode}):\n{tail(log)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=5).status_code == 200:
                return time.monotonic() - started
        time.sleep(0.25)
    raise RuntimeError(f"{url}: no answer within {limit_s:.0f} s:\n{tail(log)}")


def populate(tmp: Path, env: dict[str, dict[str, str]], runs: int, versions: int) -> list[Any]:
    """Fill both stores at once (untimed setup); their JSON records."""
    size = ["--runs", str(runs), "--versions", str(versions)]
    jobs = {
        "assay": [sys.executable, str(HERE / "run_assay.py"), "populate", *size],
        "mlflow": [
            str(MLFLOW_BIN / "python"),
            str(HERE / "run_mlflow.py"),
            "populate",
            "--db",
            str(tmp / "mlflow" / "mlflow.db"),
            *size,
        ],
    }
    logs = {tool: tmp / f"populate-{tool}.log" for tool in jobs}
    print(f"== populating both stores ({runs:,} runs, {versions} versions)", flush=True)
    procs = {tool: start(argv, env[tool], ROOT, logs[tool]) for tool, argv in jobs.items()}
    # MLflow writes about 35 runs a second here; allow four times that, and a minute. Time
    # spent paused for another benchmark does not count.
    limit = 60 + runs / 35 * 4
    working, paused = 0.0, False
    try:
        while any(proc.poll() is None for proc in procs.values()):
            if working > limit:
                raise RuntimeError(f"populating took over {limit:.0f} s")
            quiet = QUIET.exists()
            if quiet != paused:  # another benchmark is timing: hold the writers still
                print(f"   {'pausing' if quiet else 'resuming'} ({QUIET})", flush=True)
                for proc in procs.values():
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGSTOP if quiet else signal.SIGCONT)
                paused = quiet
            time.sleep(2)
            working += 0 if paused else 2
        for tool, proc in procs.items():
            if proc.returncode != 0:
                raise RuntimeError(
                    f"{tool}: populating failed ({proc.returncode}):\n{tail(logs[tool])}"
                )
            for record in records_of(logs[tool]):
                print(f"   {json.dumps(record)}", flush=True)
    finally:
        for proc in procs.values():
            stop(proc)
    return [r for log in logs.values() for r in records_of(log)]


# -- the reads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    params: dict[str, Any] | None = None
    body: dict[str, Any] | None = None

    def send(self, client: httpx.Client) -> tuple[float, Any, int]:
        """Seconds for the round trip, the body read (not decoded); the decoded body, and its
        size in bytes."""
        begin = time.perf_counter()
        response = client.request(self.method, self.path, params=self.params, json=self.body)
        response.read()
        seconds = time.perf_counter() - begin
        response.raise_for_status()
        json_body = response.headers.get("content-type", "").startswith("application/json")
        body = response.json() if json_body else response.text
        return seconds, body, len(response.content)


@dataclass(frozen=True)
class Query:
    name: str
    assay: Request
    mlflow: Request
    # Each tool's answer reduced to what must be equal across tools (and repeats).
    assay_key: Callable[[Any], Any]
    mlflow_key: Callable[[Any], Any]
    # What the workload fixes: ``reference(key)`` must equal ``expected``.
    expected: Any
    reference: Callable[[Any], Any] = lambda key: key


def mlflow_tags(run: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run["data"].get("tags", [])}


def mlflow_metrics(run: dict[str, Any]) -> dict[str, float]:
    return {m["key"]: float(m["value"]) for m in run["data"].get("metrics", [])}


def assay_runs(body: dict[str, Any]) -> list[tuple[int, float]]:
    return [(int(r["tags"]["idx"]), float(r["metrics"]["m1"])) for r in body["runs"]]


def mlflow_runs(body: dict[str, Any]) -> list[tuple[int, float]]:
    return [(int(mlflow_tags(r)["idx"]), mlflow_metrics(r)["m1"]) for r in body.get("runs", [])]


def assay_page(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "idx": int(body["tags"]["idx"]),
        # MLflow keeps every param as text; assay keeps the logged type.
        "params": {k: str(v) for k, v in body["params"].items()},
        "metrics": {k: float(v) for k, v in body["metrics"].items()},
    }


def mlflow_page(body: dict[str, Any]) -> dict[str, Any]:
    run = body["run"]
    return {
        "idx": int(mlflow_tags(run)["idx"]),
        "params": {p["key"]: p["value"] for p in run["data"].get("params", [])},
        "metrics": mlflow_metrics(run),
    }


def assay_versions(body: dict[str, Any]) -> list[int]:
    return [int(v["version"]) for v in body["versions"] if v["name"] == MODEL]


def mlflow_versions(body: dict[str, Any]) -> list[int]:
    return [int(v["version"]) for v in body.get("model_versions", []) if v["name"] == MODEL]


def queries(runs: int, versions: int, pages: dict[str, str], eid: str) -> list[Query]:
    search_path = "/api/2.0/mlflow/runs/search"
    page_idx = runs // 2
    params, steps = w.query_run(page_idx)
    top = w.expected_top(runs)
    return [
        Query(
            "search",
            Request(
                "GET",
                "/api/v1/runs",
                {"where": w.WHERE, "order_by": "-metrics.m1", "limit": w.LIMIT},
            ),
            Request(
                "POST",
                search_path,
                body={
                    "experiment_ids": [eid],
                    "filter": w.WHERE,
                    "order_by": ["metrics.m1 DESC"],
                    "max_results": w.LIMIT,
                },
            ),
            assay_runs,
            mlflow_runs,
            # The m1 values are fixed by the workload; the idx of each is checked across tools.
            expected=top,
            reference=lambda key: [m1 for _, m1 in key],
        ),
        Query(
            "newest",
            Request("GET", "/api/v1/runs", {"limit": w.LIMIT}),
            Request("POST", search_path, body={"experiment_ids": [eid], "max_results": w.LIMIT}),
            lambda body: [idx for idx, _ in assay_runs(body)],
            lambda body: [idx for idx, _ in mlflow_runs(body)],
            expected=list(range(runs - 1, max(runs - 1 - w.LIMIT, -1), -1)),
        ),
        Query(
            "run page",
            Request("GET", f"/api/v1/runs/{pages['assay']}"),
            Request("GET", "/api/2.0/mlflow/runs/get", {"run_id": pages["mlflow"]}),
            assay_page,
            mlflow_page,
            expected={
                "idx": page_idx,
                "params": {k: str(v) for k, v in params.items()},
                "metrics": steps[-1],
            },
        ),
        Query(
            "model versions",
            Request("GET", "/api/v1/models", {"name": MODEL}),
            Request(
                "GET",
                "/api/2.0/mlflow/model-versions/search",
                # Oldest first, as assay lists them; MLflow's own default is newest first.
                {"filter": f"name='{MODEL}'", "order_by": "version_number ASC"},
            ),
            assay_versions,
            mlflow_versions,
            expected=list(range(1, versions + 1)),
        ),
        # No floor: what any answer costs (HTTP, the framework, the server's loop), for
        # reading the others.
        Query(
            "health",
            Request("GET", "/api/v1/health"),
            Request("GET", "/health"),
            lambda body: body == {"status": "ok"},
            lambda body: body == "OK",
            expected=True,
        ),
    ]


def check(query: Query, tool: str, key: Any) -> None:
    """``key`` against the workload's reference for this query."""
    got = query.reference(key)
    if got != query.expected:
        raise Mismatch(
            f"{query.name}: {tool} answered {str(got)[:300]}, expected {str(query.expected)[:300]}"
        )


def measure(
    query: Query, clients: dict[str, httpx.Client], repeats: int, burst: int
) -> dict[str, dict[str, Any]]:
    """One warm-up each, then ``repeats`` rounds with the tools alternating (so that a drift
    in load touches both), each round ``burst`` requests in a row to one tool; every answer
    checked.

    The first request of a burst follows the other tool's: on this 2-core machine that tool
    has just run on the same cores, so it finds the server's code and data out of the CPU
    caches and its threads asleep (``cold``). The rest (``warm``) are what a server busy
    with its own requests answers in; the median of those is the figure, the cold median is
    reported beside it.
    """
    keys: dict[str, Any] = {}
    sizes: dict[str, int] = {}
    warm: dict[str, list[float]] = {"assay": [], "mlflow": []}
    cold: dict[str, list[float]] = {"assay": [], "mlflow": []}
    for round_ in range(repeats + 1):
        for tool in ("assay", "mlflow") if round_ % 2 == 0 else ("mlflow", "assay"):
            request = query.assay if tool == "assay" else query.mlflow
            for i in range(1 if round_ == 0 else burst):
                seconds, body, sizes[tool] = request.send(clients[tool])
                key = (query.assay_key if tool == "assay" else query.mlflow_key)(body)
                if round_ == 0:
                    check(query, tool, key)
                    keys[tool] = key
                    continue  # the warm-up is not timed
                if key != keys[tool]:
                    raise Mismatch(f"{query.name}: {tool}'s answer changed between repeats")
                (warm if i else cold)[tool].append(seconds)
    if keys["assay"] != keys["mlflow"]:
        raise Mismatch(
            f"{query.name}: the tools differ: assay {str(keys['assay'])[:300]} | "
            f"MLflow {str(keys['mlflow'])[:300]}"
        )
    return {
        tool: {
            "median_s": statistics.median(warm[tool]),
            "all_s": warm[tool],
            "cold_median_s": statistics.median(cold[tool]),
            "cold_s": cold[tool],
            "bytes": sizes[tool],
        }
        for tool in warm
    }


# -- report ------------------------------------------------------------------------------


def src_digest() -> str:
    """A digest of assay's source as it stands now: another engineer may change it while
    this runs, and the figures are for one version of it."""
    digest = hashlib.sha256()
    package = ROOT / "src" / "assay"
    for path in sorted(package.rglob("*.py")):
        with contextlib.suppress(OSError):  # a file removed while we read
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def kib(size: int | None) -> str:
    return "?" if size is None else f"{size / 1024:,.1f} KiB"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def render(data: dict[str, Any]) -> str:
    info, results = data["info"], data["results"]
    m = info["machine"]
    v = info["versions"]
    runs = info["runs"]
    rows = []
    for name, r in results.items():
        floor = "(reference)" if r["floor"] is None else f"≥ {r['floor']:g}"
        met = {None: "—", True: "yes", False: "**no**"}[r["met"]]
        a, f = r["assay"], r["mlflow"]
        cold = (
            f"{ms(a['cold_median_s'])} / {ms(f['cold_median_s'])} "
            f"({f['cold_median_s'] / a['cold_median_s']:,.1f})"
            if "cold_median_s" in a
            else "—"
        )
        rows.append(
            f"| {name} | {ms(a['median_s'])} | {ms(f['median_s'])} | "
            f"{r['ratio']:,.1f} | {floor} | {met} | {cold} |"
        )
    inproc = data.get("inprocess") or {}
    split = []
    for name, r in results.items():
        parts = [inproc.get(k, {}).get(name) for k in ("api", "encode", "asgi")]
        if any(parts):
            cells = " | ".join(ms(x["median_s"]) if x else "—" for x in parts)
            size = kib(parts[1]["bytes"]) if parts[1] else "—"
            split.append(f"| {name} | {cells} | {ms(r['assay']['median_s'])} | {size} |")
    quoted = "; ".join(
        f"{name} {ISSUE_MLFLOW_MS[name]:.0f} ms then, {ms(results[name]['mlflow']['median_s'])}"
        " ms now"
        for name in ISSUE_MLFLOW_MS
        if name in results
    )
    seen = info.get("src_sha256", {})
    digests = ", ".join(f"{when} {d}" for when, d in seen.items()) if seen else "?"
    setup = {(r["tool"], r["task"]): r for r in data["populate"]}
    settled = (
        f"{info['settle_s']:.0f} s after they answered" if "settle_s" in info else "not checked"
    )

    def took(tool: str, task: str) -> str:
        r = setup.get((tool, task))
        return f"{r['seconds']:.0f} s" if r else "?"

    out = [
        BEGIN,
        "## Team server (REST API) vs the MLflow tracking server",
        "",
        f"- date: {info['date']}",
        f"- machine: `nproc` {m['nproc']}, {m['cpu']}, {m['kernel']}; load average at start "
        f"{m['load']}, 1-minute load before/after the timed reads "
        f"{info['load_before']:.2f}/{info['load_after']:.2f} (the harness first waited"
        f" {info['calm_wait_s']:.0f} s for it to drop under {info['max_load']:g}; other work"
        " shares this machine)",
        f"- versions: assay {v['assay']['version']} (commit {m['commit']}, "
        f"{m['src_changes']} uncommitted change(s) under src/ at the start; sha256 of"
        f" src/assay/**/*.py {digests}), MLflow "
        f"{v['mlflow']['version']} (`mlflow server`, latest on PyPI); Python "
        f"{v['assay']['python']} / {v['mlflow']['python']}, SQLite {v['assay']['sqlite']} / "
        f"{v['mlflow']['sqlite']} (assay / MLflow)",
        f"- command: `bash bench/tracking/setup_mlflow.sh && {info['command']}` "
        f"(wall time {info['wall_s'] / 60:.1f} min; raw timings in `bench/team/results.json`)",
        f"- data: the same {runs:,} runs in both stores (`bench/tracking/workload.py`: params p1 in"
        " a/b/c, p2, p3; metrics m1, m2, m3 at steps 0-2, a search seeing the last; each run"
        " tagged `idx` with its index) and one model with"
        f" {info['model_versions']} versions, each registered from a run of its own. assay's"
        f" store written in-process ({took('assay', 'runs_created')} for the runs), MLflow's"
        f" with `MlflowClient.log_batch` into SQLite ({took('mlflow', 'runs_created')}); then"
        " `python -m assay server` (`--auth local`: no credential on 127.0.0.1) and `mlflow"
        " server --backend-store-uri sqlite:///... --workers 1` (one serving process each;"
        " MLflow's telemetry and job runner off, `MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false`:"
        " left on, it starts nine helper processes that take a minute of CPU here after the"
        " server answers), both on 127.0.0.1, side by side.",
        f"- method: timing starts once both servers are idle ({settled}); one keep-alive httpx"
        f" client per server; per read one untimed warm-up, then {info['repeats']} rounds with"
        f" the tools alternating, each round {info.get('burst', 1)} requests in a row to one"
        " tool; the time is the round trip with the body read (decoding it is not timed)."
        " The figure is the median of the requests a server answers right after one of its own"
        " (warm); the first of each round follows the other tool's, which has just run on the"
        " same two cores and pushed the server's code and data out of the CPU caches: its"
        " median is the cold column (assay / MLflow, ratio). Ratio = MLflow ms / assay ms.",
        "",
        "| query | assay ms | MLflow ms | ratio | floor | met? | cold ms (ratio) |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "The requests (answer sizes, assay / MLflow: "
        + ", ".join(
            f"{name} {kib(r['assay'].get('bytes'))} / {kib(r['mlflow'].get('bytes'))}"
            for name, r in results.items()
        )
        + "):",
        "",
        "- **search**: assay `GET /api/v1/runs?where=metrics.m1 > 0.5 and params.p1 = 'a'"
        "&order_by=-metrics.m1&limit=100`; MLflow `POST /api/2.0/mlflow/runs/search`"
        ' `{"experiment_ids": [ID], "filter": "metrics.m1 > 0.5 and params.p1 = \'a\'",'
        ' "order_by": ["metrics.m1 DESC"], "max_results": 100}`.',
        "- **newest**: assay `GET /api/v1/runs?limit=100` (every run in the store, newest"
        " first, with the total count); MLflow `runs/search` with only the experiment and"
        " `max_results` 100 (newest first is its default order).",
        f"- **run page**: the run with idx {runs // 2}: assay `GET /api/v1/runs/ID` (fields,"
        " params, tags, steps, latest metrics; `?full` adds the package list, tracebacks and"
        " every metric value); MLflow `GET /api/2.0/mlflow/runs/get?run_id=ID`.",
        f"- **model versions**: the {info['model_versions']} versions of one model: assay"
        f" `GET /api/v1/models?name={MODEL}` (with aliases and gate results); MLflow `GET"
        f" /api/2.0/mlflow/model-versions/search?filter=name='{MODEL}'&order_by=version_number"
        " ASC` (oldest first, as assay lists them).",
        "- **health** (no floor; what any answer costs here: the socket, uvicorn, the"
        " framework): assay `GET /api/v1/health`, MLflow `GET /health`.",
        "",
        "Checked, for every answer (warm-up and timed): both tools name the same runs (by"
        " `idx`) in the same order; the search's m1 values are the 100 best computed from the"
        " workload, the newest are the last 100 indices in reverse, the run page has the"
        " workload's params and last metric values, the version lists are 1 to"
        f" {info['model_versions']} in order; each repeat equals the warm-up. All passed"
        " (a mismatch stops the harness).",
        "",
    ]
    if len(set(seen.values())) > 1:
        out += [
            "**Warning**: assay's source changed while the harness ran (digests above): the"
            " store was written, or the answers timed, by different versions of it.",
            "",
        ]
    if quoted:
        out += [
            f"MLflow's figures in the issue (`mlflow server` 3.17.2, same workload): {quoted}.",
            "",
        ]
    if split:
        out += [
            "Where assay's time goes (ms, median of 5 after a warm-up; `run_assay.py inprocess`,"
            " same store, after the servers stopped): the route function called in-process;"
            " turning its answer into JSON bytes (`PlainJSONResponse`); the whole request"
            " through the ASGI app in-process as the server stacks it (`httpx.ASGITransport`"
            " in the same event loop: the reads answered before FastAPI (`server/api/fast.py`)"
            " or FastAPI's routing and dependencies, the worker thread, encoding; no socket);"
            " over HTTP to the server (above); the answer's size.",
            "",
            "| query | route function | encode answer | ASGI in-process | HTTP | JSON |",
            "|---|---|---|---|---|---|",
            *split,
            "",
        ]
    missed = [name for name, r in results.items() if r["met"] is False]
    prof = data.get("profile")
    if missed and prof:
        out += [
            f"Floor(s) missed ({', '.join(missed)}); assay's code is left as it is. cProfile"
            " of each route function in-process (5 calls after a warm-up; assay's functions,"
            " SQLite and JSON decoding by cumulative time; the profiler inflates Python against"
            " SQLite, so read shares, not totals):",
            "",
        ]
        for route in data.get("route_profiles", []):
            each = route["seconds"] * 1000 / route["calls"]
            out += [
                f"<details><summary>{route['query']}: {each:.1f} ms a call under the profiler"
                "</summary>",
                "",
                "```text",
                route["cumulative"].strip(),
                "```",
                "",
                "</details>",
                "",
            ]
        raw = prof.get("raw_sql", {})
        if "median_s" in raw:
            out += [
                f"The search's SELECT alone, straight through `sqlite3`: {ms(raw['median_s'])} ms"
                f" ({raw['rows']} rows; `search_runs` in-process"
                f" {prof['seconds'] * 1000 / prof['calls']:.1f} ms a call under the profiler);"
                " plan: " + "; ".join(f"`{p}`" for p in raw["plan"]) + ".",
                "",
            ]
    out.append(END)
    return "\n".join(out)


# -- main --------------------------------------------------------------------------------


def environments(tmp: Path) -> dict[str, dict[str, str]]:
    """Each tool's environment: assay's store, audit key and configuration under ``tmp``."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ASSAY_", "MLFLOW_")) and k not in ("VIRTUAL_ENV", "PYTHONHOME")
    }
    base |= {"PYTHONUNBUFFERED": "1", "TMPDIR": str(tmp)}
    assay = base | {
        "ASSAY_HOME": str(tmp / "assay"),
        "XDG_STATE_HOME": str(tmp / "state"),
        "XDG_CONFIG_HOME": str(tmp / "config"),
    }
    # Telemetry: nothing to send it to; it only adds a thread. Job execution: the server would
    # start a job runner and eight huey consumers (a minute of CPU on this machine at start,
    # then idle); runs and the registry do not use them.
    mlflow = base | {
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    return {"assay": assay, "mlflow": mlflow}


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    started = time.monotonic()
    info: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": w.machine(),
        "command": "python bench/team/harness.py"
        + "".join(f" {shlex.quote(a)}" for a in sys.argv[1:]),
        "runs": args.runs,
        "model_versions": args.versions,
        "repeats": args.repeats,
        "burst": args.burst,
        "max_load": args.max_load,
        "src_sha256": {"start": src_digest()},
    }
    env = environments(tmp)
    if args.reuse:
        # Stores filled by an earlier run (--keep), the same size; their records.
        filled_logs = [tmp / f"populate-{tool}.log" for tool in ("assay", "mlflow")]
        records = [r for log in filled_logs for r in records_of(log)]
        filled = {r["runs"] for r in records if r["task"] == "runs_created"}
        if filled != {args.runs}:
            sys.exit(f"{tmp} holds {filled or 'no'} runs, not {args.runs}: give --runs to match")
    else:
        for folder in ("assay", "mlflow", "state", "config"):
            (tmp / folder).mkdir()
        wait_quiet()
        records = populate(tmp, env, args.runs, args.versions)
    info["versions"] = {r["tool"]: r for r in records if r["task"] == "versions"}
    pages = {r["tool"]: r["run_id"] for r in records if r["task"] == "page_run"}
    eid = next(r["experiment"] for r in records if r["task"] == "page_run" and "experiment" in r)

    ports = {"assay": free_port(), "mlflow": free_port()}
    logs = {tool: tmp / f"server-{tool}.log" for tool in ports}
    argv = server_commands(tmp)
    health = HEALTH
    servers: dict[str, subprocess.Popen[bytes]] = {}
    results: dict[str, Any] = {}
    try:
        for tool, port in ports.items():
            servers[tool] = start(
                [*argv[tool], "--port", str(port)], env[tool], tmp / tool, logs[tool]
            )
        for tool, port in ports.items():
            url = f"http://127.0.0.1:{port}{health[tool]}"
            info[f"{tool}_ready_s"] = wait_ready(url, servers[tool], logs[tool], 120)
        info["settle_s"] = wait_settled([proc.pid for proc in servers.values()])
        wait_quiet()
        info["calm_wait_s"] = wait_calm(args.max_load)
        info["load_before"] = os.getloadavg()[0]
        info["src_sha256"]["timed"] = src_digest()
        clients = {
            tool: httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
            for tool, port in ports.items()
        }
        try:
            for query in queries(args.runs, args.versions, pages, eid):
                wait_quiet()  # between reads too: the other benchmark may start meanwhile
                timing = measure(query, clients, args.repeats, args.burst)
                ratio = timing["mlflow"]["median_s"] / timing["assay"]["median_s"]
                floor = FLOORS.get(query.name)
                met = None if floor is None else ratio >= floor
                results[query.name] = {**timing, "ratio": ratio, "floor": floor, "met": met}
                print(
                    f"   {query.name}: assay {ms(timing['assay']['median_s'])} ms, MLflow "
                    f"{ms(timing['mlflow']['median_s'])} ms, ratio {ratio:.1f} (floor {floor})",
                    flush=True,
                )
        finally:
            for client in clients.values():
                client.close()
        info["load_after"] = os.getloadavg()[0]
    finally:
        for proc in servers.values():
            stop(proc)
        # Kept in results.json: a server's complaints explain an odd figure.
        info["server_logs"] = {tool: tail(log, 2000) for tool, log in logs.items()}

    # The same reads without HTTP, and a profile of the search when a floor is missed.
    missed = any(r["met"] is False for r in results.values())
    log = tmp / "inprocess.log"
    wait_quiet()
    job = [sys.executable, str(HERE / "run_assay.py"), "inprocess", "--page-run", pages["assay"]]
    proc = start([*job, *(["--profile"] if missed else [])], env["assay"], ROOT, log)
    try:
        code = proc.wait(timeout=600)
    finally:
        stop(proc)
    found = {r["task"]: r for r in records_of(log)}
    if code != 0:
        print(f"   in-process timings failed ({code}):\n{tail(log)}", flush=True)
    info["src_sha256"]["end"] = src_digest()
    info["wall_s"] = time.monotonic() - started
    return {
        "info": info,
        "populate": [r for r in records if r["task"] != "versions"],
        "results": results,
        "inprocess": found.get("inprocess"),
        "profile": found.get("profile"),
        "route_profiles": [r for r in records_of(log) if r["task"] == "profile_route"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs in each store")
    parser.add_argument("--versions", type=int, default=20, help="versions of the model")
    parser.add_argument("--repeats", type=int, default=w.REPEATS, help="rounds per tool")
    parser.add_argument(
        "--burst", type=int, default=10, help="requests in a row to one tool in a round (>= 2)"
    )
    parser.add_argument(
        "--max-load",
        type=float,
        default=2.5,
        help="before timing, wait (up to 10 min) for the 1-minute load average to drop under this",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="leave results.json and SECTION.md alone"
    )
    parser.add_argument("--keep", action="store_true", help="keep the stores and logs")
    parser.add_argument(
        "--reuse",
        type=Path,
        help="time the stores a --keep run left in this folder instead of filling new ones",
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: rewrite SECTION.md from results.json",
    )
    args = parser.parse_args()
    # A SIGTERM unwinds like Ctrl-C, so the finally blocks stop the servers and writers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.render_only:
        text = render(json.loads(RESULTS_JSON.read_text()))
        print(text)
        if not args.no_write:
            SECTION_MD.write_text(text + "\n")
        return
    if args.runs < w.LIMIT:
        # Fewer, and assay's unfiltered newest 100 would reach the model's training runs.
        parser.error(f"--runs must be at least {w.LIMIT}")
    if args.burst < 2:
        parser.error("--burst must be at least 2: a round's first request is the cold one")
    if not (MLFLOW_BIN / "mlflow").exists():
        sys.exit(f"{MLFLOW_BIN / 'mlflow'} missing: run bash bench/tracking/setup_mlflow.sh")
    tmp = args.reuse or Path(tempfile.mkdtemp(prefix="bench-team-"))
    try:
        data = run(args, tmp)
    finally:
        if args.keep or args.reuse:
            print(f"stores and logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if not args.no_write:  # before rendering, so that a figure is never lost to a typo there
        RESULTS_JSON.write_text(json.dumps(data, indent=1) + "\n")
    text = render(data)
    print()
    print(text)
    if not args.no_write:
        SECTION_MD.write_text(text + "\n")
        print(f"\nwrote {RESULTS_JSON.relative_to(ROOT)} and {SECTION_MD.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
