"""Tracking, side by side: assay against MLflow (SQLite backend store), reported as ratios.

1. Throughput: 200 runs x 10 params x 5 metrics x 50 steps (2,000 params + 50,000 metric
   values), (a) one log call per value, (b) batched (each tool in 3 processes, alternating;
   median); every value read back afterwards. assay's batched logging is also profiled.
2. Run search: a filtered, ordered search (``metrics.m1 > 0.5 and params.p1 = 'a'``,
   best m1 first, 100 runs) over 1,000 and 10,000 runs; median of 5 after one warm-up.

Each (tool, task) runs in a fresh process with its own TMPDIR: assay in this interpreter
(``run_assay.py``), MLflow in ``bench/.venvs/mlflow`` (``run_mlflow.py``); both print JSON
lines that this harness collects. Raw records go to ``bench/tracking/results.json`` and the
tracking section of ``bench/RESULTS.md`` is rewritten.

Usage: ``python bench/tracking/harness.py`` (first ``bash bench/tracking/setup_mlflow.sh``).
Smaller trial: ``python bench/tracking/harness.py --runs 20 --sizes 300 --no-write``;
``--render-only`` rewrites the section from ``results.json`` without measuring.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import workload as w  # beside this script: the shared workload and machine description

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
RESULTS_MD = BENCH / "RESULTS.md"
RAW_JSON = HERE / "results.json"
MLFLOW_PYTHON = BENCH / ".venvs" / "mlflow" / "bin" / "python"
BEGIN, END = "<!-- tracking:begin -->", "<!-- tracking:end -->"

# Floors (assay against MLflow).
FLOOR_CALL = 20.0  # call-by-call values/s, assay / MLflow, at least
FLOOR_BATCH = 5.0  # batched values/s, assay / MLflow, at least
FLOOR_QUERY = 10.0  # search latency at 10,000 runs, MLflow / assay, at least
FLOOR_QUERY_RUNS = 10_000

# Figures measured earlier on this machine, quoted for comparison.
EARLIER = {"call": 180.0, "batch": 3_600.0, "query_1000_s": 0.575}


def run_worker(tool: str, args: list[str], timeout: float) -> dict[str, Any]:
    """One worker process; its JSON records, wall time, and any error."""
    python = Path(sys.executable) if tool == "assay" else MLFLOW_PYTHON
    if not python.exists():
        return {
            "argv": args,
            "records": [],
            "error": f"{python} missing; run bash bench/tracking/setup_mlflow.sh",
        }
    argv = [str(python), str(HERE / f"run_{tool}.py"), *args]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"  # nothing to send it to; it only adds a thread
    env["PYTHONUNBUFFERED"] = "1"
    load = os.getloadavg()[0]
    print(f"== {tool} {' '.join(args)} (load average {load:.2f})", flush=True)
    with tempfile.TemporaryDirectory(prefix=f"bench-tracking-{tool}-") as tmp:
        env["TMPDIR"] = tmp
        start = dt.datetime.now(dt.UTC)
        try:
            done = subprocess.run(
                argv,
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            stdout, stderr, code = done.stdout, done.stderr, done.returncode
        except subprocess.TimeoutExpired as exc:
            stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
            stderr = f"timed out after {timeout:.0f} s"
            code = -1
        wall = (dt.datetime.now(dt.UTC) - start).total_seconds()
    records = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                records.append(json.loads(line))
    for record in records:
        print("   " + summary_line(record), flush=True)
    error = None if code == 0 else f"exit {code}: {stderr.strip()[-2000:]}"
    if error:
        print(f"   FAILED {error}", flush=True)
    return {
        "argv": args,
        "records": records,
        "wall_s": wall,
        "error": error,
        "load_before": load,
        "load_after": os.getloadavg()[0],
    }


def summary_line(r: dict[str, Any]) -> str:
    task = r.get("task")
    if task == "throughput":
        return (
            f"{r['mode']}: {r['runs']} runs, {r['values']} values in {r['seconds']:.2f} s "
            f"= {r['values_per_s']:,.0f} values/s"
        )
    if task == "verify":
        return (
            f"verify: {r['runs_stored']} runs, params {r['params_ok']}/{r['params_expected']}"
            f", metrics {r['metrics_ok']}/{r['metrics_expected']} {r['problems'] or ''}"
        )
    if task == "query":
        times = ", ".join(f"{k} {v['median_s'] * 1000:.1f} ms" for k, v in r["timings"].items())
        return f"query @{r['runs']}: {times}; rows {r['rows']}, ok {r['top_m1_matches_reference']}"
    if task == "create":
        return f"created {r['added']} runs (now {r['runs']}) in {r['seconds']:.1f} s"
    return json.dumps(r)[:200]


def find(results: list[dict[str, Any]], **want: Any) -> dict[str, Any] | None:
    for job in results:
        for record in job["records"]:
            if all(record.get(k) == v for k, v in want.items()):
                return record
    return None


def find_all(results: list[dict[str, Any]], **want: Any) -> list[dict[str, Any]]:
    return [
        record
        for job in results
        for record in job["records"]
        if all(record.get(k) == v for k, v in want.items())
    ]


def throughput_of(results: list[dict[str, Any]], tool: str, mode: str) -> dict[str, Any] | None:
    """The unprofiled throughput record with the median values/s, and all their values/s."""
    records = find_all(results, task="throughput", tool=tool, mode=mode, profiled=False)
    if not records:
        return None
    ordered = sorted(records, key=lambda r: r["values_per_s"])
    return {
        **ordered[(len(ordered) - 1) // 2],
        "all_values_per_s": [r["values_per_s"] for r in records],
    }


def ratio_text(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def met(value: float | None, floor: float) -> str:
    if value is None:
        return "not measured"
    return "yes" if value >= floor else "**no**"


def ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.1f}"


def profile_table(profile: dict[str, Any]) -> list[str]:
    lines = ["| part | calls | seconds | share |", "|---|---|---|---|"]
    for part in profile.get("parts", []):
        if not part["calls"]:
            continue  # a function this version of assay no longer calls
        label = part["part"]
        depth = (len(label) - len(label.lstrip(" "))) // 2
        indent = "&nbsp;&nbsp;&nbsp;&nbsp;" * depth + ("↳ " if depth else "")
        lines.append(
            f"| {indent}{label.strip()} | {part['calls']} | {part['cumtime_s']:.3f} "
            f"| {part['share'] * 100:.0f}% |"
        )
    return lines


def render(results: list[dict[str, Any]], info: dict[str, Any]) -> str:
    versions = {t: find(results, task="versions", tool=t) or {} for t in ("assay", "mlflow")}
    m = info["machine"]
    # Each assay worker reports the source it imported; they differ if src/ changed mid-run.
    loads = [job[key] for job in results for key in ("load_before", "load_after") if key in job]
    load_text = (
        f"; 1-minute load average before/after each worker: {min(loads):.2f} to"
        f" {max(loads):.2f} (2 cores; the worker itself keeps one busy)"
        if loads
        else ""
    )
    seen = find_all(results, task="versions", tool="assay")
    digests = sorted({r["src_sha256"] for r in seen if r.get("src_sha256")})
    commits = sorted({r["commit"] for r in seen if r.get("commit")})
    out = [
        BEGIN,
        "## Tracking: logging throughput and run search against MLflow",
        "",
        f"- date: {info['date']}",
        f"- machine: `nproc` {m['nproc']}, {m['cpu']}, {m['kernel']}, load average at start "
        f"{m['load']}{load_text}",
        f"- versions: assay {versions['assay'].get('version', '?')} (commit "
        f"{', '.join(commits) or m['commit']}, {m['src_changes']} uncommitted change(s) under"
        f" src/ at the start; sha256 of src/assay/**/*.py as imported: "
        f"{', '.join(digests) or '?'}), MLflow "
        f"{versions['mlflow'].get('version', '?')}; Python {versions['assay'].get('python', '?')} "
        f"/ {versions['mlflow'].get('python', '?')}, SQLite {versions['assay'].get('sqlite', '?')}"
        f" / {versions['mlflow'].get('sqlite', '?')}, SQLAlchemy "
        f"{versions['assay'].get('sqlalchemy', '?')} / {versions['mlflow'].get('sqlalchemy', '?')}"
        f", pandas {versions['assay'].get('pandas', '?')} / {versions['mlflow'].get('pandas', '?')}"
        " (assay / MLflow)",
        f"- command: `bash bench/tracking/setup_mlflow.sh && {info['command']}` "
        f"(harness wall time {info['wall_s'] / 60:.1f} min)",
        "- method: every (tool, task) in a fresh process with its own store under its own TMPDIR;"
        " assay in the project interpreter, MLflow in `bench/.venvs/mlflow` with a SQLite backend"
        " store (`sqlite:///TMP/mlflow.db`) and telemetry off (`MLFLOW_DISABLE_TELEMETRY`); the"
        " same names and values on both sides (`bench/tracking/workload.py`). Raw records:"
        " `bench/tracking/results.json`.",
        "",
    ]
    if len(digests) > 1:
        out += [
            "**Warning**: assay's source changed while the harness ran (the workers imported "
            f"{len(digests)} different versions); see `results.json` for which worker saw which.",
            "",
        ]

    # -- throughput ------------------------------------------------------------------------
    rows, ratios = [], {}
    for mode, floor, label in (
        ("call", FLOOR_CALL, "call by call (one call per value)"),
        ("batch", FLOOR_BATCH, "batched"),
    ):
        a, b = throughput_of(results, "assay", mode), throughput_of(results, "mlflow", mode)
        ratio = a["values_per_s"] / b["values_per_s"] if a and b else None
        ratios[mode] = ratio

        def cell(r: dict[str, Any] | None) -> str:
            if not r:
                return "failed"
            each = r["all_values_per_s"]
            if len(each) == 1:
                return f"{r['values_per_s']:,.0f} ({r['runs']} runs, {r['seconds']:.1f} s)"
            return (
                f"{r['values_per_s']:,.0f} (median of {len(each)} processes: "
                + ", ".join(f"{v:,.0f}" for v in each)
                + f"; {r['runs']} runs each)"
            )

        rows.append(
            f"| {label} | {cell(a)} | {cell(b)} | {ratio_text(ratio)} | ≥ {floor:g} | "
            f"{met(ratio, floor)} |"
        )
    mlflow_call = throughput_of(results, "mlflow", "call")
    out += [
        "### 1. Logging throughput (values/s; 200 runs x (10 params + 5 metrics x 50 steps) ="
        " 52,000 values)",
        "",
        "| workload | assay values/s | MLflow values/s | assay / MLflow | floor | met |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    if mlflow_call and mlflow_call["runs"] < mlflow_call["runs_asked"]:
        out += [
            f"MLflow call by call was stopped at its time budget after {mlflow_call['runs']} of "
            f"{mlflow_call['runs_asked']} runs; its values/s is over the runs it finished.",
            "",
        ]
    out += ["Durability (read back after the runs ended, untimed):", ""]
    for tool, reader in (
        (
            "assay",
            "`assay.Client(settings).runs(experiment=...)` for params, status and run"
            " count; `metrics_history(run, key)` for every metric value",
        ),
        (
            "mlflow",
            "`MlflowClient().search_runs` for params, status and run count;"
            " `get_metric_history(run, key)` for every metric value",
        ),
    ):
        for mode in ("call", "batch"):
            checks = find_all(results, task="verify", tool=tool, mode=mode)
            if not checks:
                out.append(f"- {tool} {mode}: not verified (the worker failed)")
                continue
            bad = [
                v
                for v in checks
                if v["problems"]
                or v["params_ok"] != v["params_expected"]
                or v["metrics_ok"] != v["metrics_expected"]
            ]
            v = bad[0] if bad else checks[0]
            each = f" in each of {len(checks)} processes" if len(checks) > 1 else ""
            verdict = (
                f"INCOMPLETE in {len(bad)} of {len(checks)}: " + "; ".join(v["problems"])
                if bad
                else "every value stored"
            )
            out.append(
                f"- {tool} {mode}: {v['runs_stored']} runs; params {v['params_ok']:,} of "
                f"{v['params_expected']:,} and metric values {v['metrics_ok']:,} of "
                f"{v['metrics_expected']:,} stored with the logged value and step{each} — "
                f"{verdict} (read through {reader})"
            )
    out.append("")

    # -- query -----------------------------------------------------------------------------
    sizes = sorted(
        {r["runs"] for job in results for r in job["records"] if r.get("task") == "query"}
    )
    out += [
        "### 2. Run search latency (ms, median of 5 after one warm-up)",
        "",
        "Search: `metrics.m1 > 0.5 and params.p1 = 'a'`, best `m1` first, 100 runs. Each run has"
        " params p1 (a/b/c), p2 (int), p3 (float) and metrics m1, m2, m3 logged at steps 0-2 (a"
        " search sees the last).",
        "",
        "| runs | assay `Client.runs` | assay `metadata.list_runs` | assay CLI in-process | "
        "MLflow `mlflow.search_runs` | MLflow `MlflowClient.search_runs` | MLflow / assay "
        "(search_runs / Client.runs) | floor | met | same 100 runs, same order |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    query_ratio: dict[int, float | None] = {}
    for size in sizes:
        a = find(results, task="query", tool="assay", runs=size)
        b = find(results, task="query", tool="mlflow", runs=size)
        at = (a or {}).get("timings", {})
        bt = (b or {}).get("timings", {})

        def get(t: dict[str, Any], key: str) -> float | None:
            return t[key]["median_s"] if key in t else None

        ca, cb = get(at, "Client.runs"), get(bt, "mlflow.search_runs")
        ratio = cb / ca if ca and cb else None
        query_ratio[size] = ratio
        floor_cell = f"≥ {FLOOR_QUERY:g}" if size == FLOOR_QUERY_RUNS else "(info)"
        met_cell = met(ratio, FLOOR_QUERY) if size == FLOOR_QUERY_RUNS else "—"
        same = [
            f"{tool} {'yes' if r and r['top_m1_matches_reference'] else 'NO'}"
            for tool, r in (("assay", a), ("MLflow", b))
            if r
        ]
        out.append(
            f"| {size:,} | {ms(ca)} | {ms(get(at, 'metadata.list_runs'))} | "
            f"{ms(get(at, 'cli runs list --json'))} | {ms(cb)} | "
            f"{ms(get(bt, 'MlflowClient.search_runs'))} | {ratio_text(ratio)} | {floor_cell} | "
            f"{met_cell} | {', '.join(same)} |"
        )
    skipped = [r for job in results for r in job["records"] if r.get("task") == "skipped"]
    for r in skipped:
        out.append(f"\nMLflow at {r['runs']:,} runs not measured: {r['reason']}.")
    creates = [r for job in results for r in job["records"] if r.get("task") == "create"]
    if creates:
        text = "; ".join(
            f"{r['tool']} {r['added']:,} runs in {r['seconds']:.0f} s" for r in creates
        )
        out += ["", f"Creating the runs (untimed setup): {text}."]
    out += [
        "",
        "'same 100 runs' checks the `m1` values returned, in order, against the reference"
        " computed in Python from the workload; the other assay and MLflow calls are checked"
        " to return the same run ids in the same order as `Client.runs` / `mlflow.search_runs`.",
        "",
    ]

    # -- what is timed -----------------------------------------------------------------------
    empty = {t: find(results, task="empty_run", tool=t, mode="call") for t in ("assay", "mlflow")}
    out += [
        "### What each timing includes",
        "",
        "- **assay call by call**: for each run, `with assay.start_run(experiment=...,"
        " settings=Settings.for_project(tmp)):` then `assay.log_params({k: v})` per param and"
        " `assay.log_metrics({key: value}, step=s)` per value. The time includes opening the"
        " store, recording the run with its environment (packages, host, `git status` of the"
        " script's folder), and the end of the block, where the buffered values are written in"
        " one transaction and the run is marked finished: the figure is for values on disk."
        " assay buffers values in memory until the block ends (or 10,000 values); a process"
        " killed inside the block loses them, an exception inside it does not.",
        "- **assay batched**: the same run, with one `log_params` holding all 10 params and one"
        " `log_metrics` per step holding the 5 metrics (assay's batch unit: a mapping per step).",
        "- **MLflow call by call**: for each run, `with mlflow.start_run(experiment_id=...):`"
        " then `mlflow.log_param(k, v)` per param and `mlflow.log_metric(key, value, step=s)` per"
        " value; every call is its own committed write to the SQLite store.",
        "- **MLflow batched**: `MlflowClient().create_run`, one `log_batch` with the run's 10"
        " params and 250 metric values, `set_terminated`.",
        "- **both**: the database is created (migrations) and one untimed warm-up run is logged"
        " before the clock starts; interpreter start-up and imports are excluded. Fixed cost of"
        " an empty run (`with start_run(): pass`): assay"
        f" {ms((empty['assay'] or {}).get('seconds'))} ms, MLflow"
        f" {ms((empty['mlflow'] or {}).get('seconds'))} ms.",
        "- **assay `Client.runs`**: filter and order parsed, the SQL run, rows turned into run"
        " records, last metric values fetched, a pandas DataFrame built; the Client is opened"
        " once, untimed. **`metadata.list_runs`**: the SQL and the run records only (filter"
        " parsed beforehand). **CLI in-process**: `assay.cli.main([--home, TMP, runs, list,"
        " --where, ..., --order-by, -metrics.m1, --limit, 100, --json])` with stdout captured:"
        " building the Typer app, opening the store, the search, JSON output.",
        "- **MLflow `mlflow.search_runs`**: the search plus its pandas DataFrame;"
        " **`MlflowClient.search_runs`**: the search returning Run entities.",
        "",
    ]

    # -- profile when a floor is missed -----------------------------------------------------
    missed = [
        name
        for name, ratio, floor in (
            ("batch", ratios.get("batch"), FLOOR_BATCH),
            ("call", ratios.get("call"), FLOOR_CALL),
        )
        if ratio is not None and ratio < floor
    ]
    q_ratio = query_ratio.get(FLOOR_QUERY_RUNS)
    q_missed = q_ratio is not None and q_ratio < FLOOR_QUERY
    state = (
        "floors missed: " + ", ".join([*missed, *(["search"] if q_missed else [])])
        if missed or q_missed
        else "every floor met; shown for reference"
    )
    out += [f"### Where assay's time goes ({state}; assay's code left as it is)", ""]
    profiled_modes = [m for m in ("batch", "call") if find(results, task="profile", mode=m)]
    for mode in profiled_modes:
        prof = find(results, task="profile", tool="assay", mode=mode)
        if not prof:
            continue
        per_run = prof["seconds"] / prof["runs"] * 1000
        plain = throughput_of(results, "assay", mode)
        empty = find(results, task="empty_run", tool="assay", mode=mode)
        if plain and empty:
            run_ms = plain["seconds"] / plain["runs"] * 1000
            empty_ms = empty["seconds"] * 1000
            mlflow_side = throughput_of(results, "mlflow", mode)
            out += [
                f"Without the profiler, a {mode} run of 260 values takes {run_ms:.1f} ms; an empty"
                f" run (`with assay.start_run(...): pass`, same process) takes {empty_ms:.1f} ms,"
                f" so about {empty_ms / run_ms * 100:.0f}% of the time is the fixed cost of a run"
                " (open the store, capture the environment, insert the run, finish it, close),"
                f" and about {run_ms - empty_ms:.1f} ms goes to buffering and writing the 260"
                " values"
                + (
                    f". MLflow's {mode} run costs "
                    f"{mlflow_side['seconds'] / mlflow_side['runs'] * 1000:.1f} ms."
                    if mlflow_side
                    else "."
                ),
                "",
            ]
        out += [
            f"**{mode} logging**, cProfile over {prof['runs']} runs ({prof['seconds']:.2f} s under"
            f" the profiler, {per_run:.1f} ms a run for 260 values; cumulative time, nested rows"
            " (↳) are part of the row above them; `calls` counts a generator's resumptions too;"
            " the profiler slows Python code more than SQLite and subprocess calls, so shares are"
            " indicative):",
            "",
            *profile_table(prof),
            "",
        ]
    if find(results, task="query_profile", tool="assay"):
        prof = find(results, task="query_profile", tool="assay") or {}
        raw = prof.get("raw_sql", {})
        out += [
            f"**search at {prof.get('runs', 0):,} runs**, cProfile over {prof.get('calls', 0)}"
            f" `Client.runs` calls ({prof.get('seconds', 0):.3f} s under the profiler):",
            "",
            *profile_table(prof),
            "",
        ]
        if "median_s" in raw:
            out += [
                "The search statement, rebuilt from the pieces `list_runs` uses"
                " (`assay.metadata.search`) and run straight through `sqlite3`: "
                f"{ms(raw['median_s'])} ms (median of 5), {raw['rows']} rows. SQLite's plan: "
                + "; ".join(f"`{p}`" for p in raw["plan"])
                + ".",
                "",
                "<details><summary>SQL</summary>",
                "",
                f"```sql\n{raw['sql']}\n```",
                "",
                "</details>",
                "",
            ]
        elif raw:
            out += [f"Raw SQL not timed: {raw.get('error')}", ""]

    # -- earlier figures ---------------------------------------------------------------------
    mq = find(results, task="query", tool="mlflow", runs=1000)
    mb = throughput_of(results, "mlflow", "batch")
    out += ["### Against the figures measured earlier on this machine", ""]
    if mlflow_call:
        out.append(
            f"- MLflow call by call: {EARLIER['call']:.0f} values/s earlier, "
            f"{mlflow_call['values_per_s']:,.0f} now."
        )
    if mb:
        out.append(
            f"- MLflow `log_batch`: {EARLIER['batch']:,.0f} values/s earlier, "
            f"{mb['values_per_s']:,.0f} now."
        )
    if mq:
        out.append(
            f"- MLflow search over 1,000 runs: {EARLIER['query_1000_s'] * 1000:.0f} ms earlier, "
            f"{ms(mq['timings']['mlflow.search_runs']['median_s'])} ms now (this workload: 3"
            " params, 3 metrics x 3 steps a run, telemetry off)."
        )
    out += ["", END]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="runs in the throughput test")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument(
        "--mlflow-budget-s",
        type=float,
        default=600.0,
        help="stop MLflow call-by-call logging, or skip a search size, past this",
    )
    parser.add_argument(
        "--batch-repeats", type=int, default=3, help="processes per tool for batched logging"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="leave bench/RESULTS.md and results.json alone"
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing: rewrite the section from bench/tracking/results.json",
    )
    args = parser.parse_args()
    if args.render_only:
        saved = json.loads(RAW_JSON.read_text())
        text = render(saved["jobs"], saved["info"])
        print(text)
        if not args.no_write:
            write_section(text)
        return
    started = dt.datetime.now(dt.UTC)
    info: dict[str, Any] = {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": w.machine(),
        "command": "python bench/tracking/harness.py"
        + "".join(f" {shlex.quote(a)}" for a in sys.argv[1:]),
    }
    budget = str(args.mlflow_budget_s)
    sizes = [str(s) for s in args.sizes]
    runs = str(args.runs)
    mlflow_limit = args.mlflow_budget_s + 900
    results = [
        run_worker("assay", ["throughput", "--mode", "call", "--runs", runs], 1800),
        run_worker(
            "mlflow",
            ["throughput", "--mode", "call", "--runs", runs, "--budget-s", budget],
            mlflow_limit,
        ),
    ]
    # Batched logging takes seconds, and varies from process to process: alternate the tools.
    for _ in range(args.batch_repeats):
        results.append(run_worker("assay", ["throughput", "--mode", "batch", "--runs", runs], 1800))
        results.append(
            run_worker(
                "mlflow",
                ["throughput", "--mode", "batch", "--runs", runs, "--budget-s", budget],
                mlflow_limit,
            )
        )
    results.append(run_worker("assay", ["query", "--sizes", *sizes], 3600))
    results.append(
        run_worker("mlflow", ["query", "--sizes", *sizes, "--budget-s", budget], 2 * mlflow_limit)
    )
    # Where assay's logging time goes: batched always (its floor is the tight one), call by
    # call when its floor is missed; each in a fresh process, under cProfile.
    for mode, floor in (("call", FLOOR_CALL), ("batch", FLOOR_BATCH)):
        a, b = throughput_of(results, "assay", mode), throughput_of(results, "mlflow", mode)
        if mode == "batch" or (a and b and a["values_per_s"] / b["values_per_s"] < floor):
            results.append(
                run_worker(
                    "assay", ["throughput", "--mode", mode, "--runs", runs, "--profile"], 1800
                )
            )
    info["wall_s"] = (dt.datetime.now(dt.UTC) - started).total_seconds()
    text = render(results, info)
    print()
    print(text)
    if not args.no_write:
        RAW_JSON.write_text(json.dumps({"info": info, "jobs": results}, indent=1) + "\n")
        write_section(text)
        print(f"\nwrote {RESULTS_MD.relative_to(ROOT)} and {RAW_JSON.relative_to(ROOT)}")
    if any(job["error"] for job in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
