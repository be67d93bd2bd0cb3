"""Sesame through a team server on loopback against sesame on a local store, cold and cached.

The floor (issue): the run through a server costs at most 1.5x its run on a local store,
cold and cached. Each round, in new temporary folders, for each mode (the order alternating):
local, ``assay.run(sesame)`` on a new local store; served, ``python -m assay server --auth
token`` on 127.0.0.1 over a new store, in its own process, and ``assay.run(sesame)`` here with
a developer's token and a new client cache of artifact bytes. Then the same run again on the
same store (cached: every step reused but ``check_gates``). Timed: wall clock around
``assay.run`` only; the server's start-up is reported apart. One untimed local warm-up first.

Usage: ``python bench/sesame_served/harness.py [--rounds 3] [--write]`` (``--write``: the
section in bench/RESULTS.md between the sesame-served markers).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import runpy
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

import assay
from assay import Settings
from assay.governance import grant, issue_token
from assay.runner.loader import load_pipeline
from assay.workspace import open_workspace

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
RESULTS_MD = BENCH / "RESULTS.md"
BEGIN, END = "<!-- sesame-served:begin -->", "<!-- sesame-served:end -->"
FLOOR = 1.5  # served / local, at most, cold and cached
MODES = ("local", "served")
WHAT = {"api": "`assay.run`", "command": "`assay run`"}


# bench/served loads bench/team's server helpers and bench/tracking's workload (machine()).
served = runpy.run_path(str(BENCH / "served" / "harness.py"))
team, w = served["team"], served["w"]

try:
    from tqdm import tqdm
except ImportError:  # progress as plain lines on stderr
    tqdm = None


def say(text: str) -> None:
    (tqdm.write if tqdm else print)(text, file=sys.stderr)


def timed(pipe: Any, source: Path, settings: Any, limit_s: int) -> tuple[float, Any]:
    """Seconds for one ``assay.run`` (stopped by SIGALRM past ``limit_s``) and its result."""

    def expire(*_: Any) -> None:
        raise TimeoutError(f"the run took over {limit_s} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(limit_s)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # steps' prints: stdout is the table
            begin = time.perf_counter()
            result = assay.run(pipe, {}, settings=settings, source=source)
            seconds = time.perf_counter() - begin
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    if result.status != "succeeded":
        raise RuntimeError(f"run {result.run_id}: {result.status}")
    return seconds, result


def timed_command(pipe: Any, source: Path, settings: Any, limit_s: int) -> tuple[float, Any]:
    """Seconds for ``python -m assay run examples/sesame --json`` as a user types it, on
    the store (or through the server) ``settings`` name, and its steps."""
    env = {
        **os.environ,
        "ASSAY_HOME": str(Path(settings.db_url.removeprefix("sqlite:///")).parent.parent),
        "ASSAY_USER": settings.user,
        "XDG_STATE_HOME": str(Path(settings.audit_home).parent),
    }
    if settings.server_url:
        env |= {"ASSAY_SERVER_URL": settings.server_url, "ASSAY_TOKEN": settings.server_token}
    argv = [sys.executable, "-m", "assay", "run", str(ROOT / "examples" / "sesame"), "--json"]
    begin = time.perf_counter()
    done = subprocess.run(
        argv, check=False, env=env, capture_output=True, text=True, timeout=limit_s
    )
    seconds = time.perf_counter() - begin
    if done.returncode != 0:
        raise RuntimeError(f"assay run exited {done.returncode}: {done.stderr[-2000:]}")
    steps = json.loads(done.stdout)["steps"]
    executions = [types.SimpleNamespace(step=s["step"], status=s["status"]) for s in steps]
    return seconds, types.SimpleNamespace(executions=executions)


HOWS = {"api": timed, "command": timed_command}


def local_settings(folder: Path, name: str) -> Any:
    settings = Settings.for_project(folder / name, user="carol")
    return dataclasses.replace(settings, audit_home=str(folder / "state" / "assay"))


def start_server(folder: Path) -> tuple[Any, str, str, float]:
    """``python -m assay server --auth token`` over a new store in ``folder/assay`` (ann its
    admin, carol a developer): the process, its URL, carol's token, seconds to health."""
    ws = open_workspace(dataclasses.replace(local_settings(folder, "assay"), user="ann"))
    try:
        grant(ws, "ann", "admin")
        grant(ws, "carol", "developer")
        token = issue_token(ws, "carol", "developer").token
    finally:
        ws.close()
    env = team.environments(folder)["assay"]  # ASSAY_HOME, XDG_STATE_HOME, XDG_CONFIG_HOME
    port = team.free_port()
    argv = [*team.server_commands(folder)["assay"], "--port", str(port), "--auth", "token"]
    log = folder / "server.log"
    proc = team.start(argv, env, folder / "assay", log)
    url = f"http://127.0.0.1:{port}"
    try:
        ready_s = team.wait_ready(url + team.HEALTH["assay"], proc, log, 120)
        team.wait_settled([proc.pid], limit_s=60)  # idle before timing
    except BaseException:
        team.stop(proc)
        raise
    return proc, url, token, ready_s


def measure_pair(mode: str, how: str, folder: Path, pipe: Any, source: Path, limit_s: int) -> dict:
    """The cold run and the cached re-run of one mode in ``folder``, in-process (``how``
    "api") or as the command."""
    folder.mkdir()
    proc, figures = None, {}
    try:
        settings = local_settings(folder, "local")
        if mode == "local":  # the store made untimed, as the server's is
            open_workspace(settings).close()
        else:
            proc, url, token, figures["startup_s"] = start_server(folder)
            settings = dataclasses.replace(
                local_settings(folder, "client").with_server(url), server_token=token
            )
        cpu = team.group_cpu_s(proc.pid) if proc is not None else 0.0
        for kind in ("cold", "cached"):
            figures[kind], result = HOWS[how](pipe, source, settings, limit_s)
            rerun = {e.step for e in result.executions if e.status != "cached"}
            everything = {e.step for e in result.executions}
            expected = everything if kind == "cold" else {"check_gates"}
            if rerun != expected:
                raise RuntimeError(f"{mode} {kind}: ran {sorted(rerun)}, expected {expected}")
            if proc is not None:  # the server's CPU seconds during this run
                now = team.group_cpu_s(proc.pid)
                figures[f"{kind}_server_cpu_s"], cpu = now - cpu, now
    finally:
        if proc is not None:
            team.stop(proc)
    return figures


def measure(args: argparse.Namespace, tmp: Path) -> list[dict]:
    pipe, source = load_pipeline(str(ROOT / "examples" / "sesame"))
    say("warm-up: one untimed local run")
    timed(pipe, source, local_settings(tmp / "warmup", "local"), args.run_timeout)
    rounds = []
    progress = tqdm(total=4 * args.rounds, desc="sesame", unit="pair") if tqdm else None
    with progress if progress is not None else contextlib.nullcontext() as bar:
        for i in range(args.rounds):
            row: dict[str, Any] = {"round": i, "order": MODES if i % 2 == 0 else MODES[::-1]}
            for how in HOWS:
                for mode in row["order"]:
                    where = tmp / f"r{i}-{how}-{mode}"
                    f = measure_pair(mode, how, where, pipe, source, args.run_timeout)
                    row[f"{how} {mode}"] = f
                    say(
                        f"round {i} {how} {mode}: cold {f['cold']:.2f} s, cached"
                        f" {f['cached']:.2f} s"
                    )
                    if bar is not None:
                        bar.update()
            rounds.append(row)
    return rounds


def render(info: dict, rounds: list[dict]) -> str:
    m, dirty = info["machine"], info["dirty"]
    rows = []
    for how in HOWS:
        for kind in ("cold", "cached"):
            each = {mode: [r[f"{how} {mode}"][kind] for r in rounds] for mode in MODES}
            med = {mode: statistics.median(v) for mode, v in each.items()}
            ratio = med["served"] / med["local"]
            every = {mode: ", ".join(f"{x:.2f}" for x in v) for mode, v in each.items()}
            met = "yes" if ratio <= FLOOR else "**no**"
            rows.append(
                f"| {WHAT[how]} | {kind} | {med['local']:.2f} ({every['local']}) |"
                f" {med['served']:.2f} ({every['served']}) | {ratio:.2f} | ≤ {FLOOR:g} |"
                f" {met} |"
            )
    startup = [r[f"{h} served"]["startup_s"] for r in rounds for h in HOWS]
    cpu = {
        k: [r[f"{h} served"][f"{k}_server_cpu_s"] for r in rounds for h in HOWS]
        for k in ("cold", "cached")
    }
    return "\n".join(
        [
            BEGIN,
            "## Sesame through a team server on loopback vs a local store",
            "",
            f"- date: {info['date']}",
            f"- machine: `nproc` {m['nproc']}, {m['cpu']}, {m['kernel']}; load average at"
            f" start {m['load']}",
            f"- commit: {m['commit']} ("
            + (f"tree dirty: {dirty} changed or untracked path(s)" if dirty else "clean")
            + f"; {m['src_changes']} under src/)",
            f"- command: `{info['command']}` (wall time {info['wall_s'] / 60:.1f} min)",
            "- method: `assay.run(examples/sesame)` in the harness's process, timed with"
            " `time.perf_counter` around the call only (api), and `python -m assay run"
            " examples/sesame --json` as a process, as a user runs it (command: the"
            " interpreter's start and imports included, alike in both modes). local: a new"
            " store (SQLite + artifact"
            " folder, made untimed). served: `python -m assay server --auth token` on"
            " 127.0.0.1 over a new store, in its own process; the client with a developer's"
            " API token and a new local cache of artifact bytes. cold: the first run on the"
            " new store; cached: the same run again on it (every step reused but"
            f" `check_gates`, checked). {len(rounds)} rounds, each on new stores, the modes"
            " alternating; median. One untimed local warm-up run first.",
            "",
            "| how | run | local s (each round) | served s (each round) | served / local |"
            " floor | met? |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"Not timed: the server's start-up to its health check answering, median"
            f" {statistics.median(startup):.2f} s. The server process's CPU seconds during"
            f" the cold run {', '.join(f'{x:.2f}' for x in cpu['cold'])}, during the cached"
            f" re-run {', '.join(f'{x:.2f}' for x in cpu['cached'])} (each round).",
            END,
        ]
    )


def merge(section: str) -> None:
    w.merge_section(RESULTS_MD, BEGIN, END, section)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each mode")
    parser.add_argument("--run-timeout", type=int, default=600, help="seconds per run, at most")
    parser.add_argument("--write", action="store_true", help="write the bench/RESULTS.md section")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    # A SIGTERM unwinds like Ctrl-C, so that the finally blocks stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    info = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": w.machine(),
        "dirty": len(
            subprocess.check_output(["git", "status", "--porcelain"], cwd=ROOT).split(b"\n")[:-1]
        ),
        "command": "python bench/sesame_served/harness.py"
        + "".join(f" {shlex.quote(a)}" for a in sys.argv[1:]),
    }
    tmp = Path(tempfile.mkdtemp(prefix="bench-sesame-served-"))
    # Nothing of this process (audit keys, credentials) reaches the user's home.
    os.environ.update(XDG_STATE_HOME=str(tmp / "state"), XDG_CONFIG_HOME=str(tmp / "config"))
    for key in [k for k in os.environ if k.startswith("ASSAY_")]:
        del os.environ[key]
    try:
        rounds = measure(args, tmp)
    finally:
        if args.keep:
            say(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    info["wall_s"] = time.monotonic() - started
    section = render(info, rounds)
    print(section)
    if args.write:
        merge(section)
        print(f"wrote {RESULTS_MD.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
