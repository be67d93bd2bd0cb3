"""Orchestration overhead, side by side: assay against ZenML, Kedro and Metaflow.

Runs every ``run_<framework>.py`` for each chain length (default 10 and 50)
``--repeats`` times, each in a fresh process (anchors in their own venv under
``bench/.venvs``, assay in this interpreter), takes the median of each
timing, prints a table with per-step milliseconds, the slope
(t(50) - t(10)) / 40 and the ratios the floor in issue 2 is stated in, and
rewrites the orchestration section of ``bench/RESULTS.md``. A framework that
fails or runs past ``--timeout`` is recorded with its error; the harness
carries on. Raw records go to ``bench/orchestration/results.json``.

Usage: ``python bench/orchestration/harness.py [--n 10 50] [--repeats 3]``
(set up the anchors first with ``bash bench/orchestration/setup_venvs.sh``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
RESULTS_MD = BENCH / "RESULTS.md"
RAW_JSON = HERE / "results.json"
BEGIN, END = "<!-- orchestration:begin -->", "<!-- orchestration:end -->"

# Floors from issue 2.
FLOOR_ANCHOR_RATIO = 50.0  # ZenML and Metaflow per step / assay per step, at least
FLOOR_KEDRO_RATIO = 5.0  # assay per step / Kedro per step, at most
FLOOR_CACHED_MS = 2.0  # assay cached per step, under

FRAMEWORKS = ("assay", "zenml", "metaflow", "kedro")


def interpreter(name: str) -> Path:
    if name == "assay":
        return Path(sys.executable)
    return BENCH / ".venvs" / name / "bin" / "python"


@dataclass
class Outcome:
    """Median timings of one framework at one chain length, or its error."""

    framework: str
    n: int
    records: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def median(self, key: str) -> float | None:
        values = [r[key] for r in self.records if r.get(key) is not None]
        return statistics.median(values) if values else None

    def first(self, key: str) -> Any:
        return self.records[0].get(key) if self.records else None


def run_once(name: str, n: int, timeout: float) -> dict[str, Any]:
    """One process, one trial; returns the JSON record or raises RuntimeError."""
    python = interpreter(name)
    if not python.exists():
        raise RuntimeError(f"{python} missing; run bench/orchestration/setup_venvs.sh")
    argv = [str(python), str(HERE / f"run_{name}.py"), "--n", str(n)]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    # Every trial's stores live under its own TMPDIR, removed even if the trial is killed.
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-{n}-") as tmp:
        env["TMPDIR"] = tmp
        return _run_process(name, argv, env, timeout)


def _run_process(name: str, argv: list[str], env: dict[str, str], timeout: float) -> dict[str, Any]:
    proc = subprocess.Popen(
        argv,
        cwd=HERE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so a timeout can kill the whole process group
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise RuntimeError(f"timed out after {timeout:.0f} s") from None
    for line in reversed(out.splitlines()):
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and record.get("framework") == name:
                return record
    lines = (err.strip() or out.strip() or "(no output)").splitlines()
    print("\n".join(lines[-15:]), file=sys.stderr)
    raise RuntimeError(f"exit {proc.returncode}: {lines[-1].strip()}")


def measure(name: str, n: int, repeats: int, timeout: float) -> Outcome:
    outcome = Outcome(name, n)
    for i in range(repeats):
        try:
            record = run_once(name, n, timeout)
        except RuntimeError as exc:
            outcome.error = str(exc)
            print(f"  {name:8} n={n:<3} #{i + 1}: FAILED {exc}", file=sys.stderr)
            break
        outcome.records.append(record)
        cached = record["per_step_cached_ms"]
        print(
            f"  {name:8} n={n:<3} #{i + 1}: cold {record['per_step_cold_ms']:.3f} ms/step"
            + ("" if cached is None else f", cached {cached:.3f} ms/step"),
            file=sys.stderr,
        )
        print(json.dumps(record), flush=True)
    return outcome


def per_step(o: Outcome | None, key: str) -> float | None:
    total = o.median(key) if o else None
    return None if total is None or o is None else total * 1000 / o.n


def slope(lo: Outcome | None, hi: Outcome | None, key: str) -> float | None:
    """(t(hi) - t(lo)) / (hi - lo) in ms per step."""
    if lo is None or hi is None:
        return None
    a, b = lo.median(key), hi.median(key)
    if a is None or b is None:
        return None
    return (b - a) * 1000 / (hi.n - lo.n)


def fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


def build_report(results: dict[tuple[str, int], Outcome], ns: list[int]) -> str:
    lo, hi = min(ns), max(ns)
    measures = [f"n={n}" for n in ns] + [f"slope {lo}→{hi}"]

    def values(name: str, key: str) -> list[float | None]:
        row = [per_step(results.get((name, n)), key) for n in ns]
        return [*row, slope(results.get((name, lo)), results.get((name, hi)), key)]

    lines = ["### Per-step overhead (ms per step; median of repeats)", ""]
    head = ["framework", "version"] + [f"cold {m}" for m in measures]
    head += [f"cached {m}" for m in measures]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in FRAMEWORKS:
        outs = [results.get((name, n)) for n in ns]
        version = next((o.first("version") for o in outs if o and o.records), "—")
        cells = [name, str(version)]
        cells += [fmt(v, 3) for v in values(name, "cold_s")]
        cells += [fmt(v, 3) for v in values(name, "cached_s")]
        lines.append("| " + " | ".join(cells) + " |")

    a_cold, a_cached = values("assay", "cold_s"), values("assay", "cached_s")
    rows = [
        (
            "ZenML cold / assay cold",
            values("zenml", "cold_s"),
            a_cold,
            f"≥ {FLOOR_ANCHOR_RATIO:g}",
            True,
        ),
        ("ZenML cached / assay cached", values("zenml", "cached_s"), a_cached, "(info)", None),
        (
            "Metaflow / assay cold",
            values("metaflow", "cold_s"),
            a_cold,
            f"≥ {FLOOR_ANCHOR_RATIO:g}",
            True,
        ),
        (
            "assay cold / Kedro",
            a_cold,
            values("kedro", "cold_s"),
            f"≤ {FLOOR_KEDRO_RATIO:g}",
            False,
        ),
    ]
    lines += ["", "### Ratios and floors (issue 2)", ""]
    head = ["ratio", *measures, "floor", "met"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, num, den, floor, higher_is_better in rows:
        rs = [ratio(x, y) for x, y in zip(num, den, strict=False)]
        met = "—"
        if higher_is_better is not None and all(r is not None for r in rs):
            limit = FLOOR_ANCHOR_RATIO if higher_is_better else FLOOR_KEDRO_RATIO
            ok = all((r >= limit) if higher_is_better else (r <= limit) for r in rs)  # type: ignore[operator]
            met = "yes" if ok else "**no**"
        lines.append("| " + " | ".join([label] + [fmt(r, 1) for r in rs] + [floor, met]) + " |")
    met = "—"
    if all(v is not None for v in a_cached):
        met = "yes" if all(v < FLOOR_CACHED_MS for v in a_cached) else "**no**"  # type: ignore[operator]
    cells = ["assay cached, ms per step"] + [fmt(v, 3) for v in a_cached]
    lines.append("| " + " | ".join([*cells, f"< {FLOOR_CACHED_MS:g} ms", met]) + " |")

    errors = [(o, o.error.replace("`", "'")) for o in results.values() if o.error]
    if errors:
        lines += ["", "### Failures", ""]
        lines += [f"- {o.framework} n={o.n}: `{error}`" for o, error in errors]
    lines += ["", "### What each timing includes", ""]
    for name in FRAMEWORKS:
        includes = next(
            (o.first("includes") for o in results.values() if o.framework == name and o.records),
            None,
        )
        startup = [
            o.median("startup_s") for o in results.values() if o.framework == name and o.records
        ]
        startups = [s for s in startup if s is not None]
        extra = ""
        if startups:
            extra = f" Runtime start-up (`flow.py show`): {fmt(statistics.median(startups), 3)} s."
        lines.append(f"- **{name}**: {includes or 'no result'}.{extra}")
    return "\n".join(lines)


def python_versions() -> str:
    seen = []
    for name in FRAMEWORKS:
        python = interpreter(name)
        if python.exists():
            done = subprocess.run(
                [str(python), "-c", "import platform; print(platform.python_version())"],
                capture_output=True,
                text=True,
                check=False,
            )
            seen.append(f"{name} {done.stdout.strip() or '?'}")
    return ", ".join(seen)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def write_section(report: str, command: str, repeats: int, load_at_start: str) -> None:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = "\n".join(
        [
            BEGIN,
            "## Orchestration overhead per step",
            "",
            f"- date: {now}",
            f"- machine: `nproc` {len(os.sched_getaffinity(0))}, {cpu_model()}, "
            f"{platform.system()} {platform.release()}, load average at start "
            f"{load_at_start}",
            f"- python: {python_versions()}",
            f"- command: `{command}`",
            "- method: linear chain of N no-op steps (`start` returns 0, each next step "
            "returns its input + 1); every (framework, N) trial in a fresh process with a "
            f"fresh store, median of {repeats}; "
            "per step = run wall time / N, slope = (t(max N) - t(min N)) / (max N - min N) "
            "(fixed per-run cost cancels); interpreter start-up and imports excluded "
            "(except Metaflow, whose run is a subprocess); an untimed 2-step warm-up run precedes "
            "the timed runs; ZenML client/store initialisation is untimed one-time setup.",
            "",
            report,
            END,
        ]
    )
    text = (
        RESULTS_MD.read_text(encoding="utf-8") if RESULTS_MD.exists() else "# Benchmark results\n"
    )
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS_MD.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10, 50], help="chain lengths")
    parser.add_argument("--repeats", type=int, default=3, help="fresh-process trials per cell")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per trial process")
    parser.add_argument("--only", nargs="+", choices=FRAMEWORKS, help="subset of frameworks")
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args()
    names = args.only or list(FRAMEWORKS)
    ns = sorted(set(args.n))

    load_at_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results: dict[tuple[str, int], Outcome] = {}
    for n in ns:
        for name in names:
            results[(name, n)] = measure(name, n, args.repeats, args.timeout)

    report = build_report(results, ns)
    print("\n" + report, file=sys.stderr)
    raw = [
        {"framework": o.framework, "n": o.n, "error": o.error, "records": o.records}
        for o in results.values()
    ]
    RAW_JSON.write_text(json.dumps(raw, indent=1) + "\n", encoding="utf-8")
    if not args.no_write:
        command = shlex.join(["python", os.path.relpath(sys.argv[0], BENCH.parent), *sys.argv[1:]])
        write_section(report, command, args.repeats, load_at_start)
        print(f"\nwrote {RESULTS_MD}", file=sys.stderr)


if __name__ == "__main__":
    main()
