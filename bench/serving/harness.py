"""Serving, side by side: assay's model server against ``mlflow models serve``, as ratios.

The same trained sesame model (one run of ``examples/sesame`` into a new store, promoted to
production through the approval flow) is served by

- assay: ``assay serve sesame@production`` (KServe V1 ``POST /v1/models/sesame:predict``,
  defaults: micro-batches of up to 128 rows, 2 ms wait, the prediction log on), and
- MLflow: the store's skops artifact (checked against its digest) saved with
  ``mlflow.sklearn.save_model`` (``export_mlflow.py``, pyfunc predict = ``predict_proba``)
  and served by ``mlflow models serve --env-manager local`` (``POST /invocations``),

one server at a time, never both. Each is driven by ``loadgen.py`` (closed loop, keep-alive,
every answer checked) at concurrency 1 and 16 with 1-row and 32-row requests of Financial
PhraseBank sentences: requests/s, rows/s, p50 and p99 latency. Also: cold start (spawn to the
first 200 from the readiness endpoint), the server's RSS (its whole process tree) after the
load, and the server's CPU time per request.

Rounds alternate the order of the tools (assay then MLflow, then MLflow then assay); each
figure pools the rounds. Raw records go to ``bench/serving/results.json`` and the serving
section of ``bench/RESULTS.md`` is rewritten.

Usage: ``bash bench/serving/setup.sh && python bench/serving/harness.py``.
Smaller trial: ``python bench/serving/harness.py --rounds 1 --duration-s 3 --no-write``;
``--render-only`` rewrites the section from ``results.json`` without measuring.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import http.client
import json
import os
import platform
import random
import shlex
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from loadgen import tree  # the same process-tree walk the load generator uses

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
RESULTS_MD = BENCH / "RESULTS.md"
RAW_JSON = HERE / "results.json"
MLFLOW_BIN = BENCH / ".venvs" / "mlflow" / "bin"
MLFLOW_PYTHON = MLFLOW_BIN / "python"
DATA = ROOT / "examples" / "sesame" / "data" / "financial_phrasebank" / "Sentences_50Agree.txt"
BEGIN, END = "<!-- serving:begin -->", "<!-- serving:end -->"

# Floors (assay against MLflow, at concurrency 16 for throughput and latency).
FLOOR_RPS = 3.0  # requests/s, assay / MLflow, at least
FLOOR_P99 = 0.5  # p99 latency, assay / MLflow, at most
FLOOR_COLD = 0.5  # cold start, assay / MLflow, under
FLOOR_RSS = 0.5  # RSS after the load, assay / MLflow, at most

# MLflow 3.17 on this machine, as the serving issue quotes it.
ISSUE = {
    "c1_rps": 127.0,
    "c1_p99_ms": 15.0,
    "c16_rps": 183.0,
    "c16_p50_ms": 85.0,
    "c16_p99_ms": 228.0,
    "cold_s": 8.7,
    "rss_mib": 630.0,
}

CONFIGS = [(1, 1), (1, 32), (16, 1), (16, 32)]  # (concurrency, rows per request)
NO_LOG_CONFIGS = [(16, 1), (16, 32)]
BODIES_PER_SIZE = 256
PROBE_ROWS = 32
CLASSES = ("negative", "neutral", "positive")
TOOL_NAME = {"assay": "assay", "mlflow": "MLflow", "assay-nolog": "assay --no-log"}


def log(text: str) -> None:
    print(text, flush=True)


def load_text() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# -- processes ------------------------------------------------------------------------------


def tree_memory(pid: int) -> dict[str, Any]:
    """VmRSS and VmHWM (peak) of every process in ``pid``'s tree, and their sums (MiB)."""
    procs = []
    for p in tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
            cmd = Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        fields = dict(
            (line.split(":", 1)[0], line.split(":", 1)[1].strip()) for line in status.splitlines()
        )
        procs.append(
            {
                "pid": p,
                "cmd": cmd[:160],
                "rss_mib": int(fields.get("VmRSS", "0 kB").split()[0]) / 1024,
                "hwm_mib": int(fields.get("VmHWM", "0 kB").split()[0]) / 1024,
            }
        )
    return {
        "rss_mib": sum(p["rss_mib"] for p in procs),
        "hwm_mib": sum(p["hwm_mib"] for p in procs),
        "processes": procs,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_call(
    port: int, method: str, path: str, body: bytes | None = None, timeout: float = 30
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server:
    """One server process (in its own session, so that its whole tree can be stopped)."""

    def __init__(self, tool: str, ctx: dict[str, Any], log_path: Path) -> None:
        self.tool = tool
        self.cwd = ctx["tmp"]
        self.port = free_port()
        self.log_path = log_path
        if tool.startswith("assay"):
            script = Path(sys.executable).parent / "assay"
            argv = [str(script)] if script.exists() else [sys.executable, "-m", "assay"]
            argv += ["serve", "sesame@production", "--port", str(self.port)]
            if tool == "assay-nolog":
                argv.append("--no-log")
            self.ready_path = "/v2/health/ready"
            self.predict_path = "/v1/models/sesame:predict"
            env = dict(ctx["assay_env"])
        else:
            argv = [
                str(MLFLOW_BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                str(ctx["mlflow_model"]),
                "--env-manager",
                "local",
                "-p",
                str(self.port),
                "--host",
                "127.0.0.1",
            ]
            self.ready_path = "/ping"
            self.predict_path = "/invocations"
            env = dict(ctx["mlflow_env"])
        self.argv = argv
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.cold_start_s: float | None = None

    def start(self, timeout: float = 180) -> float:
        """Spawn the server and wait for the first 200 from its readiness endpoint."""
        out = self.log_path.open("ab")
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.tool} server exited with {self.proc.returncode} before it was "
                    f"ready: {self.log_tail()}"
                )
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, _ = http_call(self.port, "GET", self.ready_path, timeout=2)
                if status == 200:
                    break
            if time.perf_counter() - started > timeout:
                self.stop()
                raise RuntimeError(f"{self.tool} server not ready after {timeout:.0f} s")
            time.sleep(0.02)
        self.cold_start_s = time.perf_counter() - started
        return self.cold_start_s

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-1500:]
        return ""

    def stop(self) -> dict[str, Any]:
        """SIGTERM to the server's process group; SIGKILL if it is still there after 60 s."""
        if self.proc is None:
            return {}
        started = time.perf_counter()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        killed = False
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait()
            killed = True
        # Children left in the group (none expected) go too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None
        return {"stop_s": time.perf_counter() - started, "exit_code": code, "killed": killed}

    def body(self, texts: list[str]) -> bytes:
        key = "instances" if self.tool.startswith("assay") else "inputs"
        return json.dumps({key: texts}).encode()


def probabilities(tool: str, payload: dict[str, Any]) -> list[list[float]]:
    preds = payload["predictions"]
    if tool.startswith("assay"):
        return [[p["probabilities"][c] for c in CLASSES] for p in preds]
    return [[float(x) for x in p] for p in preds]


def assay_batch_rows(port: int) -> tuple[float, float]:
    """Sum and count of assay's ``assay_batch_rows`` histogram (per request answered)."""
    status, text = http_call(port, "GET", "/metrics")
    total = count = 0.0
    if status == 200:
        for line in text.decode().splitlines():
            if line.startswith("assay_batch_rows_sum"):
                total += float(line.rsplit(" ", 1)[1])
            elif line.startswith("assay_batch_rows_count"):
                count += float(line.rsplit(" ", 1)[1])
    return total, count


def prediction_rows(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return int(conn.execute("SELECT count(*) FROM predictions").fetchone()[0])


# -- setup ----------------------------------------------------------------------------------


def run(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 600) -> str:
    done = subprocess.run(
        argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} exited with {done.returncode}: {done.stderr.strip()[-2000:]}"
        )
    return done.stdout


def make_store(home: Path) -> dict[str, Any]:
    """A new store with sesame@1 trained and promoted to production through approval."""
    script = Path(sys.executable).parent / "assay"
    assay = [str(script)] if script.exists() else [sys.executable, "-m", "assay"]
    base = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    base.update({"ASSAY_HOME": str(home), "XDG_STATE_HOME": str(home / "state")})
    carol, dave = {**base, "ASSAY_USER": "carol"}, {**base, "ASSAY_USER": "dave"}
    started = time.perf_counter()
    trained = json.loads(
        run([*assay, "run", str(ROOT / "examples" / "sesame"), "--json"], carol, home)
    )
    train_s = time.perf_counter() - started
    run([*assay, "users", "grant", "dave", "approver"], carol, home)
    run([*assay, "models", "request-promotion", "sesame@1"], carol, home)
    run([*assay, "models", "approve", "sesame@1", "--comment", "bench"], dave, home)
    run([*assay, "models", "promote", "sesame@1", "--to", "production"], carol, home)
    models = json.loads(run([*assay, "models", "list", "--json"], base, home))
    record = next(m for m in models if m["name"] == "sesame" and m["version"] == 1)
    assert "production" in record["aliases"], record
    digest = record["digest"]
    artifact = home / ".assay" / "artifacts" / "sha256" / digest[:2] / digest
    if hashlib.sha256(artifact.read_bytes()).hexdigest() != digest:
        raise RuntimeError(f"{artifact} does not hash to {digest}")
    return {
        "env": base,
        "digest": digest,
        "codec": record["codec"],
        "artifact": str(artifact),
        "artifact_bytes": artifact.stat().st_size,
        "macro_f1": (trained.get("metrics") or {}).get("macro_f1"),
        "train_s": train_s,
        "setup_s": time.perf_counter() - started,
    }


def sentences() -> list[str]:
    texts = []
    for line in DATA.read_text(encoding="iso-8859-1").splitlines():
        sentence = line.rsplit("@", 1)[0].strip()
        if sentence:
            texts.append(sentence)
    return texts


def write_bodies(folder: Path, texts: list[str]) -> dict[tuple[str, int], Path]:
    """The request bodies (the same sentences for both tools, in each one's format)."""
    rng = random.Random(20261128)
    paths = {}
    for rows in sorted({r for _, r in CONFIGS}):
        batches = [rng.sample(texts, rows) for _ in range(BODIES_PER_SIZE)]
        for tool, key in (("assay", "instances"), ("mlflow", "inputs")):
            path = folder / f"bodies-{tool}-{rows}.json"
            path.write_text(json.dumps([{key: b} for b in batches]))
            paths[(tool, rows)] = path
    return paths


def versions() -> dict[str, Any]:
    from importlib.metadata import version  # noqa: PLC0415

    def safe(name: str) -> str:
        try:
            return version(name)
        except Exception:
            return "?"

    names = ["assay", "fastapi", "starlette", "uvicorn", "h11", "httptools", "uvloop"]
    names += ["scikit-learn", "skops", "numpy"]
    mine = {n: safe(n) for n in names} | {"python": platform.python_version()}
    code = (
        "import json, platform; from importlib.metadata import version as v\n"
        "names = ['mlflow', 'fastapi', 'starlette', 'uvicorn', 'h11', 'httptools', 'uvloop',"
        " 'scikit-learn', 'skops', 'numpy', 'pandas']\n"
        "out = {}\n"
        "for n in names:\n"
        "    try: out[n] = v(n)\n"
        "    except Exception: out[n] = '?'\n"
        "out['python'] = platform.python_version()\n"
        "print(json.dumps(out))"
    )
    theirs: dict[str, str] = {}
    if MLFLOW_PYTHON.exists():
        with contextlib.suppress(Exception):
            theirs = json.loads(
                subprocess.run(
                    [str(MLFLOW_PYTHON), "-c", code], capture_output=True, text=True, check=True
                ).stdout
            )
    return {"assay": mine, "mlflow": theirs}


def machine() -> dict[str, str]:
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
    digest = hashlib.sha256()
    for path in sorted((ROOT / "src" / "assay").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    mem = ""
    with contextlib.suppress(OSError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / 2**20:.0f} GiB"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "kernel": f"{platform.system()} {platform.release()}",
        "load": load_text(),
        "commit": git("rev-parse", "--short", "HEAD"),
        "src_changes": str(len(changed)),
        "src_sha256": digest.hexdigest()[:12],
    }


# -- measuring ------------------------------------------------------------------------------


def load(
    server: Server,
    rows: int,
    concurrency: int,
    args: argparse.Namespace,
    ctx: dict[str, Any],
    latencies: Path,
) -> dict[str, Any]:
    assert server.proc is not None
    body_tool = "assay" if server.tool.startswith("assay") else "mlflow"
    argv = [
        sys.executable,
        str(HERE / "loadgen.py"),
        "--tool",
        body_tool,
        "--port",
        str(server.port),
        "--path",
        server.predict_path,
        "--bodies",
        str(ctx["bodies"][(body_tool, rows)]),
        "--rows",
        str(rows),
        "--concurrency",
        str(concurrency),
        "--warmup-s",
        str(args.warmup_s),
        "--duration-s",
        str(args.duration_s),
        "--pid",
        str(server.proc.pid),
        "--latencies-out",
        str(latencies),
    ]
    before = os.getloadavg()[0]
    batch0 = assay_batch_rows(server.port) if server.tool.startswith("assay") else None
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=args.warmup_s + args.duration_s + 120,
        check=False,
    )
    record: dict[str, Any] = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
    if not record:
        record = {"task": "load", "error": f"exit {done.returncode}: {done.stderr[-1500:]}"}
    record["load_before"] = before
    record["load_after"] = os.getloadavg()[0]
    if batch0 is not None:
        batch1 = assay_batch_rows(server.port)
        n = batch1[1] - batch0[1]
        record["mean_batch_rows"] = (batch1[0] - batch0[0]) / n if n else None
    record["memory_after"] = tree_memory(server.proc.pid)
    return record


def probe(server: Server, texts: list[str]) -> dict[str, Any]:
    """One untimed-by-the-load request: the first answer after start-up, kept to compare."""
    started = time.perf_counter()
    status, data = http_call(server.port, "POST", server.predict_path, server.body(texts))
    seconds = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"{server.tool} probe answered {status}: {data[:300]!r}")
    return {
        "first_request_s": seconds,
        "probabilities": probabilities(server.tool, json.loads(data)),
    }


def session(
    tool: str,
    configs: list[tuple[int, int]],
    label: str,
    args: argparse.Namespace,
    ctx: dict[str, Any],
) -> dict[str, Any]:
    """Start ``tool``'s server, probe it, run ``configs`` of load, stop it."""
    job: dict[str, Any] = {"tool": tool, "label": label, "load_at_start": load_text()}
    server = Server(tool, ctx, ctx["tmp"] / f"{tool}-{label}.log")
    db = Path(ctx["store"]["env"]["ASSAY_HOME"]) / ".assay" / "assay.db"
    logged_before = prediction_rows(db) if tool.startswith("assay") else None
    log(f"== {TOOL_NAME[tool]} {label} (load average {job['load_at_start']})")
    try:
        job["cold_start_s"] = server.start()
        assert server.proc is not None
        log(f"   ready after {job['cold_start_s']:.2f} s")
        job.update(probe(server, ctx["probe_texts"]))
        job["memory_idle"] = tree_memory(server.proc.pid)
        job["loads"] = []
        answered = 1
        for concurrency, rows in configs:
            lat_file = ctx["tmp"] / f"lat-{tool}-{label}-c{concurrency}-r{rows}.json"
            record = load(server, rows, concurrency, args, ctx, lat_file)
            record["latencies_file"] = str(lat_file)
            job["loads"].append(record)
            answered += record.get("answered_ok", 0)
            if "error" in record or record.get("errors"):
                problem = record.get("error") or record["error_examples"]
                log(f"   c={concurrency} rows={rows}: ERRORS {problem}")
            else:
                log(
                    f"   c={concurrency:>2} rows={rows:>2}: {record['req_per_s']:7.1f} req/s, "
                    f"p50 {record['p50_ms']:6.1f} ms, p99 {record['p99_ms']:6.1f} ms, RSS "
                    f"{record['memory_after']['rss_mib']:.0f} MiB, server CPU "
                    f"{record['server_cpu_s'] / max(record['requests'], 1) * 1000:.2f} ms/req"
                )
        job["answered_ok"] = answered
    except Exception as exc:
        job["error"] = f"{type(exc).__name__}: {exc}"
        log(f"   FAILED {job['error']}")
    finally:
        job["stop"] = server.stop()
    if logged_before is not None and "error" not in job:
        job["prediction_log_rows"] = prediction_rows(db) - logged_before
        log(
            f"   prediction log: {job['prediction_log_rows']} rows for {job['answered_ok']} answers"
        )
    return job


def startup_phases(ctx: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    env = {**ctx["assay_env"]}
    done = subprocess.run(
        [sys.executable, str(HERE / "startup_phases.py"), str(DATA)],
        env=env,
        cwd=ctx["tmp"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    wall = time.perf_counter() - started
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            return {**json.loads(line), "wall_s": wall}
    return {"task": "startup_phases", "error": done.stderr[-1500:]}


# -- figures --------------------------------------------------------------------------------


def pooled(jobs: list[dict[str, Any]], tool: str, concurrency: int, rows: int) -> dict[str, Any]:
    """A configuration's figures over every round: totals over the windows, percentiles over
    every latency recorded."""
    records = [
        r
        for job in jobs
        if job["tool"] == tool
        for r in job.get("loads", [])
        if r.get("concurrency") == concurrency and r.get("rows") == rows and "requests" in r
    ]
    if not records:
        return {}
    lat: list[float] = []
    for r in records:
        path = Path(r.get("latencies_file", ""))
        if path.is_file():
            lat.extend(json.loads(path.read_text()))
    lat.sort()
    requests = sum(r["requests"] for r in records)
    seconds = sum(r["duration_s"] for r in records)
    n = len(lat)

    def pct(q: float) -> float | None:
        import math  # noqa: PLC0415

        return lat[min(n - 1, max(0, math.ceil(q * n) - 1))] if n else None

    batch = [r["mean_batch_rows"] for r in records if r.get("mean_batch_rows")]
    return {
        "rounds": len(records),
        "requests": requests,
        "errors": sum(r["errors"] for r in records),
        "req_per_s": requests / seconds,
        "rows_per_s": requests * rows / seconds,
        "each_req_per_s": [r["req_per_s"] for r in records],
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": lat[-1] if n else None,
        "each_p99_ms": [r["p99_ms"] for r in records],
        "server_cpu_ms_per_req": sum(r["server_cpu_s"] for r in records) / requests * 1000
        if requests
        else None,
        "client_cpu_share": sum(r["client_cpu_s"] for r in records)
        / sum(r["cpu_window_s"] for r in records),
        "mean_batch_rows": statistics.fmean(batch) if batch else None,
        "rss_after_mib": max(r["memory_after"]["rss_mib"] for r in records),
        "load": [r["load_before"] for r in records],
    }


def summarise(jobs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for tool in ("assay", "mlflow", "assay-nolog"):
        tool_jobs = [j for j in jobs if j["tool"] == tool]
        configs = NO_LOG_CONFIGS if tool == "assay-nolog" else CONFIGS
        cold = [j["cold_start_s"] for j in tool_jobs if "cold_start_s" in j]
        full = [j for j in tool_jobs if j.get("loads")]
        # RSS after the load: each server's tree, sampled after its last configuration.
        after = [j["loads"][-1]["memory_after"] for j in full if "memory_after" in j["loads"][-1]]
        heaviest = max(after, key=lambda m: m["rss_mib"]) if after else None
        out[tool] = {
            "configs": {f"c{c}-r{r}": pooled(jobs, tool, c, r) for c, r in configs},
            "cold_start_s": statistics.median(cold) if cold else None,
            "cold_starts_s": cold,
            "first_request_s": [j["first_request_s"] for j in tool_jobs if "first_request_s" in j],
            "rss_after_mib": heaviest["rss_mib"] if heaviest else None,
            "rss_after_each_mib": [m["rss_mib"] for m in after],
            "rss_after_processes": heaviest["processes"] if heaviest else [],
            "hwm_mib": max((m["hwm_mib"] for m in after), default=None),
            "rss_idle_mib": [j["memory_idle"]["rss_mib"] for j in tool_jobs if "memory_idle" in j],
        }
    # Do both servers answer the same? (the probe: 32 sentences, right after start-up)
    probes = {
        tool: next(
            (j["probabilities"] for j in jobs if j["tool"] == tool and "probabilities" in j), None
        )
        for tool in ("assay", "mlflow")
    }
    if probes["assay"] and probes["mlflow"]:
        diff = max(
            abs(a - b)
            for ra, rb in zip(probes["assay"], probes["mlflow"], strict=True)
            for a, b in zip(ra, rb, strict=True)
        )
        same_labels = all(
            max(range(3), key=ra.__getitem__) == max(range(3), key=rb.__getitem__)
            for ra, rb in zip(probes["assay"], probes["mlflow"], strict=True)
        )
        out["agreement"] = {
            "rows": len(probes["assay"]),
            "max_abs_diff": diff,
            "same_labels": same_labels,
        }
    return out


# -- rendering ------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def verdict(value: float | None, floor: float, kind: str) -> str:
    if value is None:
        return "not measured"
    ok = value >= floor if kind == "min" else value <= floor if kind == "max" else value < floor
    return "yes" if ok else "**no**"


def render(data: dict[str, Any]) -> str:
    info, jobs, s = data["info"], data["jobs"], data["summary"]
    m, v = info["machine"], info["versions"]
    a, b, n = s["assay"], s["mlflow"], s.get("assay-nolog", {})
    va, vb = v.get("assay", {}), v.get("mlflow", {})
    loads = [r["load_before"] for j in jobs for r in j.get("loads", []) if "load_before" in r]
    store = info["store"]
    out = [
        BEGIN,
        "## Serving: assay's model server against `mlflow models serve`",
        "",
        f"- date: {info['date']}",
        f"- machine: `nproc` {m['nproc']}, {m['cpu']}, {m['memory']}, {m['kernel']}; load average"
        f" at start {m['load']}; 1-minute load average before each load run: "
        f"{min(loads, default=0):.2f} to {max(loads, default=0):.2f} (2 cores, shared by the"
        " server and the load generator)",
        f"- versions: assay {va.get('assay', '?')} (commit {m['commit']}, {m['src_changes']}"
        f" uncommitted change(s) under src/ at the start; sha256 of src/assay/**/*.py:"
        f" {m['src_sha256']}), MLflow {vb.get('mlflow', '?')}; Python {va.get('python', '?')} /"
        f" {vb.get('python', '?')}, uvicorn {va.get('uvicorn', '?')} / {vb.get('uvicorn', '?')},"
        f" FastAPI {va.get('fastapi', '?')} / {vb.get('fastapi', '?')}, h11 {va.get('h11', '?')}"
        f" / {vb.get('h11', '?')}, httptools {va.get('httptools', '?')} /"
        f" {vb.get('httptools', '?')}, uvloop {va.get('uvloop', '?')} / {vb.get('uvloop', '?')}"
        " (uvicorn uses httptools and uvloop where installed, h11 and asyncio otherwise),"
        " scikit-learn {va.get('scikit-learn', '?')} /"
        f" {vb.get('scikit-learn', '?')}, skops {va.get('skops', '?')} / {vb.get('skops', '?')}"
        " (assay / MLflow)",
        f"- command: `{info['command']}` (harness wall time {info['wall_s'] / 60:.1f} min)",
        "- model: one run of `examples/sesame` into a new store (macro-F1 "
        f"{fmt(store.get('macro_f1'), 4)}), `sesame@1` promoted to production through the"
        " approval flow. assay serves the version as `assay serve` does: from the compiled"
        " serving form that registration stored beside the skops artifact, when the version has"
        " one. The skops artifact"
        f" ({store['artifact_bytes'] / 2**20:.1f} MiB, sha256 {store['digest'][:12]}), checked"
        " against the digest and loaded with skops, is saved for MLflow with"
        " `mlflow.sklearn.save_model` (MLflow's default cloudpickle format,"
        " pyfunc predict function `predict_proba`, so both answer with class probabilities)."
        + (
            f" Both servers gave the same probabilities for {s['agreement']['rows']} sentences"
            f" (largest difference {s['agreement']['max_abs_diff']:.1e}; same labels:"
            f" {'yes' if s['agreement']['same_labels'] else 'NO'})."
            if "agreement" in s
            else ""
        ),
        "- servers: `assay serve sesame@production --port P` (its defaults: micro-batches of up to"
        " 128 rows, 2 ms wait, prediction log on; KServe V1 `POST /v1/models/sesame:predict` with"
        ' `{"instances": [...]}`); `mlflow models serve -m DIR --env-manager local -p P --host'
        " 127.0.0.1` with the venv's bin first on PATH (its default: one uvicorn worker, behind the"
        " `mlflow` CLI process that stays as its parent; access log on; telemetry off with"
        ' `MLFLOW_DISABLE_TELEMETRY`), `POST /invocations` with `{"inputs": [...]}`. One server'
        " at a time, never both.",
        f"- load: `bench/serving/loadgen.py`, one asyncio process on the same 2 cores: N keep-alive"
        f" connections, each sending its next request when the last answer is read (closed loop, at"
        f" most N in flight); {info['warmup_s']:g} s of warm-up, then {info['duration_s']:g} s"
        " measured; a request counts when its answer (status 200, JSON, one prediction of 3"
        " probabilities per row, all checked) arrives in the window; latency from the first byte"
        f" written to the last byte read. {BODIES_PER_SIZE} different bodies per row count, made of"
        " Financial PhraseBank sentences (`Sentences_50Agree.txt`), the same for both tools."
        f" {info['rounds']} rounds, the tools' order alternating (assay then MLflow, then MLflow"
        " then assay), each round a fresh server; req/s is over all rounds' windows, p50 and p99"
        " over all their latencies (nearest rank).",
        "- cold start: wall time from spawning the server's command to the first 200 from its"
        " readiness endpoint (assay `GET /v2/health/ready`, MLflow `GET /ping`), polled every"
        f" 20 ms; median of {len(a.get('cold_starts_s', []))} starts each (every round's server and"
        " extra starts), files in the page cache. RSS: VmRSS summed over the server's process tree"
        " (MLflow: the `mlflow` CLI process and its uvicorn child), sampled right after each"
        " server's last load run; the larger of the rounds.",
        "- raw records: `bench/serving/results.json`",
        "",
    ]
    errors = [
        f"{TOOL_NAME[j['tool']]} {j['label']}: {j['error']}" for j in jobs if j.get("error")
    ] + [
        f"{TOOL_NAME[j['tool']]} {j['label']} c={r.get('concurrency')} rows={r.get('rows')}: "
        f"{r.get('error') or r.get('errors')} failed request(s) {r.get('error_examples', '')}"
        for j in jobs
        for r in j.get("loads", [])
        if r.get("error") or r.get("errors")
    ]
    if errors:
        out += ["**Failures** (figures below leave them out):", ""]
        out += [f"- {e}" for e in errors]
        out.append("")

    # -- table ---------------------------------------------------------------------------
    out += [
        "### Throughput and latency",
        "",
        "| concurrency | rows / request | server | req/s | rows/s | p50 ms | p99 ms | max ms |"
        " server CPU ms / request | mean batch rows | requests (failed) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c, r in CONFIGS:
        for tool, summary in (("assay", a), ("mlflow", b), ("assay-nolog", n)):
            fig = summary.get("configs", {}).get(f"c{c}-r{r}")
            if fig is None:
                continue
            if not fig:
                out.append(f"| {c} | {r} | {TOOL_NAME[tool]} | failed | | | | | | | |")
                continue
            each = fig["each_req_per_s"]
            spread = f" ({', '.join(f'{x:,.0f}' for x in each)})" if len(each) > 1 else ""
            name = TOOL_NAME[tool] + (" (info)" if tool == "assay-nolog" else "")
            out.append(
                f"| {c} | {r} | {name} | {fig['req_per_s']:,.1f}{spread} | {fig['rows_per_s']:,.0f}"
                f" | {fmt(fig['p50_ms'])} | {fmt(fig['p99_ms'])} | {fmt(fig['max_ms'])} |"
                f" {fmt(fig['server_cpu_ms_per_req'], 2)} | {fmt(fig['mean_batch_rows'])} |"
                f" {fig['requests']:,} ({fig['errors']}) |"
            )
    out += [
        "",
        "req/s in brackets: each round. server CPU: user + system time of the server's process"
        " tree over the measured windows, per request answered in them. mean batch rows (assay"
        " only, from its `/metrics`): rows in the model call a request was part of, averaged over"
        " requests (warm-up included).",
        "",
    ]

    # -- ratios and floors -------------------------------------------------------------------
    def conf(summary: dict[str, Any], c: int, r: int) -> dict[str, Any]:
        return summary.get("configs", {}).get(f"c{c}-r{r}") or {}

    rows_out = []
    floors: dict[str, bool | None] = {}
    for c, r in ((16, 1), (16, 32)):
        fa, fb = conf(a, c, r), conf(b, c, r)
        rr = ratio(fa.get("req_per_s"), fb.get("req_per_s"))
        pr = ratio(fa.get("p99_ms"), fb.get("p99_ms"))
        floors[f"req/s c={c} rows={r}"] = None if rr is None else rr >= FLOOR_RPS
        floors[f"p99 c={c} rows={r}"] = None if pr is None else pr <= FLOOR_P99
        rows_out.append(
            f"| concurrency {c}, {r} row{'s' if r > 1 else ''}: req/s | {fmt(fa.get('req_per_s'))}"
            f" | {fmt(fb.get('req_per_s'))} | {fmt(rr, 2)} | ≥ {FLOOR_RPS:g} |"
            f" {verdict(rr, FLOOR_RPS, 'min')} |"
        )
        rows_out.append(
            f"| concurrency {c}, {r} row{'s' if r > 1 else ''}: p99 ms | {fmt(fa.get('p99_ms'))}"
            f" | {fmt(fb.get('p99_ms'))} | {fmt(pr, 2)} | ≤ {FLOOR_P99:g} |"
            f" {verdict(pr, FLOOR_P99, 'max')} |"
        )
    cr = ratio(a.get("cold_start_s"), b.get("cold_start_s"))
    mr = ratio(a.get("rss_after_mib"), b.get("rss_after_mib"))
    floors["cold start"] = None if cr is None else cr < FLOOR_COLD
    floors["RSS"] = None if mr is None else mr <= FLOOR_RSS
    rows_out.append(
        f"| cold start s (median) | {fmt(a.get('cold_start_s'), 2)} |"
        f" {fmt(b.get('cold_start_s'), 2)} | {fmt(cr, 2)} | < {FLOOR_COLD:g} |"
        f" {verdict(cr, FLOOR_COLD, 'under')} |"
    )
    rows_out.append(
        f"| RSS after the load, MiB | {fmt(a.get('rss_after_mib'), 0)} |"
        f" {fmt(b.get('rss_after_mib'), 0)} | {fmt(mr, 2)} | ≤ {FLOOR_RSS:g} |"
        f" {verdict(mr, FLOOR_RSS, 'max')} |"
    )
    for c, r in ((1, 1), (1, 32)):
        fa, fb = conf(a, c, r), conf(b, c, r)
        label = f"concurrency {c}, {r} row{'s' if r > 1 else ''}"
        rows_out.append(
            f"| {label}: req/s | {fmt(fa.get('req_per_s'))} | {fmt(fb.get('req_per_s'))} |"
            f" {fmt(ratio(fa.get('req_per_s'), fb.get('req_per_s')), 2)} | (info) | — |"
        )
        rows_out.append(
            f"| {label}: p99 ms | {fmt(fa.get('p99_ms'))} | {fmt(fb.get('p99_ms'))} |"
            f" {fmt(ratio(fa.get('p99_ms'), fb.get('p99_ms')), 2)} | (info) | — |"
        )
    missed = [k for k, ok in floors.items() if ok is False]
    out += [
        "### Ratios and floors (the serving issue)",
        "",
        "| figure | assay | MLflow | assay / MLflow | floor | met |",
        "|---|---|---|---|---|---|",
        *rows_out,
        "",
        (
            "**Floors not met: " + ", ".join(missed) + ".** The measurement was not changed to"
            " pass; what dominates assay's time and memory is below."
            if missed
            else "Every floor met."
        ),
        "",
        "The issue states the throughput and latency floors at concurrency 16 without a row"
        " count; both row counts are checked here.",
        "",
    ]

    # -- cold start and memory ---------------------------------------------------------------
    def program(cmd: str) -> str:
        words = cmd.split(" ")
        if Path(words[0]).name.startswith("python") and len(words) > 1:
            words = words[1:]
        return " ".join([Path(words[0]).name, *words[1:3]])

    def procs(summary: dict[str, Any]) -> str:
        return "; ".join(
            f"`{program(p['cmd'])}` {p['rss_mib']:.0f} MiB"
            for p in summary.get("rss_after_processes", [])
        )

    out += [
        "### Cold start and memory",
        "",
        "| | assay | MLflow | assay --no-log (info) |",
        "|---|---|---|---|",
        "| cold start, each start (s) | "
        + " | ".join(
            ", ".join(f"{x:.2f}" for x in t.get("cold_starts_s", [])) or "—" for t in (a, b, n)
        )
        + " |",
        "| first request after ready, 32 rows (ms) | "
        + " | ".join(
            ", ".join(f"{x * 1000:.0f}" for x in t.get("first_request_s", [])) or "—"
            for t in (a, b, n)
        )
        + " |",
        "| RSS idle after the first request (MiB) | "
        + " | ".join(
            ", ".join(f"{x:.0f}" for x in t.get("rss_idle_mib", [])) or "—" for t in (a, b, n)
        )
        + " |",
        "| RSS after the load, each round (MiB) | "
        + " | ".join(
            ", ".join(f"{x:.0f}" for x in t.get("rss_after_each_mib", [])) or "—" for t in (a, b, n)
        )
        + " |",
        "| peak RSS (VmHWM, summed over the tree, MiB) | "
        + " | ".join(fmt(t.get("hwm_mib"), 0) for t in (a, b, n))
        + " |",
        "| processes (RSS after the load) | "
        + " | ".join(procs(t) or "—" for t in (a, b, n))
        + " |",
        "",
    ]
    logged = [j for j in jobs if j["tool"].startswith("assay") and "prediction_log_rows" in j]
    if logged:
        out += [
            "Prediction log (assay's default, on in every assay row but `--no-log`): "
            + "; ".join(
                f"{TOOL_NAME[j['tool']]} {j['label']}: {j['prediction_log_rows']:,} row(s)"
                f" written for {j['answered_ok']:,} answered request(s)"
                for j in logged
            )
            + " (counted in the store after each server stopped; the log is drained on stop).",
            "",
        ]

    # -- where assay's time goes ---------------------------------------------------------------
    ph = data.get("startup_phases") or {}
    state = f"floors missed: {', '.join(missed)}" if missed else "every floor met; for reference"
    out += [f"### Where assay's time and memory go ({state})", ""]
    if ph.get("phases"):
        out += [
            "**Start-up**, replayed phase by phase in one fresh process"
            " (`bench/serving/startup_phases.py`: the imports and calls `assay serve` makes"
            f" before it binds its port; {ph['in_script_s']:.2f} s in these phases, and about"
            f" {ph['wall_s'] - ph.get('script_s', ph['in_script_s']):.2f} s more for the"
            " interpreter to start and exit; the server's own socket and lifespan start-up are"
            " not replayed):",
            "",
            "| phase | seconds | RSS after (MiB) |",
            "|---|---|---|",
        ]
        for p in ph["phases"]:
            note = (
                " (already imported by the phase above)"
                if p.get("seconds") is not None and p["seconds"] < 0.01 and "import" in p["phase"]
                else ""
            )
            out.append(f"| {p['phase']}{note} | {fmt(p.get('seconds'), 3)} | {p['rss_mib']:.0f} |")
        heavy = ph.get("heavy_modules_at_start", [])
        out += [
            "",
            f"Served form: **{ph.get('form', '?')}**; modules of scikit-learn, SciPy, pandas or"
            f" skops imported by then: {', '.join(heavy) if heavy else 'none'}. For reference,"
            " the scikit-learn path that assay takes for a model with no compiled form, in the"
            " same process afterwards:",
            "",
            "| phase (not part of start-up) | seconds | RSS after (MiB) |",
            "|---|---|---|",
        ]
        for p in ph.get("sklearn_path", []):
            out.append(f"| {p['phase']} | {fmt(p.get('seconds'), 3)} | {p['rss_mib']:.0f} |")
        out += [
            "",
            f"The same fitted pipeline through `pickle`, MLflow's format, loads in"
            f" {ph['pickle_loads_s'] * 1000:.0f} ms ({ph['pickle_bytes'] / 2**20:.1f} MiB); assay"
            " does not unpickle anything it serves.",
            "",
        ]
        scoring = ph.get("scoring_cpu_median_s", {})
        predict = scoring.get("compiled", {}) if ph.get("form") == "compiled" else {}
        predict = predict or scoring.get("scikit-learn", {})
        if scoring:
            cells = [
                f"{label} {v.get('1', 0) * 1000:.2f} ms for 1 row, {v.get('32', 0) * 1000:.2f} ms"
                " for 32 rows"
                for label, v in scoring.items()
            ]
            out += [
                "**Scoring**: one `predict_proba` call in-process, median CPU time: "
                + "; ".join(cells)
                + ". Against the server CPU per request above:",
                "",
            ]
            for c, r in ((16, 1), (16, 32)):
                fa, fb = conf(a, c, r), conf(b, c, r)
                if not fa or not fb:
                    continue
                batch = fa.get("mean_batch_rows") or r
                # A request's share of one model call on its batch, the call's time
                # on the line through the 1-row and 32-row medians (extended past 32 rows).
                t1, t32 = predict.get("1", 0.0), predict.get("32", 0.0)
                call = t1 + (batch - 1) * (t32 - t1) / 31
                model_ms = call * r / max(batch, 1) * 1000
                cpu_ms = fa["server_cpu_ms_per_req"] or 0.0
                share = f" ({model_ms / cpu_ms * 100:.0f}%)" if cpu_ms else ""
                out.append(
                    f"- concurrency {c}, {r} row{'s' if r > 1 else ''}: assay"
                    f" {fmt(fa['server_cpu_ms_per_req'], 2)} ms of server CPU a request, in batches"
                    f" of {fmt(batch)} rows on average; the model's share of its batch's call is"
                    f" about {model_ms:.2f} ms of that{share}. MLflow"
                    f" {fmt(fb['server_cpu_ms_per_req'], 2)} ms (one model call per request)."
                    f" Load generator: {fa['client_cpu_share'] * 100:.0f}% /"
                    f" {fb['client_cpu_share'] * 100:.0f}% of a core (assay / MLflow runs)."
                )
            for c, r in NO_LOG_CONFIGS:
                on, off = conf(a, c, r), conf(n, c, r)
                if on.get("server_cpu_ms_per_req") and off.get("server_cpu_ms_per_req"):
                    out.append(
                        f"- the prediction log, concurrency {c}, {r} row{'s' if r > 1 else ''}:"
                        f" {on['server_cpu_ms_per_req']:.2f} ms of server CPU a request with it,"
                        f" {off['server_cpu_ms_per_req']:.2f} ms with `--no-log`, so about"
                        f" {on['server_cpu_ms_per_req'] - off['server_cpu_ms_per_req']:.2f} ms a"
                        f" request goes to writing it (the writer thread shares the GIL with the"
                        f" event loop and the model); {on['req_per_s']:,.1f} against"
                        f" {off['req_per_s']:,.1f} req/s."
                    )
            most = max(r for _, r in CONFIGS)
            big = conf(a, 16, most)
            out += [
                "",
                f"With {most}-row requests at concurrency 16, assay's batches held"
                f" {fmt(big.get('mean_batch_rows'))} rows on average (`--max-batch` 128 by"
                " default merges a few requests; a request is never split). Most of its lead"
                " there comes from scoring the compiled form (n-grams as integers, looked up for"
                " the whole batch in NumPy) where MLflow runs scikit-learn's analyzers (a Python"
                " string and dict lookup per n-gram). With 1-row requests assay merges the 16"
                " requests in flight into one call.",
            ]
            fa, fb = conf(a, 1, 1), conf(b, 1, 1)
            if fa.get("p50_ms") and fb.get("p50_ms"):
                out += [
                    "",
                    f"At concurrency 1 (no floor) assay answers {fa['req_per_s']:,.1f} req/s"
                    f" against MLflow's {fb['req_per_s']:,.1f} with 1 row (p50"
                    f" {fa['p50_ms']:.1f} against {fb['p50_ms']:.1f} ms; server CPU"
                    f" {fa['server_cpu_ms_per_req']:.2f} against"
                    f" {fb['server_cpu_ms_per_req']:.2f} ms a request). A lone request still"
                    " waits out `--max-wait-ms` (2 ms by default) for a batch that never fills,"
                    " is scored on the executor thread, and is written to the prediction log.",
                ]
            out.append("")

    # -- issue figures -----------------------------------------------------------------------
    f1, f16, f16r32 = conf(b, 1, 1), conf(b, 16, 1), conf(b, 16, 32)
    out += [
        "### Against the MLflow figures quoted in the issue (same machine, earlier)",
        "",
        f"- concurrency 1: {ISSUE['c1_rps']:g} req/s (p99 {ISSUE['c1_p99_ms']:g} ms) in the issue;"
        f" now {fmt(f1.get('req_per_s'))} req/s (p99 {fmt(f1.get('p99_ms'))} ms) with 1 row.",
        f"- concurrency 16: {ISSUE['c16_rps']:g} req/s (p50 {ISSUE['c16_p50_ms']:g} ms, p99"
        f" {ISSUE['c16_p99_ms']:g} ms) in the issue; now {fmt(f16.get('req_per_s'))} req/s (p50"
        f" {fmt(f16.get('p50_ms'))} ms, p99 {fmt(f16.get('p99_ms'))} ms) with 1 row.",
        f"- cold start {ISSUE['cold_s']:g} s in the issue, now {fmt(b.get('cold_start_s'), 2)} s;"
        f" RSS about {ISSUE['rss_mib']:g} MiB in the issue, now {fmt(b.get('rss_after_mib'), 0)}"
        " MiB (the tree, after the load).",
        '- "32-row requests cost as much as 1-row ones": at concurrency 16, MLflow answered'
        f" {fmt(f16r32.get('req_per_s'))} req/s with 32 rows against {fmt(f16.get('req_per_s'))}"
        " with 1 row here"
        + (
            " — not so on this run: with this model a 32-row call costs several times a 1-row one."
            if f16r32.get("req_per_s")
            and f16.get("req_per_s")
            and f16r32["req_per_s"] < 0.7 * f16["req_per_s"]
            else "."
        ),
        "",
        END,
    ]
    return "\n".join(out)


def write_section(text: str) -> None:
    current = RESULTS_MD.read_text() if RESULTS_MD.exists() else "# Benchmark results\n"
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        updated = head + text + tail
    else:
        updated = current.rstrip("\n") + "\n\n" + text + "\n"
    RESULTS_MD.write_text(updated)


# -- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration-s", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup-s", type=float, default=2.0, help="unrecorded seconds before")
    parser.add_argument("--rounds", type=int, default=2, help="load rounds per tool")
    parser.add_argument(
        "--extra-cold-starts", type=int, default=1, help="starts per tool beyond the rounds'"
    )
    parser.add_argument("--no-write", action="store_true", help="leave RESULTS.md alone")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: rewrite the section from bench/serving/results.json",
    )
    args = parser.parse_args()
    if args.render_only:
        saved = json.loads(RAW_JSON.read_text())
        text = render(saved)
        print(text)
        if not args.no_write:
            write_section(text)
        return
    if not (MLFLOW_BIN / "mlflow").exists():
        sys.exit(f"{MLFLOW_BIN / 'mlflow'} missing; run bash bench/serving/setup.sh")
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    info: dict[str, Any] = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": versions(),
        "command": "bash bench/serving/setup.sh && python bench/serving/harness.py"
        + "".join(f" {shlex.quote(a)}" for a in sys.argv[1:]),
        "duration_s": args.duration_s,
        "warmup_s": args.warmup_s,
        "rounds": args.rounds,
    }
    log(f"== load average at start {info['machine']['load']}")
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp_name:
        tmp = Path(tmp_name)
        home = tmp / "store"
        home.mkdir()
        log("== training sesame and promoting it to production (untimed setup)")
        store = make_store(home)
        log(f"   {store['setup_s']:.1f} s; model sha256 {store['digest'][:12]}")
        model_dir = tmp / "mlflow-model"
        exported = json.loads(
            run(
                [
                    str(MLFLOW_PYTHON),
                    str(HERE / "export_mlflow.py"),
                    "--artifact",
                    store["artifact"],
                    "--digest",
                    store["digest"],
                    "--out",
                    str(model_dir),
                ],
                {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"},
                tmp,
            )
            .strip()
            .splitlines()[-1]
        )
        log(f"   exported for MLflow in {exported['seconds']:.1f} s")
        info["store"] = {k: v for k, v in store.items() if k != "env"}
        info["export"] = exported
        texts = sentences()
        assay_env = dict(store["env"])
        mlflow_env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
        mlflow_env.update(
            {
                "PATH": f"{MLFLOW_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                "MLFLOW_DISABLE_TELEMETRY": "true",
            }
        )
        ctx: dict[str, Any] = {
            "tmp": tmp,
            "store": store,
            "mlflow_model": model_dir,
            "assay_env": assay_env,
            "mlflow_env": mlflow_env,
            "bodies": write_bodies(tmp, texts),
            "probe_texts": random.Random(7).sample(texts, PROBE_ROWS),
        }
        jobs: list[dict[str, Any]] = []
        for i in range(args.extra_cold_starts):
            for tool in ("assay", "mlflow"):
                jobs.append(session(tool, [], f"cold start {i + 1}", args, ctx))
        for round_no in range(args.rounds):
            order = ("assay", "mlflow", "assay-nolog")
            for tool in order if round_no % 2 == 0 else order[::-1]:
                configs = NO_LOG_CONFIGS if tool == "assay-nolog" else CONFIGS
                jobs.append(session(tool, configs, f"round {round_no + 1}", args, ctx))
        log("== assay start-up, phase by phase")
        phases = startup_phases(ctx)
        info["wall_s"] = time.perf_counter() - clock
        data = {"info": info, "jobs": jobs, "startup_phases": phases}
        data["summary"] = summarise(jobs)
        # The latencies live in the temporary folder: keep only the pooled figures.
        for job in jobs:
            for record in job.get("loads", []):
                record.pop("latencies_file", None)
    text = render(data)
    print()
    print(text)
    if not args.no_write:
        RAW_JSON.write_text(json.dumps(data, indent=1) + "\n")
        write_section(text)
        log(f"\nwrote {RESULTS_MD.relative_to(ROOT)} and {RAW_JSON.relative_to(ROOT)}")
    if any(j.get("error") for j in jobs):
        sys.exit(1)


if __name__ == "__main__":
    main()
