"""Serving, side by side: assay's model server against ``mlflow models serve`` and MLServer.

The same trained sesame model (one run of ``examples/sesame`` into a new store, promoted to
production through the approval flow) is served by

- assay: ``assay serve sesame@production`` (defaults: micro-batches of up to 128 rows, 2 ms
  wait, the prediction log on), asked through KServe V1 (``POST /v1/models/sesame:predict``)
  beside MLflow and through the Open Inference Protocol V2
  (``POST /v2/models/sesame/infer``) beside MLServer;
- MLflow: the store's skops artifact (checked against its digest) saved with
  ``mlflow.sklearn.save_model`` (``export_mlflow.py``, pyfunc predict = ``predict_proba``)
  and served by ``mlflow models serve --env-manager local`` (``POST /invocations``);
- MLServer: the same artifact saved with joblib for MLServer's scikit-learn runtime
  (``export_mlserver.py``: ``model-settings.json`` with ``mlserver_sklearn.SKLearnModel``
  and ``predict_fn`` ``predict_proba``) and served by ``mlserver start`` with its defaults
  (the V2 server KServe runs for scikit-learn models), asked with the very same V2 bodies
  as assay;

one server at a time, never two. Each is driven by ``loadgen.py`` (closed loop, keep-alive,
every answer checked) at concurrency 1 and 16 with 1-row and 32-row requests of Financial
PhraseBank sentences: requests/s, rows/s, p50 and p99 latency. Also: cold start (spawn to the
first 200 from the readiness endpoint), the server's RSS (its whole process tree) after the
load, and the server's CPU time per request.

Rounds alternate the order of the servers; each figure pools the rounds. Raw records go to
``bench/serving/results.json`` and the serving section of ``bench/RESULTS.md`` is rewritten.

``--tabular`` adds a plain scikit-learn LogisticRegression on a few numeric columns (trained
here on synthetic data and registered with ``assay.register_model`` in a pipeline run),
served by assay and MLServer over V2 with one FP64 tensor [N, C]. It is off by default (it
came before assay served tabular models); when assay cannot serve the model, the mode
measures nothing and says so.

``--assay-commit REV`` serves assay as committed at REV (``git archive`` into the temporary
folder, first on the ``PYTHONPATH`` of every assay process) instead of the working tree, so
that unfinished edits elsewhere in the tree neither break nor colour the run.

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
import io
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
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

# The same process-tree walk and /proc/stat reading the load generator uses.
from loadgen import machine_cpu_s, tree

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
RESULTS_MD = BENCH / "RESULTS.md"
RAW_JSON = HERE / "results.json"
MLFLOW_BIN = BENCH / ".venvs" / "mlflow" / "bin"
MLFLOW_PYTHON = MLFLOW_BIN / "python"
MLSERVER_BIN = BENCH / ".venvs" / "mlserver" / "bin"
MLSERVER_PYTHON = MLSERVER_BIN / "python"
DATA = ROOT / "examples" / "sesame" / "data" / "financial_phrasebank" / "Sentences_50Agree.txt"
BEGIN, END = "<!-- serving:begin -->", "<!-- serving:end -->"

# Floors (assay against MLflow, at concurrency 16 for throughput and latency).
FLOOR_RPS = 3.0  # requests/s, assay / MLflow, at least
FLOOR_P99 = 0.5  # p99 latency, assay / MLflow, at most
FLOOR_COLD = 0.5  # cold start, assay / MLflow, under
FLOOR_RSS = 0.5  # RSS after the load, assay / MLflow, at most
# Floors against MLServer (both asked over V2), at concurrency 16, 1 and 32 rows.
FLOOR_RPS_MLSERVER = 5.0  # requests/s, assay / MLServer, at least
FLOOR_P99_MLSERVER = 0.5  # p99 latency, assay / MLServer, at most
FLOOR_RPS_TABULAR = 3.0  # requests/s on the tabular model, assay / MLServer, at least

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
TABULAR_CONFIGS = [(1, 1), (16, 1), (16, 32)]
BODIES_PER_SIZE = 256
PROBE_ROWS = 32
# The machine is shared: a load run during which other processes took more than this share
# of a core is discarded and run again (at most RERUNS times), after waiting for quiet.
OTHER_CPU_LIMIT = 0.25
QUIET_BUSY = 0.3  # "quiet": the whole machine busy under this share of a core, over 2 s
RERUNS = 2

# The servers measured: the name in the tables, the protocol asked, the body format (also
# the load generator's check: "assay" KServe V1, "mlflow" invocations, "v2" Open Inference
# Protocol V2) and the model served.
TOOL_NAME = {
    "assay": "assay",
    "mlflow": "MLflow",
    "assay-nolog": "assay --no-log",
    "assay-v2": "assay (V2)",
    "mlserver": "MLServer",
    "assay-tabular": "assay (tabular)",
    "mlserver-tabular": "MLServer (tabular)",
}
PROTOCOL = {
    "assay": "V1",
    "mlflow": "invocations",
    "assay-nolog": "V1",
    "assay-v2": "V2",
    "mlserver": "V2",
    "assay-tabular": "V2",
    "mlserver-tabular": "V2",
}
BODY = {
    "assay": "assay",
    "mlflow": "mlflow",
    "assay-nolog": "assay",
    "assay-v2": "v2",
    "mlserver": "v2",
    "assay-tabular": "v2",
    "mlserver-tabular": "v2",
}
SESAME, TABULAR = "sesame", "tabular"
MODEL = {tool: TABULAR if tool.endswith("-tabular") else SESAME for tool in TOOL_NAME}
TOOL_CONFIGS = dict.fromkeys(TOOL_NAME, CONFIGS) | {
    "assay-nolog": NO_LOG_CONFIGS,
    "assay-tabular": TABULAR_CONFIGS,
    "mlserver-tabular": TABULAR_CONFIGS,
}
ROUND_ORDER = ("assay", "mlflow", "assay-v2", "mlserver", "assay-nolog")

# The tabular model: columns of the synthetic data, and the V2 tensor both servers are sent
# (KServe's own scikit-learn examples name it "input-0").
TABULAR_COLUMNS = 4
TABULAR_CLASSES = ("low", "middle", "high")
TABULAR_INPUT = "input-0"


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


def free_ports(n: int) -> list[int]:
    """``n`` different free ports on 127.0.0.1 (all held open while they are picked)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(n)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


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
        self.model = MODEL[tool]
        self.format = BODY[tool]
        self.cwd = ctx["tmp"]
        self.port, grpc_port, metrics_port = free_ports(3)
        self.log_path = log_path
        if tool.startswith("assay"):
            script = Path(sys.executable).parent / "assay"
            argv = [str(script)] if script.exists() else [sys.executable, "-m", "assay"]
            argv += ["serve", ctx["refs"][self.model], "--port", str(self.port)]
            if tool == "assay-nolog":
                argv.append("--no-log")
            self.ready_path = "/v2/health/ready"
            env = dict(ctx["assay_env"])
        elif tool.startswith("mlserver"):
            # The model repository holds one folder, named as the model, as KServe mounts it.
            argv = [str(MLSERVER_BIN / "mlserver"), "start", str(ctx["mlserver_repo"][self.model])]
            self.ready_path = f"/v2/models/{self.model}/ready"
            env = dict(ctx["mlserver_env"])
            env.update(
                {
                    "MLSERVER_HOST": "127.0.0.1",
                    "MLSERVER_HTTP_PORT": str(self.port),
                    "MLSERVER_GRPC_PORT": str(grpc_port),
                    "MLSERVER_METRICS_PORT": str(metrics_port),
                }
            )
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
            env = dict(ctx["mlflow_env"])
        self.predict_path = {
            "assay": f"/v1/models/{self.model}:predict",
            "mlflow": "/invocations",
            "v2": f"/v2/models/{self.model}/infer",
        }[self.format]
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

    def body(self, batch: list[Any]) -> bytes:
        return json.dumps(request_body(self.format, batch)).encode()


def request_body(fmt: str, batch: list[Any]) -> dict[str, Any]:
    """One request in format ``fmt`` for ``batch``: texts, or rows of numbers (V2 only)."""
    if fmt == "assay":
        return {"instances": batch}
    if fmt == "mlflow":
        return {"inputs": batch}
    if all(isinstance(x, str) for x in batch):
        tensor = {"name": "text", "shape": [len(batch)], "datatype": "BYTES", "data": batch}
    else:
        tensor = {
            "name": TABULAR_INPUT,
            "shape": [len(batch), len(batch[0])],
            "datatype": "FP64",
            "data": [x for row in batch for x in row],
        }
    return {"inputs": [tensor]}


def probabilities(server: Server, payload: dict[str, Any], classes: list[str]) -> list[list[float]]:
    """One row of class probabilities per input, columns in the order of ``classes``."""
    if server.format == "assay":
        return [[p["probabilities"][c] for c in classes] for p in payload["predictions"]]
    if server.format == "mlflow":
        return [[float(x) for x in p] for p in payload["predictions"]]
    outputs = {o["name"]: o for o in payload["outputs"]}
    if "probabilities" in outputs:  # assay: columns in the order of parameters.classes
        tensor, order = outputs["probabilities"], list(payload["parameters"]["classes"])
    else:  # MLServer: predict_proba, columns in the order of the model's classes_
        tensor, order = outputs["predict_proba"], classes
    n, k = tensor["shape"]
    flat = tensor["data"]
    rows = [flat[i * k : (i + 1) * k] for i in range(n)]
    return [[float(row[order.index(c)]) for c in classes] for row in rows]


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


def assay_argv() -> list[str]:
    script = Path(sys.executable).parent / "assay"
    return [str(script)] if script.exists() else [sys.executable, "-m", "assay"]


def checked_artifact(home: Path, digest: str) -> Path:
    artifact = home / ".assay" / "artifacts" / "sha256" / digest[:2] / digest
    if hashlib.sha256(artifact.read_bytes()).hexdigest() != digest:
        raise RuntimeError(f"{artifact} does not hash to {digest}")
    return artifact


def make_store(home: Path, source: Path | None) -> dict[str, Any]:
    """A new store with sesame@1 trained and promoted to production through approval;
    ``source``: the ``src`` folder assay is imported from (None: the installed one)."""
    assay = assay_argv()
    base = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    base.update({"ASSAY_HOME": str(home), "XDG_STATE_HOME": str(home / "state")})
    if source is not None:
        base["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(source), os.environ.get("PYTHONPATH", "")) if p
        )
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
    record = next(m for m in models if m["name"] == SESAME and m["version"] == 1)
    assert "production" in record["aliases"], record
    digest = record["digest"]
    artifact = checked_artifact(home, digest)
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


# The tabular model's pipeline, written into the temporary folder and run with `assay run`.
TABULAR_PIPELINE = """\
\"\"\"tabular: a logistic regression on synthetic numeric columns (the serving benchmark's).\"\"\"

from __future__ import annotations

from typing import Any

from assay import pipeline, register_model, step

CLASSES = __CLASSES__


@step(outputs={"model": "model"})
def train(rows: int, columns: int, seed: int) -> Any:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, columns))
    weights = rng.normal(size=(columns, len(CLASSES)))
    scores = x @ weights + rng.normal(scale=0.5, size=(rows, len(CLASSES)))
    y = np.array(CLASSES)[scores.argmax(axis=1)]
    return LogisticRegression(max_iter=1000).fit(x, y)


@pipeline
def tabular(rows: int = 2000, columns: int = __COLUMNS__, seed: int = 7) -> None:
    model = train(rows, columns, seed)
    register_model(model, name="tabular")
"""


def make_tabular(home: Path, env: dict[str, str]) -> dict[str, Any]:
    """``tabular@1``, a LogisticRegression on ``TABULAR_COLUMNS`` numeric columns, trained by
    a pipeline run (``assay.register_model``) in the store at ``home``."""
    folder = home.parent / "tabular-pipeline"
    folder.mkdir()
    text = TABULAR_PIPELINE.replace("__CLASSES__", repr(TABULAR_CLASSES))
    (folder / "pipeline.py").write_text(text.replace("__COLUMNS__", str(TABULAR_COLUMNS)))
    started = time.perf_counter()
    assay = assay_argv()
    run(
        [*assay, "run", str(folder / "pipeline.py"), "--json"], {**env, "ASSAY_USER": "carol"}, home
    )
    models = json.loads(run([*assay, "models", "list", "--json"], env, home))
    record = next(m for m in models if m["name"] == TABULAR and m["version"] == 1)
    artifact = checked_artifact(home, record["digest"])
    return {
        "ref": f"{TABULAR}@1",
        "digest": record["digest"],
        "codec": record["codec"],
        "artifact": str(artifact),
        "artifact_bytes": artifact.stat().st_size,
        "columns": TABULAR_COLUMNS,
        "setup_s": time.perf_counter() - started,
    }


def sentences() -> list[str]:
    texts = []
    for line in DATA.read_text(encoding="iso-8859-1").splitlines():
        sentence = line.rsplit("@", 1)[0].strip()
        if sentence:
            texts.append(sentence)
    return texts


def feature_rows(n: int, seed: int) -> list[list[float]]:
    """``n`` rows of ``TABULAR_COLUMNS`` numbers, drawn as the training data was."""
    rng = random.Random(seed)
    return [[round(rng.gauss(0, 1), 4) for _ in range(TABULAR_COLUMNS)] for _ in range(n)]


def write_bodies(
    folder: Path, model: str, items: list[Any], formats: list[str], row_counts: list[int]
) -> dict[tuple[str, str, int], Path]:
    """The request bodies: the same inputs for every server, in each one's format."""
    rng = random.Random(20261128)
    paths = {}
    for rows in sorted(set(row_counts)):
        batches = [rng.sample(items, rows) for _ in range(BODIES_PER_SIZE)]
        for fmt in formats:
            path = folder / f"bodies-{model}-{fmt}-{rows}.json"
            path.write_text(json.dumps([request_body(fmt, b) for b in batches]))
            paths[(model, fmt, rows)] = path
    return paths


ANCHOR_PACKAGES = {
    "mlflow": (MLFLOW_PYTHON, ["mlflow"]),
    "mlserver": (MLSERVER_PYTHON, ["mlserver", "mlserver-sklearn", "joblib", "orjson"]),
}
COMMON_PACKAGES = ["fastapi", "starlette", "uvicorn", "h11", "httptools", "uvloop"]
COMMON_PACKAGES += ["scikit-learn", "skops", "numpy", "pandas"]


def versions() -> dict[str, Any]:
    """Package versions in the project interpreter and in each anchor's venv."""
    code = (
        "import json, platform, sys; from importlib.metadata import version as v\n"
        "out = {}\n"
        "for n in sys.argv[1:]:\n"
        "    try: out[n] = v(n)\n"
        "    except Exception: out[n] = '?'\n"
        "out['python'] = platform.python_version()\n"
        "print(json.dumps(out))"
    )

    def ask(python: str, names: list[str]) -> dict[str, str]:
        with contextlib.suppress(Exception):
            done = subprocess.run(
                [python, "-c", code, *names], capture_output=True, text=True, check=True
            )
            return dict(json.loads(done.stdout))
        return {}

    out = {"assay": ask(sys.executable, ["assay", *COMMON_PACKAGES])}
    for anchor, (python, names) in ANCHOR_PACKAGES.items():
        out[anchor] = ask(str(python), [*names, *COMMON_PACKAGES]) if python.exists() else {}
    return out


def git(*args: str) -> str:
    out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return out.stdout.strip()


def export_source(rev: str, folder: Path) -> Path:
    """``src/`` as committed at ``rev``, extracted under ``folder``; its path."""
    done = subprocess.run(
        ["git", "archive", "--format=tar", rev, "src"],
        cwd=ROOT,
        capture_output=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"git archive {rev} src: {done.stderr.decode(errors='replace')}")
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(folder, filter="data")
    return folder / "src"


def machine(source: Path | None, rev: str | None) -> dict[str, str]:
    """The machine, and the assay sources served: the working tree's ``src`` (``source``
    None) or a copy of ``src`` as committed at ``rev``."""
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    changed = [line for line in git("status", "--porcelain", "--", "src").splitlines() if line]
    src = source if source is not None else ROOT / "src"
    digest = hashlib.sha256()
    for path in sorted((src / "assay").rglob("*.py")):
        digest.update(path.relative_to(src.parent).as_posix().encode())
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
        "served_commit": git("rev-parse", "--short", rev) if rev else "",
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
    argv = [
        sys.executable,
        str(HERE / "loadgen.py"),
        "--tool",
        server.format,
        "--port",
        str(server.port),
        "--path",
        server.predict_path,
        "--bodies",
        str(ctx["bodies"][(server.model, server.format, rows)]),
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


def probe(server: Server, batch: list[Any], classes: list[str]) -> dict[str, Any]:
    """One untimed-by-the-load request: the first answer after start-up, kept to compare."""
    started = time.perf_counter()
    status, data = http_call(server.port, "POST", server.predict_path, server.body(batch))
    seconds = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"{server.tool} probe answered {status}: {data[:300]!r}")
    found = {
        "first_request_s": seconds,
        "probabilities": probabilities(server, json.loads(data), classes),
    }
    if server.tool.startswith("assay"):  # what answers: a compiled form, or the model itself
        status, data = http_call(server.port, "GET", f"/v2/models/{server.model}")
        found["platform"] = json.loads(data).get("platform") if status == 200 else None
    return found


def wait_for_quiet(limit_s: float) -> dict[str, float]:
    """Wait, at most ``limit_s``, until the machine is quiet: busy under ``QUIET_BUSY`` of a
    core over 2 s, while nothing of this benchmark runs. How long it waited, and how busy."""
    started = time.perf_counter()
    while True:
        before = machine_cpu_s()
        time.sleep(2)
        busy = (machine_cpu_s() - before) / 2
        waited = time.perf_counter() - started
        if busy < QUIET_BUSY or waited >= limit_s:
            return {"waited_s": waited, "busy_cores": busy}


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
    job["quiet"] = wait_for_quiet(args.quiet_wait_s)
    log(
        f"== {TOOL_NAME[tool]} {label} (load average {job['load_at_start']}; machine busy"
        f" {job['quiet']['busy_cores']:.2f} of a core after {job['quiet']['waited_s']:.0f} s)"
    )
    try:
        job["cold_start_s"] = server.start()
        assert server.proc is not None
        log(f"   ready after {job['cold_start_s']:.2f} s")
        job.update(probe(server, ctx["probe"][server.model], ctx["classes"][server.model]))
        job["memory_idle"] = tree_memory(server.proc.pid)
        job["loads"] = []
        answered = 1
        job["discarded"] = []
        for concurrency, rows in configs:
            lat_file = ctx["tmp"] / f"lat-{tool}-{label}-c{concurrency}-r{rows}.json"
            for attempt in range(RERUNS + 1):
                record = load(server, rows, concurrency, args, ctx, lat_file)
                other = record.get("other_cpu_s", 0.0) / max(record.get("cpu_window_s", 1), 1e-9)
                if other <= OTHER_CPU_LIMIT or attempt == RERUNS or "error" in record:
                    break
                log(
                    f"   c={concurrency} rows={rows}: other processes took {other:.2f} of a"
                    " core; waiting for quiet and running it again"
                )
                job["discarded"].append(record)
                answered += record.get("answered_ok", 0)  # logged by assay all the same
                record["quiet_before_rerun"] = wait_for_quiet(args.quiet_wait_s)
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
                    f"{record['server_cpu_s'] / max(record['requests'], 1) * 1000:.2f} ms/req,"
                    f" others {record['other_cpu_s'] / record['cpu_window_s']:.2f} core"
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
        "other_cpu_share": sum(r.get("other_cpu_s", 0.0) for r in records)
        / sum(r["cpu_window_s"] for r in records),
        "mean_batch_rows": statistics.fmean(batch) if batch else None,
        "rss_after_mib": max(r["memory_after"]["rss_mib"] for r in records),
        "load": [r["load_before"] for r in records],
    }


# Whose answers are compared: assay's with each anchor's, on the probe's inputs.
AGREEMENT = {
    "mlflow": ("assay", "mlflow"),
    "mlserver": ("assay-v2", "mlserver"),
    "tabular": ("assay-tabular", "mlserver-tabular"),
}


def summarise(jobs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for tool in TOOL_NAME:
        tool_jobs = [j for j in jobs if j["tool"] == tool]
        if not tool_jobs:
            continue
        cold = [j["cold_start_s"] for j in tool_jobs if "cold_start_s" in j]
        full = [j for j in tool_jobs if j.get("loads")]
        # RSS after the load: each server's tree, sampled after its last configuration.
        after = [j["loads"][-1]["memory_after"] for j in full if "memory_after" in j["loads"][-1]]
        heaviest = max(after, key=lambda m: m["rss_mib"]) if after else None
        out[tool] = {
            "configs": {f"c{c}-r{r}": pooled(jobs, tool, c, r) for c, r in TOOL_CONFIGS[tool]},
            "cold_start_s": statistics.median(cold) if cold else None,
            "cold_starts_s": cold,
            "first_request_s": [j["first_request_s"] for j in tool_jobs if "first_request_s" in j],
            "rss_after_mib": heaviest["rss_mib"] if heaviest else None,
            "rss_after_each_mib": [m["rss_mib"] for m in after],
            "rss_after_processes": heaviest["processes"] if heaviest else [],
            "hwm_mib": max((m["hwm_mib"] for m in after), default=None),
            "rss_idle_mib": [j["memory_idle"]["rss_mib"] for j in tool_jobs if "memory_idle" in j],
        }
    # Do the servers answer the same? (the probe: the same inputs, right after start-up)
    out["agreement"] = {}
    for anchor, (mine, theirs) in AGREEMENT.items():
        first = {
            tool: next(
                (j["probabilities"] for j in jobs if j["tool"] == tool and "probabilities" in j),
                None,
            )
            for tool in (mine, theirs)
        }
        pa, pb = first[mine], first[theirs]
        if not pa or not pb:
            continue
        out["agreement"][anchor] = {
            "rows": len(pa),
            "max_abs_diff": max(
                abs(x - y)
                for ra, rb in zip(pa, pb, strict=True)
                for x, y in zip(ra, rb, strict=True)
            ),
            "same_labels": all(
                max(range(len(ra)), key=ra.__getitem__) == max(range(len(rb)), key=rb.__getitem__)
                for ra, rb in zip(pa, pb, strict=True)
            ),
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
    a2, ms = s.get("assay-v2", {}), s.get("mlserver", {})
    va, vb, vm = v.get("assay", {}), v.get("mlflow", {}), v.get("mlserver", {})
    loads = [r["load_before"] for j in jobs for r in j.get("loads", []) if "load_before" in r]
    others = [
        r["other_cpu_s"] / r["cpu_window_s"]
        for j in jobs
        for r in j.get("loads", [])
        if "other_cpu_s" in r and r.get("cpu_window_s")
    ]
    store = info["store"]
    discarded = [(j, r) for j in jobs for r in j.get("discarded", [])]

    def share(r: dict[str, Any]) -> float:
        return float(r.get("other_cpu_s", 0.0)) / max(float(r.get("cpu_window_s", 1.0)), 1e-9)

    def which(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> str:
        if len(pairs) > 8:
            counts: dict[str, int] = {}
            for j, _ in pairs:
                counts[TOOL_NAME[j["tool"]]] = counts.get(TOOL_NAME[j["tool"]], 0) + 1
            return ", ".join(f"{name} {k}" for name, k in counts.items())
        return ", ".join(
            f"{TOOL_NAME[j['tool']]} {j['label']} c={r['concurrency']} rows={r['rows']}"
            f" ({share(r):.2f})"
            for j, r in pairs
        )

    discard_note = f": {which(discarded)}" if discarded else ""
    contended = [
        (j, r)
        for j in jobs
        for r in j.get("loads", [])
        if "other_cpu_s" in r and share(r) > OTHER_CPU_LIMIT
    ]
    waited = sum(j.get("quiet", {}).get("waited_s", 0.0) for j in jobs) + sum(
        r.get("quiet_before_rerun", {}).get("waited_s", 0.0) for _, r in discarded
    )
    agree = s.get("agreement", {})
    mx = info.get("mlserver_export", {})
    defaults = mx.get("defaults", {})
    workers = defaults.get("parallel_workers", "?")

    def same(anchor: str) -> str:
        g = agree.get(anchor)
        if not g:
            return ""
        return (
            f" assay and {TOOL_NAME[AGREEMENT[anchor][1]]} gave the same probabilities for"
            f" {g['rows']} inputs (largest difference {g['max_abs_diff']:.1e}; same labels:"
            f" {'yes' if g['same_labels'] else 'NO'})."
        )

    def three(name: str) -> str:
        return f"{va.get(name, '?')} / {vb.get(name, '?')} / {vm.get(name, '?')}"

    if m.get("served_commit"):
        source = (
            f"assay {va.get('assay', '?')} as committed at {m['served_commit']} (`--assay-commit`:"
            f" `src/` exported with `git archive` and first on every assay process's PYTHONPATH;"
            f" the working tree, at {m['commit']} with {m['src_changes']} uncommitted change(s)"
            f" under src/, was not served; sha256 of the served src/assay/**/*.py:"
            f" {m['src_sha256']})"
        )
    else:
        source = (
            f"assay {va.get('assay', '?')} (commit {m['commit']}, {m['src_changes']} uncommitted"
            f" change(s) under src/ at the start; sha256 of src/assay/**/*.py: {m['src_sha256']})"
        )
    out = [
        BEGIN,
        "## Serving: assay's model server against `mlflow models serve` and MLServer",
        "",
        f"- date: {info['date']}",
        f"- machine: `nproc` {m['nproc']}, {m['cpu']}, {m['memory']}, {m['kernel']}; load average"
        f" at start {m['load']}; 1-minute load average before each load run: "
        f"{min(loads, default=0):.2f} to {max(loads, default=0):.2f}. The 2 cores are shared by"
        " the server and the load generator; CPU taken by other processes in the measured"
        " windows (the machine's busy time from `/proc/stat` less the server's tree and the load"
        f" generator): median {fmt(statistics.median(others) if others else None, 2)}, at most"
        f" {fmt(max(others, default=None), 2)} of a core.",
        f"- versions: {source}, MLflow {vb.get('mlflow', '?')}, MLServer"
        f" {vm.get('mlserver', '?')} with mlserver-sklearn {vm.get('mlserver-sklearn', '?')}"
        f" (joblib {vm.get('joblib', '?')}); Python {three('python')}, uvicorn {three('uvicorn')},"
        f" FastAPI {three('fastapi')}, starlette {three('starlette')}, h11 {three('h11')},"
        f" httptools {three('httptools')}, uvloop {three('uvloop')} (uvicorn uses httptools and"
        " uvloop where installed, h11 and asyncio otherwise), scikit-learn"
        f" {three('scikit-learn')}, skops {three('skops')}, NumPy {three('numpy')} (assay /"
        " MLflow / MLServer, each in its own venv)",
        f"- command: `{info['command']}` (harness wall time {info['wall_s'] / 60:.1f} min)",
        "- model: one run of `examples/sesame` into a new store (macro-F1 "
        f"{fmt(store.get('macro_f1'), 4)}), `sesame@1` promoted to production through the"
        " approval flow. assay serves the version as `assay serve` does: from the compiled"
        " serving form that registration stored beside the skops artifact, when the version has"
        " one. The skops artifact"
        f" ({store['artifact_bytes'] / 2**20:.1f} MiB, sha256 {store['digest'][:12]}), checked"
        " against the digest and loaded with skops, is saved for MLflow with"
        " `mlflow.sklearn.save_model` (MLflow's default cloudpickle format,"
        " pyfunc predict function `predict_proba`) and for MLServer with `joblib.dump` as"
        " `sesame/model.joblib` beside a `model-settings.json` (implementation"
        " `mlserver_sklearn.SKLearnModel`, `parameters.extra.predict_fn` `predict_proba`), so all"
        " three answer with class probabilities." + same("mlflow") + same("mlserver"),
        "- servers: `assay serve sesame@production --port P` (its defaults: micro-batches of up to"
        " 128 rows, 2 ms wait, prediction log on); `mlflow models serve -m DIR --env-manager local"
        " -p P --host 127.0.0.1` with the venv's bin first on PATH (its default: one uvicorn"
        " worker, behind the `mlflow` CLI process that stays as its parent; access log on;"
        " telemetry off with `MLFLOW_DISABLE_TELEMETRY`); `mlserver start DIR` (DIR holding one"
        " folder, `sesame/`, as KServe mounts a model) with `MLSERVER_HOST=127.0.0.1` and free"
        " HTTP, gRPC and metrics ports, everything else at MLServer's defaults as a KServe user"
        f" gets them: `parallel_workers` {workers} (inference runs in {workers} worker"
        " process(es) fed by the HTTP process, plus multiprocessing's resource tracker),"
        f" adaptive batching off (`max_batch_size` {defaults.get('max_batch_size', '?')}),"
        f" `debug` {str(defaults.get('debug', '?')).lower()} (access log on), gzip"
        f" {'on' if defaults.get('gzip_enabled') else 'off'}, the gRPC and metrics servers on."
        " uvloop is held below 0.22 in MLServer's venv: with uvloop 0.22 and later, MLServer"
        " 1.7.1's inference workers die at start (`There is no current event loop`, MLServer"
        " issue 2286) and no model loads. One server at a time, never two.",
        '- requests: MLflow gets `POST /invocations` with `{"inputs": [...]}`; assay gets'
        ' KServe V1 `POST /v1/models/sesame:predict` with `{"instances": [...]}` in the rows'
        " beside MLflow, and the Open Inference Protocol V2 in the rows marked V2, beside"
        " MLServer. The V2 bodies are the very same bytes for both: `POST"
        ' /v2/models/sesame/infer` with `{"inputs": [{"name": "text", "shape": [N], "datatype":'
        ' "BYTES", "data": [...]}]}`. MLServer\'s scikit-learn runtime takes that tensor without'
        " `parameters.content_type`: its default NumPy codec decodes a BYTES tensor of JSON"
        " strings into a NumPy array of str, which the pipeline's vectorizers read as they read"
        " a list (by hand, before this run, the same tensor with"
        ' `"parameters": {"content_type": "str"}` got the same answers and about the same req/s'
        " in 5 s trials; it is not what is measured here). Answers checked: assay's"
        " `probabilities` and MLServer's `predict_proba`, FP64 tensors of [N, 3].",
        f"- load: `bench/serving/loadgen.py`, one asyncio process on the same 2 cores: N keep-alive"
        f" connections, each sending its next request when the last answer is read (closed loop, at"
        f" most N in flight); {info['warmup_s']:g} s of warm-up, then {info['duration_s']:g} s"
        " measured; a request counts when its answer (status 200, JSON, one prediction of 3"
        " probabilities per row, all checked) arrives in the window; latency from the first byte"
        f" written to the last byte read. {BODIES_PER_SIZE} different bodies per row count, made of"
        " Financial PhraseBank sentences (`Sentences_50Agree.txt`), the same sentences for every"
        f" server. {info['rounds']} rounds, the servers' order reversed every other round"
        f" ({', '.join(TOOL_NAME[t] for t in ROUND_ORDER)}, then back), each round a fresh"
        " server; req/s is over all rounds' windows, p50 and p99 over all their latencies"
        " (nearest rank). The machine is shared: before each server start the harness waited"
        f" for it to be quiet (under {QUIET_BUSY:g} of a core busy over 2 s, at most"
        f" {info.get('quiet_wait_s', 0):g} s; {waited:.0f} s of waiting in all), and a load run"
        f" during which other processes took more than {OTHER_CPU_LIMIT:g} of a core was"
        f" discarded and run again after such a wait, at most {RERUNS} times"
        f" ({len(discarded)} run(s) discarded{discard_note}).",
        "- cold start: wall time from spawning the server's command to the first 200 from its"
        " readiness endpoint (assay `GET /v2/health/ready`, MLflow `GET /ping`, MLServer `GET"
        " /v2/models/sesame/ready`), polled every 20 ms; median of every start (every round's"
        " server and extra starts), files in the page cache. RSS: VmRSS summed over the server's"
        " process tree (MLflow: the `mlflow` CLI process and its uvicorn child; MLServer: its"
        " main process, the inference worker(s) and multiprocessing's resource tracker), sampled"
        " right after each server's last load run; the larger of the rounds.",
        "- raw records: `bench/serving/results.json`",
        "",
    ]
    errors = [
        f"{TOOL_NAME[j['tool']]} {j['label']}: {j['error']}"
        for j in jobs
        if j.get("error") and MODEL[j["tool"]] == SESAME
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
    shown = [t for t in ROUND_ORDER if t in s]
    shown.sort(key=("assay", "mlflow", "assay-nolog", "assay-v2", "mlserver").index)

    def row(tool: str, c: int, r: int, fig: dict[str, Any]) -> str:
        name = TOOL_NAME[tool] + (" (info)" if tool == "assay-nolog" else "")
        if not fig:
            return f"| {c} | {r} | {name} | {PROTOCOL[tool]} | failed | | | | | | | |"
        each = fig["each_req_per_s"]
        spread = f" ({', '.join(f'{x:,.0f}' for x in each)})" if len(each) > 1 else ""
        return (
            f"| {c} | {r} | {name} | {PROTOCOL[tool]} | {fig['req_per_s']:,.1f}{spread} |"
            f" {fig['rows_per_s']:,.0f} | {fmt(fig['p50_ms'])} | {fmt(fig['p99_ms'])} |"
            f" {fmt(fig['max_ms'])} | {fmt(fig['server_cpu_ms_per_req'], 2)} |"
            f" {fmt(fig['mean_batch_rows'])} | {fig['requests']:,} ({fig['errors']}) |"
        )

    header = [
        "| concurrency | rows / request | server | protocol | req/s | rows/s | p50 ms | p99 ms |"
        " max ms | server CPU ms / request | mean batch rows | requests (failed) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    out += ["### Throughput and latency", "", *header]
    for c, r in CONFIGS:
        for tool in shown:
            fig = s[tool].get("configs", {}).get(f"c{c}-r{r}")
            if fig is not None:
                out.append(row(tool, c, r, fig))
    out += [
        "",
        "req/s in brackets: each round. server CPU: user + system time of the server's process"
        " tree over the measured windows, per request answered in them. mean batch rows (assay"
        " only, from its `/metrics`): rows in the model call a request was part of, averaged over"
        " requests (warm-up included).",
        "",
    ]
    if contended:
        out += [
            f"**Contended**: {len(contended)} run(s) kept after {RERUNS} reruns although other"
            f" processes took more than {OTHER_CPU_LIMIT:g} of a core in them (share of a core in"
            f" brackets): {which(contended)}. Their figures are lower than a quiet machine's.",
            "",
        ]

    # -- ratios and floors -------------------------------------------------------------------
    def conf(summary: dict[str, Any], c: int, r: int) -> dict[str, Any]:
        return summary.get("configs", {}).get(f"c{c}-r{r}") or {}

    rows_out: list[str] = []
    floors: dict[str, bool | None] = {}

    def plural(r: int) -> str:
        return f"{r} row{'s' if r > 1 else ''}"

    def floor_rows(
        against: str,
        mine: dict[str, Any],
        theirs: dict[str, Any],
        rps_floor: float,
        p99_floor: float | None,
        configs: list[tuple[int, int]],
    ) -> None:
        for c, r in configs:
            fa, fb = conf(mine, c, r), conf(theirs, c, r)
            rr = ratio(fa.get("req_per_s"), fb.get("req_per_s"))
            pr = ratio(fa.get("p99_ms"), fb.get("p99_ms"))
            label = f"concurrency {c}, {plural(r)}"
            floors[f"{against} req/s c={c} rows={r}"] = None if rr is None else rr >= rps_floor
            # Round by round (the rounds ran the servers in turn, so round k pairs with k).
            mine_each, theirs_each = fa.get("each_req_per_s", []), fb.get("each_req_per_s", [])
            each = (
                [x / y for x, y in zip(mine_each, theirs_each, strict=True) if y]
                if len(mine_each) == len(theirs_each)
                else []
            )
            rounds = f" ({', '.join(f'{x:.2f}' for x in each)})" if len(each) > 1 else ""
            rows_out.append(
                f"| {against} | {label}: req/s | {fmt(fa.get('req_per_s'))} |"
                f" {fmt(fb.get('req_per_s'))} | {fmt(rr, 2)}{rounds} | ≥ {rps_floor:g} |"
                f" {verdict(rr, rps_floor, 'min')} |"
            )
            if p99_floor is None:
                rows_out.append(
                    f"| {against} | {label}: p99 ms | {fmt(fa.get('p99_ms'))} |"
                    f" {fmt(fb.get('p99_ms'))} | {fmt(pr, 2)} | (info) | — |"
                )
                continue
            floors[f"{against} p99 c={c} rows={r}"] = None if pr is None else pr <= p99_floor
            rows_out.append(
                f"| {against} | {label}: p99 ms | {fmt(fa.get('p99_ms'))} |"
                f" {fmt(fb.get('p99_ms'))} | {fmt(pr, 2)} | ≤ {p99_floor:g} |"
                f" {verdict(pr, p99_floor, 'max')} |"
            )

    def info_rows(against: str, mine: dict[str, Any], theirs: dict[str, Any]) -> None:
        for c, r in ((1, 1), (1, 32)):
            fa, fb = conf(mine, c, r), conf(theirs, c, r)
            label = f"concurrency {c}, {plural(r)}"
            for key, unit in (("req_per_s", "req/s"), ("p99_ms", "p99 ms")):
                rows_out.append(
                    f"| {against} | {label}: {unit} | {fmt(fa.get(key))} | {fmt(fb.get(key))} |"
                    f" {fmt(ratio(fa.get(key), fb.get(key)), 2)} | (info) | — |"
                )

    def start_rows(against: str, mine: dict[str, Any], theirs: dict[str, Any], floor: bool) -> None:
        cr = ratio(mine.get("cold_start_s"), theirs.get("cold_start_s"))
        mr = ratio(mine.get("rss_after_mib"), theirs.get("rss_after_mib"))
        if floor:
            floors[f"{against} cold start"] = None if cr is None else cr < FLOOR_COLD
            floors[f"{against} RSS"] = None if mr is None else mr <= FLOOR_RSS
        cold_floor = (
            f"< {FLOOR_COLD:g} | {verdict(cr, FLOOR_COLD, 'under')}" if floor else "(info) | —"
        )
        rss_floor = f"≤ {FLOOR_RSS:g} | {verdict(mr, FLOOR_RSS, 'max')}" if floor else "(info) | —"
        rows_out.append(
            f"| {against} | cold start s (median) | {fmt(mine.get('cold_start_s'), 2)} |"
            f" {fmt(theirs.get('cold_start_s'), 2)} | {fmt(cr, 2)} | {cold_floor} |"
        )
        rows_out.append(
            f"| {against} | RSS after the load, MiB | {fmt(mine.get('rss_after_mib'), 0)} |"
            f" {fmt(theirs.get('rss_after_mib'), 0)} | {fmt(mr, 2)} | {rss_floor} |"
        )

    big = [(16, 1), (16, 32)]
    floor_rows("MLflow (assay V1)", a, b, FLOOR_RPS, FLOOR_P99, big)
    start_rows("MLflow (assay V1)", a, b, floor=True)
    info_rows("MLflow (assay V1)", a, b)
    if ms:
        floor_rows("MLServer (both V2)", a2, ms, FLOOR_RPS_MLSERVER, FLOOR_P99_MLSERVER, big)
        start_rows("MLServer (both V2)", a2, ms, floor=False)
        info_rows("MLServer (both V2)", a2, ms)
    missed = [k for k, ok in floors.items() if ok is False]
    out += [
        "### Ratios and floors (the serving issue, and MLServer's)",
        "",
        "| against | figure | assay | anchor | assay / anchor | floor | met |",
        "|---|---|---|---|---|---|---|",
        *rows_out,
        "",
        (
            "**Floors not met: " + ", ".join(missed) + ".** The measurement was not changed to"
            " pass; what dominates assay's time and memory is below."
            if missed
            else "Every floor met."
        ),
        "",
        "The floors at concurrency 16 are checked at both row counts, on the pooled rounds;"
        " the req/s ratio of each round is in brackets. Against MLflow, assay is asked over"
        " KServe V1; against MLServer, both are asked over V2 with the same bodies. MLServer's"
        " cold start and memory have no floor (info).",
        "",
    ]

    # -- cold start and memory ---------------------------------------------------------------
    def program(cmd: str) -> str:
        words = cmd.split(" ")
        if Path(words[0]).name.startswith("python") and len(words) > 1:
            words = words[1:]
        if words[:3] == ["-B", "-c", "from"] and len(words) > 3:
            return f"python ({words[3]})"  # multiprocessing's worker and resource tracker
        return " ".join(Path(w).name if w.startswith("/") else w for w in words[:3])

    def procs(summary: dict[str, Any]) -> str:
        return "; ".join(
            f"`{program(p['cmd'])}` {p['rss_mib']:.0f} MiB"
            for p in summary.get("rss_after_processes", [])
        )

    tools = [(TOOL_NAME[t] + (" (info)" if t == "assay-nolog" else ""), s[t]) for t in shown]

    def line(label: str, cell: Any) -> str:
        return f"| {label} | " + " | ".join(cell(t) or "—" for _, t in tools) + " |"

    out += [
        "### Cold start and memory",
        "",
        "| | " + " | ".join(name for name, _ in tools) + " |",
        "|---|" + "---|" * len(tools),
        line(
            "cold start, each start (s)",
            lambda t: ", ".join(f"{x:.2f}" for x in t.get("cold_starts_s", [])),
        ),
        line(
            "first request after ready, 32 rows (ms)",
            lambda t: ", ".join(f"{x * 1000:.0f}" for x in t.get("first_request_s", [])),
        ),
        line(
            "RSS idle after the first request (MiB)",
            lambda t: ", ".join(f"{x:.0f}" for x in t.get("rss_idle_mib", [])),
        ),
        line(
            "RSS after the load, each round (MiB)",
            lambda t: ", ".join(f"{x:.0f}" for x in t.get("rss_after_each_mib", [])),
        ),
        line("peak RSS (VmHWM, summed over the tree, MiB)", lambda t: fmt(t.get("hwm_mib"), 0)),
        line("processes (RSS after the load)", procs),
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
            " does not unpickle anything it serves (MLServer's `joblib.load` is pickle too).",
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
            for mine, theirs in (("assay", "mlflow"), ("assay-v2", "mlserver")):
                for c, r in big:
                    fa, fb = conf(s.get(mine, {}), c, r), conf(s.get(theirs, {}), c, r)
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
                    how = (
                        "one model call per request"
                        if theirs == "mlflow"
                        else f"one model call per request, in its inference worker ({workers}"
                        " by default), the HTTP process decoding and forwarding"
                    )
                    out.append(
                        f"- concurrency {c}, {plural(r)}, {PROTOCOL[mine]}: {TOOL_NAME[mine]}"
                        f" {fmt(fa['server_cpu_ms_per_req'], 2)} ms of server CPU a request, in"
                        f" batches of {fmt(batch)} rows on average; the model's share of its"
                        f" batch's call is about {model_ms:.2f} ms of that{share}."
                        f" {TOOL_NAME[theirs]} {fmt(fb['server_cpu_ms_per_req'], 2)} ms ({how})."
                        f" Load generator: {fa['client_cpu_share'] * 100:.0f}% /"
                        f" {fb['client_cpu_share'] * 100:.0f}% of a core; other processes:"
                        f" {fa['other_cpu_share'] * 100:.0f}% / {fb['other_cpu_share'] * 100:.0f}%"
                        f" ({TOOL_NAME[mine]} / {TOOL_NAME[theirs]} runs)."
                    )
            for c, r in NO_LOG_CONFIGS:
                on, off = conf(a, c, r), conf(n, c, r)
                if on.get("server_cpu_ms_per_req") and off.get("server_cpu_ms_per_req"):
                    out.append(
                        f"- the prediction log, concurrency {c}, {plural(r)}:"
                        f" {on['server_cpu_ms_per_req']:.2f} ms of server CPU a request with it,"
                        f" {off['server_cpu_ms_per_req']:.2f} ms with `--no-log`, so about"
                        f" {on['server_cpu_ms_per_req'] - off['server_cpu_ms_per_req']:.2f} ms a"
                        f" request goes to writing it (the writer thread shares the GIL with the"
                        f" event loop and the model); {on['req_per_s']:,.1f} against"
                        f" {off['req_per_s']:,.1f} req/s."
                    )
            most = max(r for _, r in CONFIGS)
            biggest = conf(a, 16, most)
            out += [
                "",
                f"With {most}-row requests at concurrency 16, assay's batches held"
                f" {fmt(biggest.get('mean_batch_rows'))} rows on average (`--max-batch` 128 by"
                " default merges a few requests; a request is never split). Most of its lead"
                " there comes from scoring the compiled form (n-grams as integers, looked up for"
                " the whole batch in NumPy) where MLflow and MLServer run scikit-learn's analyzers"
                " (a Python string and dict lookup per n-gram). With 1-row requests assay merges"
                " the 16 requests in flight into one call; MLServer, with adaptive batching off by"
                " default, makes one call per request.",
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

    out += render_tabular(data)

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


def _platform(data: dict[str, Any], tool: str) -> str | None:
    """What answered for ``tool``, as its first probe's model metadata said."""
    return next(
        (j.get("platform") for j in data["jobs"] if j["tool"] == tool and j.get("platform")),
        None,
    )


def render_tabular(data: dict[str, Any]) -> list[str]:
    """The tabular model's subsection: figures when assay served it, otherwise why not."""
    tab = data["info"].get("tabular") or {}
    s = data["summary"]
    title = (
        f"### Tabular model (LogisticRegression on {TABULAR_COLUMNS} numeric columns, V2 FP64,"
        " against MLServer)"
    )
    if not tab.get("requested"):
        return [
            title,
            "",
            "Not measured in this run: the mode is off by default (`--tabular` turns it on)."
            " It trains a LogisticRegression on synthetic numeric data"
            " (`assay.register_model` in a pipeline run), serves it with assay and MLServer,"
            f" and checks assay at ≥ {FLOOR_RPS_TABULAR:g}x MLServer's req/s (tensor \""
            f'{TABULAR_INPUT}", FP64, shape [N, {TABULAR_COLUMNS}]).',
            "",
        ]
    failed = [j for j in data["jobs"] if j["tool"] == "assay-tabular" and j.get("error")]
    if failed or "assay-tabular" not in s:
        why = failed[0]["error"] if failed else tab.get("error", "not run")
        return [
            title,
            "",
            f"Requested with `--tabular`, not measured: assay could not serve `{tab.get('ref')}`"
            f" ({why}). No figures are given for it.",
            "",
        ]
    mine, theirs = s["assay-tabular"], s.get("mlserver-tabular", {})
    out = [
        title,
        "",
        f"`{tab.get('ref')}`: trained on synthetic data by a pipeline run"
        f" ({tab.get('artifact_bytes', 0) / 1024:.0f} KiB {tab.get('codec', '?')} artifact),"
        " saved for MLServer as sesame is"
        + (
            f"; assay answered from `{platform}` (its `/v2/models/{TABULAR}` platform"
            + (
                ": the compiled linear form, checked against the scikit-learn model when"
                " loaded; MLServer runs scikit-learn's own `predict_proba`)"
                if platform == "assay-linear"
                else ")"
            )
            if (platform := _platform(data, "assay-tabular"))
            else ""
        )
        + ". Requests: one FP64 tensor"
        f' "{TABULAR_INPUT}" of shape [N, {TABULAR_COLUMNS}], the same bodies for both.'
        + (
            f" Same probabilities for {g['rows']} rows: largest difference"
            f" {g['max_abs_diff']:.1e}, same labels {'yes' if g['same_labels'] else 'NO'}."
            if (g := s.get("agreement", {}).get("tabular"))
            else ""
        ),
        "",
        "| concurrency | rows / request | assay req/s | MLServer req/s | assay / MLServer |"
        " assay p99 ms | MLServer p99 ms | server CPU ms / request (assay / MLServer) |"
        " assay mean batch rows | floor | met |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    missed = []
    for c, r in TABULAR_CONFIGS:
        fa = mine.get("configs", {}).get(f"c{c}-r{r}") or {}
        fb = theirs.get("configs", {}).get(f"c{c}-r{r}") or {}
        rr = ratio(fa.get("req_per_s"), fb.get("req_per_s"))
        each = [
            x / y
            for x, y in zip(
                fa.get("each_req_per_s", []), fb.get("each_req_per_s", []), strict=False
            )
            if y
        ]
        rounds = f" ({', '.join(f'{x:.2f}' for x in each)})" if len(each) > 1 else ""
        floor = f"≥ {FLOOR_RPS_TABULAR:g}" if c == 16 else "(info)"
        met = verdict(rr, FLOOR_RPS_TABULAR, "min") if c == 16 else "—"
        if c == 16 and rr is not None and rr < FLOOR_RPS_TABULAR:
            missed.append(f"concurrency {c}, {r} row{'s' if r > 1 else ''}")
        out.append(
            f"| {c} | {r} | {fmt(fa.get('req_per_s'))} | {fmt(fb.get('req_per_s'))} |"
            f" {fmt(rr, 2)}{rounds} | {fmt(fa.get('p99_ms'))} | {fmt(fb.get('p99_ms'))} |"
            f" {fmt(fa.get('server_cpu_ms_per_req'), 2)} /"
            f" {fmt(fb.get('server_cpu_ms_per_req'), 2)} | {fmt(fa.get('mean_batch_rows'))} |"
            f" {floor} | {met} |"
        )
    out += [
        "",
        (f"**Floor not met ({', '.join(missed)}).** " if missed else "Every tabular floor met. ")
        + "req/s ratio of each round in brackets. RSS after the load:"
        f" assay {fmt(mine.get('rss_after_mib'), 0)} MiB, MLServer"
        f" {fmt(theirs.get('rss_after_mib'), 0)} MiB; cold start (median): assay"
        f" {fmt(mine.get('cold_start_s'), 2)} s, MLServer {fmt(theirs.get('cold_start_s'), 2)} s.",
        "",
    ]
    return out


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


def export(python: Path, script: str, argv: list[str], cwd: Path) -> dict[str, Any]:
    """Run an export script in an anchor's venv; its JSON line."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    out = run([str(python), str(HERE / script), *argv], env, cwd)
    return dict(json.loads(out.strip().splitlines()[-1]))


def anchor_env(bin_dir: Path) -> dict[str, str]:
    """An anchor server's environment: ours, less any venv or MLServer setting, with the
    anchor's venv first on PATH."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONHOME") and not k.startswith("MLSERVER")
    }
    env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration-s", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup-s", type=float, default=2.0, help="unrecorded seconds before")
    parser.add_argument("--rounds", type=int, default=2, help="load rounds per tool")
    parser.add_argument(
        "--extra-cold-starts", type=int, default=1, help="starts per tool beyond the rounds'"
    )
    parser.add_argument(
        "--assay-commit",
        metavar="REV",
        help="serve assay's src/ as committed at REV (git archive), not the working tree",
    )
    parser.add_argument(
        "--tabular",
        action="store_true",
        help="also a LogisticRegression on numeric columns, assay against MLServer over V2"
        " (off by default; measures nothing where assay cannot serve the model)",
    )
    parser.add_argument(
        "--quiet-wait-s",
        type=float,
        default=120.0,
        help="before each server start and rerun, wait at most this long for an idle machine",
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
    # A SIGTERM (a time limit around the harness) unwinds like an error does, so that the
    # server running then is stopped by its session's ``finally``.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for bin_dir in (MLFLOW_BIN, MLSERVER_BIN):
        if not (bin_dir / "python").exists():
            sys.exit(f"{bin_dir / 'python'} missing; run bash bench/serving/setup.sh")
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp_name:
        tmp = Path(tmp_name)
        source = export_source(args.assay_commit, tmp / "assay-src") if args.assay_commit else None
        info: dict[str, Any] = {
            "date": started.strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(source, args.assay_commit),
            "versions": versions(),
            "command": "bash bench/serving/setup.sh && python bench/serving/harness.py"
            + "".join(f" {shlex.quote(a)}" for a in sys.argv[1:]),
            "duration_s": args.duration_s,
            "warmup_s": args.warmup_s,
            "rounds": args.rounds,
            "quiet_wait_s": args.quiet_wait_s,
        }
        log(f"== load average at start {info['machine']['load']}")
        if source is not None:
            log(f"   serving assay as committed at {info['machine']['served_commit']}")
        home = tmp / "store"
        home.mkdir()
        log("== training sesame and promoting it to production (untimed setup)")
        store = make_store(home, source)
        log(f"   {store['setup_s']:.1f} s; model sha256 {store['digest'][:12]}")
        model_dir = tmp / "mlflow-model"
        artifact = ["--artifact", store["artifact"], "--digest", store["digest"]]
        exported = export(
            MLFLOW_PYTHON, "export_mlflow.py", [*artifact, "--out", str(model_dir)], tmp
        )
        log(f"   exported for MLflow in {exported['seconds']:.1f} s")
        repo = tmp / "mlserver-models"
        ms_exported = export(
            MLSERVER_PYTHON,
            "export_mlserver.py",
            [*artifact, "--name", SESAME, "--out", str(repo / SESAME)],
            tmp,
        )
        log(
            f"   exported for MLServer in {ms_exported['seconds']:.1f} s (defaults:"
            f" {json.dumps(ms_exported['defaults'])})"
        )
        if ms_exported["classes"] != exported["classes"]:
            raise RuntimeError(f"classes differ: {ms_exported['classes']} {exported['classes']}")
        info["store"] = {k: v for k, v in store.items() if k != "env"}
        info["export"] = exported
        info["mlserver_export"] = ms_exported
        texts = sentences()
        ctx: dict[str, Any] = {
            "tmp": tmp,
            "store": store,
            "refs": {SESAME: f"{SESAME}@production"},
            "mlflow_model": model_dir,
            "mlserver_repo": {SESAME: repo},
            "assay_env": dict(store["env"]),
            "mlflow_env": anchor_env(MLFLOW_BIN),
            "mlserver_env": anchor_env(MLSERVER_BIN),
            "bodies": write_bodies(
                tmp, SESAME, texts, ["assay", "mlflow", "v2"], [r for _, r in CONFIGS]
            ),
            "probe": {SESAME: random.Random(7).sample(texts, PROBE_ROWS)},
            "classes": {SESAME: list(exported["classes"])},
        }
        tabular: dict[str, Any] = {"requested": args.tabular}
        if args.tabular:
            log("== training the tabular model (untimed setup)")
            tabular.update(make_tabular(home, store["env"]))
            tab_repo = tmp / "mlserver-tabular"
            tab_art = ["--artifact", tabular["artifact"], "--digest", tabular["digest"]]
            tab_export = export(
                MLSERVER_PYTHON,
                "export_mlserver.py",
                [*tab_art, "--name", TABULAR, "--out", str(tab_repo / TABULAR)],
                tmp,
            )
            tabular["mlserver_export"] = tab_export
            ctx["refs"][TABULAR] = tabular["ref"]
            ctx["mlserver_repo"][TABULAR] = tab_repo
            ctx["classes"][TABULAR] = list(tab_export["classes"])
            rows = feature_rows(2000, seed=11)
            ctx["probe"][TABULAR] = rows[:PROBE_ROWS]
            ctx["bodies"].update(
                write_bodies(tmp, TABULAR, rows, ["v2"], [r for _, r in TABULAR_CONFIGS])
            )
        else:
            log(
                "== tabular model: skipped (pass --tabular to measure it: a LogisticRegression"
                " on numeric columns, assay against MLServer)"
            )
        info["tabular"] = {k: v for k, v in tabular.items() if k != "mlserver_export"}
        jobs: list[dict[str, Any]] = []
        for i in range(args.extra_cold_starts):
            for tool in ("assay", "mlflow", "mlserver"):
                jobs.append(session(tool, [], f"cold start {i + 1}", args, ctx))
        tabular_ok = args.tabular
        for round_no in range(args.rounds):
            order = ROUND_ORDER if round_no % 2 == 0 else ROUND_ORDER[::-1]
            for tool in order:
                jobs.append(session(tool, TOOL_CONFIGS[tool], f"round {round_no + 1}", args, ctx))
            if tabular_ok:
                pair = ("assay-tabular", "mlserver-tabular")
                for tool in pair if round_no % 2 == 0 else pair[::-1]:
                    job = session(tool, TOOL_CONFIGS[tool], f"round {round_no + 1}", args, ctx)
                    jobs.append(job)
                    if tool == "assay-tabular" and job.get("error"):
                        log("   assay cannot serve the tabular model: no tabular figures")
                        tabular_ok = False
                        break
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
