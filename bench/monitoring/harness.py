"""Data drift, side by side: assay's ``compare_frames`` against Evidently's data-drift report.

Synthetic tables of 20 columns (14 numeric, 6 categorical with 10 to 50 levels; ``data.py``)
at 1k, 10k, 100k and 1M rows, reference and current of the same size, 5 columns shifted (one
only by 0.1 standard deviation). For each size, each tool compares the same two parquet files
in its own fresh process (assay in this interpreter with the working tree's ``src/`` first on
``sys.path``, Evidently in ``bench/.venvs/evidently``), one process at a time, never two
together: wall time, peak RSS, and the columns it flags. Every size is run 3 times per tool
(``--repeats``, ``--large-repeats`` for 1M rows; tools alternating); the median time and the
largest peak are reported. Before every run the harness waits for any test run on the machine
to end, and a run during which other processes used more than a quarter of a core is run
again.

Floors (the monitoring issue): at 1M rows assay at least 20x faster than Evidently and at
most half its peak memory; all 5 shifted columns flagged by assay at 100k and 1M rows; no
unshifted column flagged by assay at any size.

Raw records go to ``bench/monitoring/results.json`` and the monitoring section of
``bench/RESULTS.md`` is rewritten.

Usage: ``bash bench/monitoring/setup.sh && python bench/monitoring/harness.py``.
Quick trial: ``python bench/monitoring/harness.py --sizes 1000 10000 --no-write``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import data
import pandas as pd

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
RESULTS_MD = BENCH / "RESULTS.md"
RAW_JSON = HERE / "results.json"
EVIDENTLY_PYTHON = BENCH / ".venvs" / "evidently" / "bin" / "python"
BEGIN, END = "<!-- monitoring:begin -->", "<!-- monitoring:end -->"
COMMAND = "bash bench/monitoring/setup.sh && python bench/monitoring/harness.py"

SIZES = [1_000, 10_000, 100_000, 1_000_000]
TOOLS = ("assay", "evidently")
LABEL = {"assay": "assay", "evidently": "Evidently"}

# Floors (the monitoring issue).
FLOOR_SPEED = 20.0  # Evidently / assay wall time at FLOOR_ROWS, at least
FLOOR_MEMORY = 0.5  # assay / Evidently peak RSS at FLOOR_ROWS, at most
FLOOR_ROWS = 1_000_000
RECALL_SIZES = (100_000, 1_000_000)  # every shifted column flagged at these sizes

# Evidently's figures quoted in the issue (same machine, earlier).
ISSUE_WALL_S = {100_000: "about 12 s", 1_000_000: "110-140 s"}
ISSUE_PEAK = "2.3 GB"  # at 1M rows

# A run during which the rest of the machine used more CPU than this (in cores, averaged over
# the run) is run again, up to RETRIES times; the last attempt is kept whatever it saw.
DISTURBED_CORES = 0.25
RETRIES = 2

BUSY_PATTERN = "python[0-9.]* -m pytest"  # a test run on this machine: wait for it to end
BUSY_POLL_S = 20.0
BUSY_MAX_S = 15 * 60.0


def wait_until_idle(max_s: float = BUSY_MAX_S) -> dict[str, Any]:
    """Poll until no process matches BUSY_PATTERN (at most ``max_s``); how long it took."""
    start = time.monotonic()
    waited = False
    while True:
        found = subprocess.run(
            ["pgrep", "-f", BUSY_PATTERN], capture_output=True, text=True, check=False
        ).stdout.split()
        found = [pid for pid in found if int(pid) != os.getpid()]
        elapsed = time.monotonic() - start
        if not found:
            return {"waited_s": round(elapsed, 1), "clear": True}
        if elapsed >= max_s:
            print(f"   still busy after {elapsed:.0f} s ({BUSY_PATTERN}); measuring anyway")
            return {"waited_s": round(elapsed, 1), "clear": False}
        if not waited:
            print(
                f"== waiting for '{BUSY_PATTERN}' (pids {', '.join(found)}) to finish", flush=True
            )
            waited = True
        time.sleep(BUSY_POLL_S)


def run_tool(tool: str, folder: Path, timeout: float = 900.0) -> dict[str, Any]:
    """One runner process for one tool and size; its JSON record, wall time and any error."""
    python = Path(sys.executable) if tool == "assay" else EVIDENTLY_PYTHON
    if not python.exists():
        return {"tool": tool, "error": f"{python} missing; run bash bench/monitoring/setup.sh"}
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env["PYTHONUNBUFFERED"] = "1"
    if tool == "assay":  # the working tree's assay, whatever the interpreter has installed
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
    else:
        env.pop("PYTHONPATH", None)
    argv = [str(python), str(HERE / f"run_{tool}.py"), str(folder)]
    load = os.getloadavg()[0]
    busy_before, children_before = busy_cpu_s(), children_cpu_s()
    start = time.perf_counter()
    try:
        done = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        stdout, stderr, code = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        stderr, code = f"timed out after {timeout:.0f} s", -1
    wall = time.perf_counter() - start
    runner_cpu = children_cpu_s() - children_before
    others_cpu = max(0.0, busy_cpu_s() - busy_before - runner_cpu)
    record: dict[str, Any] = {}
    for line in stdout.splitlines():
        if line.startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                record = json.loads(line)
    record |= {
        "tool": tool,
        "process_wall_s": wall,
        "process_cpu_s": runner_cpu,
        "others_cores": others_cpu / wall,  # other processes' CPU while it ran, in cores
        "load_before": load,
    }
    if code != 0 or "flagged" not in record:
        record["error"] = f"exit {code}: {stderr.strip()[-2000:]}"
    return record


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (all cores, /proc/stat)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    return 0.0


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def summary(r: dict[str, Any]) -> str:
    if "error" in r:
        return f"{r['tool']}: FAILED {r['error'][:300]}"
    return (
        f"{r['tool']}: compute {r['compute_s']:.2f} s, with load {r['total_s']:.2f} s, "
        f"peak {r['peak_rss_mib']:,.0f} MiB, flagged {len(r['flagged'])}: "
        f"{', '.join(r['flagged'])}; other processes {r['others_cores']:.2f} cores"
    )


def scipy_import_probe() -> float | None:
    """Seconds for the scipy imports that assay's drift functions make on first use, in a
    fresh process that has already imported pandas (as assay's runner has)."""
    code = (
        "import pandas, time; t = time.perf_counter(); "
        "from scipy.stats import kstwo, chi2_contingency; "
        "from scipy.spatial.distance import jensenshannon; "
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    try:
        return float(out.stdout.strip())
    except ValueError:
        return None


# --- figures -----------------------------------------------------------------------------


def ok(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if "error" not in r]


def median_record(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The successful record with the median compute time (lower median)."""
    good = sorted(ok(records), key=lambda r: r["compute_s"])
    return good[(len(good) - 1) // 2] if good else None


def verdict(flagged: list[str]) -> dict[str, list[str]]:
    shifted = set(data.SHIFTED)
    return {
        "false_alarms": [c for c in flagged if c not in shifted],
        "misses": [c for c in data.SHIFTED if c not in flagged],
    }


def aggregate(runs: list[dict[str, Any]], sizes: list[int]) -> dict[str, Any]:
    """Per size and tool: median times, largest peak, flags (and whether repeats agreed)."""
    out: dict[str, Any] = {}
    for rows in sizes:
        per_tool: dict[str, Any] = {}
        for tool in TOOLS:
            records = [
                r
                for r in runs
                if r.get("tool") == tool and r.get("size") == rows and r.get("kept", True)
            ]
            mid = median_record(records)
            if mid is None:
                per_tool[tool] = {"error": next((r["error"] for r in records), "not run")}
                continue
            good = ok(records)
            per_tool[tool] = {
                "repeats": len(good),
                "failed": len(records) - len(good),
                "compute_s": statistics.median(r["compute_s"] for r in good),
                "total_s": statistics.median(r["total_s"] for r in good),
                "load_s": statistics.median(r["load_s"] for r in good),
                "import_s": statistics.median(r["import_s"] for r in good),
                "compute_cpu_s": statistics.median(r["compute_cpu_s"] for r in good),
                "all_compute_s": [r["compute_s"] for r in good],
                "peak_rss_mib": max(r["peak_rss_mib"] for r in good),
                "all_peak_rss_mib": [r["peak_rss_mib"] for r in good],
                "rss_after_import_mib": statistics.median(
                    r["memory"]["rss_import_mib"] for r in good
                ),
                "rss_after_load_mib": statistics.median(r["memory"]["rss_load_mib"] for r in good),
                "tables_mib": mid.get("tables_mib"),
                "others_cores": max(r.get("others_cores", 0.0) for r in good),
                "discarded": sum(
                    1
                    for r in runs
                    if r.get("tool") == tool and r.get("size") == rows and not r.get("kept", True)
                ),
                "flagged": mid["flagged"],
                "flags_agree": all(r["flagged"] == mid["flagged"] for r in good),
                **verdict(mid["flagged"]),
                "columns": mid["columns"],
            }
        out[str(rows)] = per_tool
    return out


def floors(agg: dict[str, Any], sizes: list[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    big = agg.get(str(FLOOR_ROWS), {})
    a, e = big.get("assay", {}), big.get("evidently", {})
    measured = "compute_s" in a and "compute_s" in e
    speed = e["compute_s"] / a["compute_s"] if measured else None
    memory = a["peak_rss_mib"] / e["peak_rss_mib"] if measured else None
    rows.append(
        {
            "floor": f"wall time at {FLOOR_ROWS:,} rows, Evidently / assay",
            "value": speed,
            "text": "—" if speed is None else f"{speed:,.1f}x",
            "target": f"≥ {FLOOR_SPEED:g}x",
            "met": None if speed is None else speed >= FLOOR_SPEED,
        }
    )
    rows.append(
        {
            "floor": f"peak RSS at {FLOOR_ROWS:,} rows, assay / Evidently",
            "value": memory,
            "text": "—" if memory is None else f"{memory:.3f}",
            "target": f"≤ {FLOOR_MEMORY:g}",
            "met": None if memory is None else memory <= FLOOR_MEMORY,
        }
    )
    if measured:
        rows.append(
            {
                "floor": f"wall time with load at {FLOOR_ROWS:,} rows, Evidently / assay (info)",
                "value": e["total_s"] / a["total_s"],
                "text": f"{e['total_s'] / a['total_s']:,.1f}x",
                "target": "—",
                "met": None,
                "info": True,
            }
        )
        grow_a = a["peak_rss_mib"] - a["rss_after_import_mib"]
        grow_e = e["peak_rss_mib"] - e["rss_after_import_mib"]
        rows.append(
            {
                "floor": f"peak RSS above the RSS after imports at {FLOOR_ROWS:,} rows, "
                "assay / Evidently (info)",
                "value": grow_a / grow_e,
                "text": f"{grow_a / grow_e:.2f} ({grow_a:,.0f} / {grow_e:,.0f} MiB)",
                "target": "—",
                "met": None,
                "info": True,
            }
        )
    for size in RECALL_SIZES:
        got = agg.get(str(size), {}).get("assay", {})
        misses = got.get("misses")
        rows.append(
            {
                "floor": f"shifted columns flagged by assay at {size:,} rows",
                "value": None if misses is None else len(data.SHIFTED) - len(misses),
                "text": "—"
                if misses is None
                else f"{len(data.SHIFTED) - len(misses)} of {len(data.SHIFTED)}"
                + (f" (missed: {', '.join(misses)})" if misses else ""),
                "target": f"all {len(data.SHIFTED)}",
                "met": None if misses is None else not misses,
            }
        )
    for size in sizes:
        got = agg.get(str(size), {}).get("assay", {})
        alarms = got.get("false_alarms")
        rows.append(
            {
                "floor": f"unshifted columns flagged by assay at {size:,} rows",
                "value": None if alarms is None else len(alarms),
                "text": "—"
                if alarms is None
                else f"{len(alarms)}" + (f" ({', '.join(alarms)})" if alarms else ""),
                "target": "0",
                "met": None if alarms is None else not alarms,
            }
        )
    return rows


# --- environment ---------------------------------------------------------------------------


def git(*args: str) -> str:
    out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return out.stdout.strip()


def machine() -> dict[str, Any]:
    cpu, mem_kib = "", 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    sources = sorted((ROOT / "src" / "assay").rglob("*.py"))
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    monitoring = hashlib.sha256()
    for path in sorted((ROOT / "src" / "assay" / "monitoring").glob("*.py")):
        monitoring.update(path.name.encode() + b"\0" + path.read_bytes())
    changed = [line for line in git("status", "--porcelain", "--", "src").splitlines() if line]
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kib / 1024**2, 1),
        "kernel": f"{platform.system()} {platform.release()}",
        "load_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "commit": git("rev-parse", "HEAD"),
        "src_changes": changed,
        "src_sha256": digest.hexdigest()[:12],
        "monitoring_sha256": monitoring.hexdigest()[:12],
    }


# --- report --------------------------------------------------------------------------------


def fmt_s(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.3f}" if value < 1 else f"{value:,.2f}"


def names(columns: list[str]) -> str:
    return ", ".join(f"`{c}`" for c in columns) if columns else "none"


def cell(tool: str, c: dict[str, Any] | None) -> str:
    """One column's verdict and score, for the per-column table."""
    if c is None:
        return "—"
    mark = "**drift**" if c["drift"] else "ok"
    if tool == "assay":
        return f"{mark} (p<sub>adj</sub> {num(c['adjusted_p_value'])})"
    method = c["method"].replace(" p_value", " p").replace(" distance", "")
    method = method.replace("Wasserstein (normed)", "W/sd").replace("Jensen-Shannon", "JS")
    return f"{mark} ({method} {score(c)} / {c['threshold']:g})"


def score(c: dict[str, Any]) -> str:
    """Evidently's score, with more digits where it lies within 5% of its threshold."""
    value, threshold = c["score"], c["threshold"]
    if isinstance(value, float) and threshold and abs(value - threshold) < 0.05 * threshold:
        return f"{value:.5f}"
    return num(value)


def num(value: float | str) -> str:
    if isinstance(value, str):
        return value
    if value == 0:
        return "0"
    if abs(value) < 1e-3 or abs(value) >= 1e4:
        return f"{value:.1e}"
    return f"{value:.3f}"


def render(result: dict[str, Any]) -> str:
    info, agg, sizes = result["machine"], result["aggregate"], result["sizes"]
    versions = result["versions"]
    lines = [
        BEGIN,
        "## Monitoring: data drift against Evidently",
        "",
        f"- date: {result['date']}",
        f"- machine: `nproc` {info['nproc']}, {info['cpu']}, {info['memory_gib']:g} GiB, "
        f"{info['kernel']}; load average at start {info['load_at_start']}"
        + (
            f"; waited {result['idle']['waited_s']:.0f} s in all for a test run on the machine "
            "to end before measuring"
            if result["idle"]["waited_s"] > 0
            else ""
        )
        + ("" if result["idle"]["clear"] else " (**it had not ended; figures taken beside it**)"),
        f"- versions: assay {versions['assay']} (commit {info['commit'][:7]}, "
        f"{len(info['src_changes'])} uncommitted change(s) under src/ at the start; sha256 of "
        f"src/assay/**/*.py: {info['src_sha256']}, of src/assay/monitoring/*.py: "
        f"{info['monitoring_sha256']}), Evidently {versions['evidently']}; "
        + ", ".join(
            f"{lib} {versions['assay_libs'].get(lib, '?')} / "
            f"{versions['evidently_libs'].get(lib, '?')}"
            for lib in ("python", "pandas", "numpy", "scipy", "pyarrow")
        )
        + " (assay / Evidently)",
        f"- command: `{COMMAND}` (harness wall time {result['harness_wall_s'] / 60:.1f} min)",
        "- data (`bench/monitoring/data.py`, seeded): 20 columns, 14 numeric (normal, "
        "lognormal, exponential, uniform, gamma, Student t, 3 integer-valued) and 6 categorical "
        "(10 to 50 levels, Zipf-like frequencies); reference and current of N rows each, "
        "independent draws from the same distributions except 5 shifted columns: "
        + "; ".join(f"`{c}` {note}" for c, note in data.SHIFT_NOTES.items())
        + f". In the current window only, {names(data.NEW_LEVEL_COLUMNS)} (unshifted) each hold "
        f"{data.NEW_LEVEL_ROWS} rows of a level the reference never has (0.5% of the rows at "
        f"1,000, a vanishing share at larger sizes). Both tools read the same parquet files "
        "(categorical columns stored as pandas `category` with string levels).",
        "- settings: assay `compare_frames(reference, current, categorical=[the 6], "
        "alpha=0.01, min_rows=100, workers=2)` (KS for numbers, chi-square of homogeneity for "
        "categories, Holm's correction over the 20 columns) then `report.to_dict()`; Evidently "
        "`Report([DataDriftPreset()], include_tests=True).run(current, reference)` with its "
        "defaults (column types inferred; up to 1,000 rows KS and chi-square p < 0.05, beyond "
        "that Wasserstein distance / sd ≥ 0.1 and Jensen-Shannon distance ≥ 0.1) then "
        "`snapshot.dict()`; a column counts as flagged by Evidently when its Value Drift test "
        "fails (the count always matched the preset's `DriftedColumnsCount`"
        + ("" if result["evidently_counts_match"] else " — **except in some runs, see raw**")
        + ").",
        "- method: each (tool, size) in a fresh process, one at a time; "
        + ", ".join(f"{result['repeats'][str(n)]}x at {n:,}" for n in sizes)
        + " rows per tool (tools alternating), median wall time, largest peak. "
        "**wall** = from the data in memory to the result dict (the tool's whole comparison); "
        "**with load** adds reading the two parquet files; interpreter start and imports are "
        "excluded (shown apart). **peak RSS** = the runner process's `ru_maxrss` at its end "
        "(interpreter, imports, both tables and the comparison). **others' CPU**: CPU time "
        "the rest of the machine used while the runner ran (/proc/stat less the runner's own), "
        "in cores, the largest of the runs kept (2 cores in all); a run that saw more than "
        f"{DISTURBED_CORES:g} was run again (up to {RETRIES} times; the last attempt kept "
        "whatever it saw), "
        + (
            f"{result['discarded']} run(s) set aside so"
            if result["discarded"]
            else "none had to be"
        )
        + ". Raw records (every attempt): "
        "`bench/monitoring/results.json`.",
        "",
    ]
    for rows in sizes:
        per = agg[str(rows)]
        lines += [
            f"### {rows:,} rows",
            "",
            "| tool | wall s | with load s | imports s | peak RSS MiB | flagged | false alarms "
            "(flagged, unshifted) | misses (shifted, not flagged) | others' CPU, cores |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for tool in TOOLS:
            t = per[tool]
            if "error" in t:
                lines.append(f"| {LABEL[tool]} | failed: {t['error'][:200]} | | | | | | | |")
                continue
            spread = (
                f" ({', '.join(fmt_s(x) for x in t['all_compute_s'])})"
                if len(t["all_compute_s"]) > 1
                else ""
            )
            lines.append(
                f"| {LABEL[tool]} | {fmt_s(t['compute_s'])}{spread} | {fmt_s(t['total_s'])} | "
                f"{fmt_s(t['import_s'])} | {t['peak_rss_mib']:,.0f} | {len(t['flagged'])} | "
                f"{len(t['false_alarms'])}: {names(t['false_alarms'])} | "
                f"{len(t['misses'])}: {names(t['misses'])} | {t['others_cores']:.2f} |"
            )
        a, e = per.get("assay", {}), per.get("evidently", {})
        if "compute_s" in a and "compute_s" in e:
            lines += [
                "",
                f"Evidently / assay: wall {e['compute_s'] / a['compute_s']:,.1f}x, with load "
                f"{e['total_s'] / a['total_s']:,.1f}x; peak RSS assay / Evidently "
                f"{a['peak_rss_mib'] / e['peak_rss_mib']:.3f}.",
            ]
        disagree = [
            LABEL[t] for t in TOOLS if "flags_agree" in per[t] and not per[t]["flags_agree"]
        ]
        if disagree:
            lines.append(f"Flags differed between repeats for: {', '.join(disagree)} (see raw).")
        lines.append("")
    lines += [
        "### Memory (MiB; RSS of the runner process, median of its runs; peak the largest)",
        "",
        "| rows | tool | after imports | after loading both tables | peak | peak - after loading "
        "| peak, each run |",
        "|---|---|---|---|---|---|---|",
    ]
    for rows in sizes:
        for tool in TOOLS:
            t = agg[str(rows)][tool]
            if "peak_rss_mib" not in t:
                continue
            lines.append(
                f"| {rows:,} | {LABEL[tool]} | {t['rss_after_import_mib']:,.0f} | "
                f"{t['rss_after_load_mib']:,.0f} | {t['peak_rss_mib']:,.0f} | "
                f"{t['peak_rss_mib'] - t['rss_after_load_mib']:,.0f} | "
                f"{', '.join(f'{x:,.0f}' for x in t['all_peak_rss_mib'])} |"
            )
    lines += [
        "",
        "### Floors (the monitoring issue)",
        "",
        "| floor | measured | target | met |",
        "|---|---|---|---|",
    ]
    for f in result["floors"]:
        met = "—" if f.get("info") else "not measured" if f["met"] is None else "yes"
        met = "**no**" if f["met"] is False else met
        lines.append(f"| {f['floor']} | {f['text']} | {f['target']} | {met} |")
    missed = [f["floor"] for f in result["floors"] if f["met"] is False]
    unmeasured = [f["floor"] for f in result["floors"] if f["met"] is None and not f.get("info")]
    verdicts = [f"Not met: {'; '.join(missed)}."] if missed else []
    verdicts += [f"Not measured: {'; '.join(unmeasured)}."] if unmeasured else []
    lines += [
        "",
        " ".join(verdicts) or "Every floor met.",
        "",
        "### Each column's verdict",
        "",
        "assay: its verdict and Holm-adjusted p-value (drift when < 0.01); Evidently: its "
        "verdict, the test it chose with its score and threshold (p-values: drift below; W/sd "
        "and JS distances: drift at or above).",
        "",
        "| column | shift | "
        + " | ".join(f"{LABEL[t]} {n:,}" for n in sizes for t in TOOLS)
        + " |",
        "|---|---|" + "---|" * (len(sizes) * len(TOOLS)),
    ]
    for column in data.COLUMNS:
        shift = data.SHIFT_NOTES.get(column, "")
        if column in data.NEW_LEVEL_COLUMNS:
            shift = f"none; {data.NEW_LEVEL_ROWS} rows of a new level in current"
        cells = [
            cell(t, agg[str(n)].get(t, {}).get("columns", {}).get(column))
            for n in sizes
            for t in TOOLS
        ]
        lines.append(f"| `{column}` | {shift or 'none'} | " + " | ".join(cells) + " |")
    lines += ["", *result.get("notes", []), "", *against_issue(result)]
    if result.get("src_changed"):
        lines += [
            "**assay's source under src/ changed while the harness ran** (sha256 "
            f"{info['src_sha256']} at the start, {result['src_sha256_end']} at the end): the "
            "runs may mix two versions; run it again.",
            "",
        ]
    lines.append(END)
    return "\n".join(lines)


def notes(result: dict[str, Any]) -> list[str]:
    """Observations drawn from the figures (no judgement added by hand)."""
    out = ["### Notes", ""]
    agg, sizes = result["aggregate"], result["sizes"]
    probe = result.get("scipy_import_s")
    small = agg.get(str(min(sizes)), {}).get("assay", {})
    if probe is not None and "compute_s" in small:
        out.append(
            f"- assay imports `scipy.stats` and `scipy.spatial.distance` on its first drift "
            f"call, inside the timed part: {probe:.2f} s in a fresh process (median of 3), of "
            f"assay's {small['compute_s']:.2f} s at {min(sizes):,} rows. Evidently imports "
            "SciPy with itself (under imports)."
        )
    big = agg.get(str(max(sizes)), {})
    for tool in TOOLS:
        t = big.get(tool, {})
        if "peak_rss_mib" in t and t.get("tables_mib"):
            out.append(
                f"- {LABEL[tool]}'s peak at {max(sizes):,} rows, {t['peak_rss_mib']:,.0f} MiB: "
                f"{t['rss_after_import_mib']:,.0f} after the interpreter and imports, "
                f"{t['rss_after_load_mib'] - t['rss_after_import_mib']:,.0f} more once the two "
                f"parquet files are read (the two tables take {t['tables_mib']:,.1f} MiB in "
                "pandas; the rest is memory the parquet reader and the code it loads kept), "
                f"{t['peak_rss_mib'] - t['rss_after_load_mib']:,.0f} more at the comparison's "
                "peak (medians of the runs for the first two, the largest peak for the last)."
            )
    for rows in sizes:
        e = agg[str(rows)].get("evidently", {}).get("columns", {}).get(data.SLIGHT)
        a = agg[str(rows)].get("assay", {}).get("columns", {}).get(data.SLIGHT)
        if e and a:
            out.append(
                f"- slight shift (`{data.SLIGHT}`, +0.1 sd) at {rows:,} rows: Evidently "
                f"{e['method']} {score(e)} against {e['threshold']:g} "
                f"({'flagged' if e['drift'] else 'not flagged'}); assay KS p "
                f"{num(a['p_value'])}, adjusted {num(a['adjusted_p_value'])}, Wasserstein/sd "
                f"{num(a['effect_size'])} ({'flagged' if a['drift'] else 'not flagged'})."
            )
    for rows in sizes:
        cols = agg[str(rows)].get("evidently", {}).get("columns", {})
        new = [
            c
            for c in data.NEW_LEVEL_COLUMNS
            if c in cols and cols[c]["drift"] and cols[c]["score"] in (0, 0.0)
        ]
        if new:
            out.append(
                f"- Evidently at {rows:,} rows: chi-square p-value exactly 0 for {names(new)}, "
                "the columns with a level seen only in the current window (its expected count "
                "from the reference is 0, so the statistic is infinite)."
            )
    for rows in sizes:
        cols = agg[str(rows)].get("evidently", {}).get("columns", {})
        for column in data.CATEGORICAL_COLUMNS:
            c = cols.get(column)
            if not c or not c["drift"] or column in data.SHIFTED or c["score"] in (0, 0.0):
                continue
            level, ref, cur, part = largest_contribution(result["folders"][str(rows)], column)
            out.append(
                f"- Evidently at {rows:,} rows flags `{column}` (unshifted, no new level): "
                f"{c['method']} {num(c['score'])}. Its chi-square is a goodness-of-fit test "
                "that takes the reference's counts as the exact expected frequencies; the "
                f"largest term is level `{level}`, {ref} rows in the reference and {cur} in "
                f"the current window (term {part:.1f}), sampling noise on "
                "both sides of a column drawn from one distribution."
            )
    for rows in sizes:
        cols = agg[str(rows)].get("evidently", {}).get("columns", {})
        numeric = [
            c
            for c in data.NUMERIC_COLUMNS
            if c not in data.SHIFTED and cols.get(c, {}).get("drift")
        ]
        if numeric:
            out.append(
                f"- Evidently at {rows:,} rows flags unshifted numeric {names(numeric)} "
                f"({', '.join(num(cols[c]['score']) for c in numeric)} against "
                f"{cols[numeric[0]]['threshold']:g}, each column tested on its own with no "
                f"correction for the {len(data.COLUMNS)} tests)."
            )
    return out


def against_issue(result: dict[str, Any]) -> list[str]:
    """Evidently's figures here beside those the issue quotes (same machine, earlier)."""
    agg, sizes = result["aggregate"], result["sizes"]
    out = ["### Against Evidently's figures quoted in the issue (same machine, earlier)", ""]
    for rows, quoted in ISSUE_WALL_S.items():
        e = agg.get(str(rows), {}).get("evidently", {})
        if "compute_s" in e:
            extra = ""
            if rows == FLOOR_ROWS:
                extra = f"; peak {ISSUE_PEAK} in the issue, {e['peak_rss_mib']:,.0f} MiB here"
            out.append(
                f"- {rows:,} rows: {quoted} in the issue, {e['compute_s']:.1f} s here (wall; "
                f"{e['total_s']:.1f} s with load){extra}."
            )
    big = agg.get(str(FLOOR_ROWS), {}).get("evidently", {}).get("columns", {}).get(data.SLIGHT)
    if big:
        out.append(
            f"- the slight shift at {FLOOR_ROWS:,} rows: missed in the issue; here "
            + ("flagged" if big["drift"] else "missed")
            + f", {big['method']} {score(big)} against {big['threshold']:g}: at this size the "
            "score is the realised shift of the seeded draw, and it sits on the threshold."
        )
    small = agg.get(str(min(sizes)), {}).get("evidently", {})
    if min(sizes) == 1_000 and "false_alarms" in small:
        cats = [c for c in small["false_alarms"] if c in data.CATEGORICAL_COLUMNS]
        others = [c for c in small["false_alarms"] if c not in data.CATEGORICAL_COLUMNS]
        out.append(
            f"- 1,000 rows: false alarms on 3 unshifted categorical columns in the issue; here "
            f"on {len(cats)} ({names(cats)})"
            + (f" and {len(others)} numeric ({names(others)})" if others else "")
            + "."
        )
    return [*out, ""] if len(out) > 2 else []


def largest_contribution(folder: str, column: str) -> tuple[str, int, int, float]:
    """The level with the largest term of Evidently's chi-square, with its counts."""
    ref = pd.read_parquet(Path(folder) / "reference.parquet", columns=[column])[column]
    cur = pd.read_parquet(Path(folder) / "current.parquet", columns=[column])[column]
    ref_counts = ref.astype(str).value_counts()
    cur_counts = cur.astype(str).value_counts()
    best = ("", 0, 0, -1.0)
    for level, r in ref_counts.items():
        c = int(cur_counts.get(level, 0))
        expected = r * len(cur) / len(ref)  # as Evidently's chi-square takes it
        term = (c - expected) ** 2 / expected if r else float("inf")
        if term > best[3]:
            best = (str(level), int(r), c, float(term))
    return best


def write_section(text: str) -> None:
    current = RESULTS_MD.read_text() if RESULTS_MD.exists() else "# Benchmark results\n"
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        updated = head + text + rest.split(END, 1)[1]
    else:
        updated = current.rstrip("\n") + "\n\n" + text + "\n"
    RESULTS_MD.write_text(updated)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    parser.add_argument(
        "--repeats", type=int, default=3, help="processes per tool at sizes below 1M rows"
    )
    parser.add_argument(
        "--large-repeats", type=int, default=3, help="processes per tool at 1M rows"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="leave bench/RESULTS.md and results.json alone"
    )
    parser.add_argument("--no-wait", action="store_true", help="do not wait for a test run")
    args = parser.parse_args()
    started = time.perf_counter()
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    sizes = sorted(set(args.sizes))
    print(f"== data: {', '.join(f'{n:,}' for n in sizes)} rows", flush=True)
    folders = {rows: data.ensure(rows) for rows in sizes}
    idle = {"waited_s": 0.0, "clear": True} if args.no_wait else wait_until_idle()
    info = machine()  # the load average after the wait
    repeats = {str(n): (args.repeats if n < FLOOR_ROWS else args.large_repeats) for n in sizes}
    runs: list[dict[str, Any]] = []
    for rows in sizes:
        for i in range(repeats[str(rows)]):
            order = TOOLS if i % 2 == 0 else TOOLS[::-1]
            for tool in order:
                for attempt in range(1 + RETRIES):
                    if not args.no_wait:  # before every run: a test run may start at any time
                        waited = wait_until_idle()
                        idle["waited_s"] += waited["waited_s"]
                        idle["clear"] = idle["clear"] and waited["clear"]
                    load = os.getloadavg()[0]
                    print(f"== {tool} {rows:,} rows (run {i + 1}, load {load:.2f})", flush=True)
                    record = run_tool(tool, folders[rows])
                    disturbed = record.get("others_cores", 0.0) > DISTURBED_CORES
                    last = attempt == RETRIES or args.no_wait
                    record |= {"size": rows, "repeat": i, "attempt": attempt}
                    record |= {"disturbed": disturbed, "kept": not disturbed or last}
                    runs.append(record)
                    print("   " + summary(record), flush=True)
                    if record["kept"]:
                        break
                    print(f"   disturbed (> {DISTURBED_CORES} cores used by others): again")
    probes = [p for p in (scipy_import_probe() for _ in range(3)) if p is not None]
    agg = aggregate(runs, sizes)
    first = {tool: next((r for r in ok(runs) if r["tool"] == tool), {}) for tool in TOOLS}
    result: dict[str, Any] = {
        "date": date,
        "command": COMMAND,
        "sizes": sizes,
        "repeats": repeats,
        "idle": idle,
        "machine": info,
        "versions": {
            "assay": first["assay"].get("version", "?"),
            "assay_module": first["assay"].get("module", "?"),
            "evidently": first["evidently"].get("version", "?"),
            "assay_libs": first["assay"].get("versions", {}),
            "evidently_libs": first["evidently"].get("versions", {}),
        },
        "data": {
            "seed": data.SEED,
            "generator_version": data.VERSION,
            "columns": data.COLUMNS,
            "categorical": data.CATEGORICAL_COLUMNS,
            "shifted": data.SHIFT_NOTES,
            "new_level_columns": data.NEW_LEVEL_COLUMNS,
            "new_level_rows": data.NEW_LEVEL_ROWS,
        },
        "folders": {str(n): str(folders[n]) for n in sizes},
        "scipy_import_s": statistics.median(probes) if probes else None,
        "evidently_counts_match": all(
            r.get("count_matches", True) for r in ok(runs) if r["tool"] == "evidently"
        ),
        "aggregate": agg,
        "runs": runs,
    }
    result["discarded"] = sum(1 for r in runs if not r.get("kept", True))
    result["floors"] = floors(agg, sizes)
    result["notes"] = notes(result)
    result["src_sha256_end"] = machine()["src_sha256"]
    result["src_changed"] = result["src_sha256_end"] != info["src_sha256"]
    result["harness_wall_s"] = time.perf_counter() - started
    print("== floors")
    for f in result["floors"]:
        print(f"   {f['floor']}: {f['text']} (target {f['target']}) met={f['met']}")
    if args.no_write:
        print(render(result))
        return
    RAW_JSON.write_text(json.dumps(result, indent=1) + "\n")
    write_section(render(result))
    print(f"== wrote {RAW_JSON.relative_to(ROOT)} and the monitoring section of bench/RESULTS.md")


if __name__ == "__main__":
    main()
