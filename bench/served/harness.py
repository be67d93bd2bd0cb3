"""Recording through a server, side by side: a process logging the tracking workload through
assay's team server against one logging through the MLflow tracking server (REST), reported
as ratios of values per second.

The workload is ``bench/tracking``'s: 200 runs x (10 params + 5 metrics x 50 steps), (a) one
log call per value, (b) in the natural batches (assay: a ``log_params`` with every param and
a ``log_metrics`` per step; MLflow: one ``log_batch`` per run). Both servers run side by side
on 127.0.0.1 over SQLite (``python -m assay server``, laptop authentication;
``mlflow server --workers 1``, its job runner off); each (tool, mode) runs in a fresh client
process, ``--rounds`` times, the tools alternating; the median values/s is the figure. Every
param and metric value is read back through the same server afterwards and counted. MLflow
logging call by call over REST is slow: it logs for ``--budget-s`` seconds and the runs it
finished are what is measured (its values/s).

Usage: ``python bench/served/harness.py`` (first ``bash bench/tracking/setup_mlflow.sh``);
``--runs 20 --rounds 1 --no-write`` for a trial. Writes ``bench/served/results.json`` and the
``served`` section of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH / "tracking"))  # the shared workload

import workload as w  # noqa: E402


def _team_harness() -> Any:
    """bench/team/harness.py, for starting, stopping and watching servers (loaded by path:
    bench/tracking has a harness.py too)."""
    spec = importlib.util.spec_from_file_location("team_harness", BENCH / "team" / "harness.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


team = _team_harness()

RESULTS_JSON = HERE / "results.json"
RESULTS_MD = BENCH / "RESULTS.md"
BEGIN, END = "<!-- served:begin -->", "<!-- served:end -->"
FLOORS = {"call": 20.0, "batch": 5.0}  # assay values/s over MLflow's, at least


def worker(tool: str, mode: str, url: str, args: argparse.Namespace, tmp: Path) -> list[Any]:
    """One client process logging the workload through ``url``; its JSON records."""
    python = sys.executable if tool == "assay" else str(team.MLFLOW_BIN / "python")
    argv = [python, str(HERE / f"run_{tool}.py"), "--server", url, "--mode", mode]
    argv += ["--runs", str(args.runs)]
    if tool == "mlflow":
        argv += ["--budget-s", str(args.budget_s)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "MLFLOW_"))}
    env |= {"PYTHONUNBUFFERED": "1", "TMPDIR": str(tmp), "MLFLOW_DISABLE_TELEMETRY": "true"}
    env |= {"XDG_CONFIG_HOME": str(tmp / "client-config")}  # no credential: laptop auth
    started = time.monotonic()
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{tool} {mode} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    for r in records:
        r["wall_s"] = time.monotonic() - started
    return records


def measure(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    env = team.environments(tmp)
    for folder in ("assay", "mlflow", "state", "config", "clients"):
        (tmp / folder).mkdir()
    ports = {"assay": team.free_port(), "mlflow": team.free_port()}
    logs = {tool: tmp / f"server-{tool}.log" for tool in ports}
    argv = team.server_commands(tmp)
    health = team.HEALTH
    # An empty store for the server (MLflow's server makes its own).
    init = [sys.executable, "-m", "assay", "init"]
    subprocess.run(init, cwd=tmp / "assay", env=env["assay"], check=True, capture_output=True)
    servers = {}
    records: list[dict[str, Any]] = []
    try:
        for tool, port in ports.items():
            servers[tool] = team.start(
                [*argv[tool], "--port", str(port)], env[tool], tmp / tool, logs[tool]
            )
        for tool, port in ports.items():
            team.wait_ready(
                f"http://127.0.0.1:{port}{health[tool]}", servers[tool], logs[tool], 120
            )
        team.wait_settled([p.pid for p in servers.values()])
        for mode in ("call", "batch"):
            for round_ in range(args.rounds):
                for tool in ("assay", "mlflow") if round_ % 2 == 0 else ("mlflow", "assay"):
                    url = f"http://127.0.0.1:{ports[tool]}"
                    found = worker(tool, mode, url, args, tmp / "clients")
                    for r in found:
                        r["round"] = round_
                        if r["task"] == "throughput":
                            print(
                                f"   {tool} {mode} round {round_}: {r['runs']} runs,"
                                f" {r['values_per_s']:,.0f} values/s",
                                flush=True,
                            )
                        if r["task"] == "verify" and r["problems"]:
                            raise RuntimeError(f"{tool} {mode}: {r['problems']}")
                    records += found
    finally:
        for proc in servers.values():
            team.stop(proc)
    return {"records": records}


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for mode, floor in FLOORS.items():
        rates = {
            tool: [
                r["values_per_s"]
                for r in records
                if r["task"] == "throughput" and r["tool"] == tool and r["mode"] == mode
            ]
            for tool in ("assay", "mlflow")
        }
        checks = [r for r in records if r["task"] == "verify" and r["mode"] == mode]
        median = {tool: statistics.median(each) for tool, each in rates.items()}
        ratio = median["assay"] / median["mlflow"]
        results[mode] = {
            "values_per_s": median,
            "all_values_per_s": rates,
            "ratio": ratio,
            "floor": floor,
            "met": ratio >= floor,
            "read_back": {
                tool: all(
                    c["params_ok"] == c["params_expected"]
                    and c["metrics_ok"] == c["metrics_expected"]
                    for c in checks
                    if c["tool"] == tool
                )
                for tool in ("assay", "mlflow")
            },
        }
    return results


def render(data: dict[str, Any]) -> str:
    info, results = data["info"], data["results"]
    m = info["machine"]
    rows = []
    for mode, r in results.items():
        v = r["values_per_s"]
        met = "yes" if r["met"] else "**no**"
        read = "yes" if all(r["read_back"].values()) else "**no**"
        each = {
            tool: ", ".join(f"{x:,.0f}" for x in r["all_values_per_s"][tool])
            for tool in ("assay", "mlflow")
        }
        rows.append(
            f"| {mode} | {v['assay']:,.0f} ({each['assay']}) | {v['mlflow']:,.0f}"
            f" ({each['mlflow']}) | {r['ratio']:,.1f} | ≥ {r['floor']:g} | {met} | {read} |"
        )
    runs_of = {
        (r["tool"], r["mode"]): r["runs"] for r in data["records"] if r["task"] == "throughput"
    }
    versions = {r["tool"]: r["version"] for r in data["records"] if r["task"] == "versions"}
    return "\n".join(
        [
            BEGIN,
            "## Recording through a server (issue 16) vs MLflow's client through `mlflow server`",
            "",
            f"- date: {info['date']}",
            f"- machine: `nproc` {m['nproc']}, {m['cpu']}, {m['kernel']}; load average at"
            f" start {m['load']}",
            f"- versions: assay {versions.get('assay')} (commit {m['commit']},"
            f" {m['src_changes']} uncommitted change(s) under src/), MLflow"
            f" {versions.get('mlflow')} (latest on PyPI)",
            f"- command: `bash bench/tracking/setup_mlflow.sh && {info['command']}` (wall time"
            f" {info['wall_s'] / 60:.1f} min; raw records in `bench/served/results.json`)",
            "- workload: `bench/tracking`'s, 200 runs x (10 params + 5 metrics x 50 steps) ="
            " 2,000 params + 50,000 metric values per measurement; call by call (a"
            " `log_params` per param, a `log_metrics` per value; MLflow `log_param` /"
            " `log_metric`) and batched (assay: one `log_params`, one `log_metrics` per step;"
            " MLflow: one `log_batch` per run). The client process holds no store: assay's is"
            " pointed at the server with `ASSAY_SERVER_URL` (laptop authentication), MLflow's"
            " with `set_tracking_uri(URL)`.",
            f"- method: both servers on 127.0.0.1 over SQLite, side by side; each measurement a"
            f" fresh client process, {info['rounds']} rounds, the tools alternating; median"
            f" values/s. MLflow call by call logs for {info['budget_s']:g} s and is measured on"
            f" the runs it finished ({runs_of.get(('mlflow', 'call'), '?')} in the last round)."
            " Every value logged is read back through the same server (assay: `GET"
            " /runs/{id}/record` and `/metrics`; MLflow: `runs/search`,"
            " `metrics/get-history`) and compared with the workload's.",
            "",
            "| mode | assay values/s (each round) | MLflow values/s (each round) | ratio | floor |"
            " met? | all read back? |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            "Why assay's calls are cheap through a server: an ad hoc run buffers its values and"
            " sends them when the run ends (or every 10,000 values), in one request the server"
            " writes in one transaction; a run costs two requests (start, end) however many"
            " values it logs. MLflow's client sends one request per call.",
            END,
        ]
    )


def merge(section: str) -> None:
    w.merge_section(RESULTS_MD, BEGIN, END, section)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=w.RUNS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget-s", type=float, default=90.0)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--render-only", action="store_true", help="measure nothing: rewrite from results.json"
    )
    args = parser.parse_args()
    if args.render_only:
        merge(render(json.loads(RESULTS_JSON.read_text())))
        return
    if not (team.MLFLOW_BIN / "mlflow").exists():
        sys.exit(f"{team.MLFLOW_BIN / 'mlflow'} missing: run bash bench/tracking/setup_mlflow.sh")
    started = time.monotonic()
    info = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": w.machine(),
        "command": "python bench/served/harness.py" + "".join(f" {a}" for a in sys.argv[1:]),
        "runs": args.runs,
        "rounds": args.rounds,
        "budget_s": args.budget_s,
    }
    tmp = Path(tempfile.mkdtemp(prefix="bench-served-"))
    try:
        measured = measure(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    info["wall_s"] = time.monotonic() - started
    data = {"info": info, "results": summarise(measured["records"]), **measured}
    section = render(data)
    print(section)
    if not args.no_write:
        RESULTS_JSON.write_text(json.dumps(data, indent=1) + "\n")
        merge(section)
        print(f"wrote {RESULTS_JSON.relative_to(ROOT)} and {RESULTS_MD.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
