"""Real processes: the installed entry point, SIGKILL mid-step, two runs writing at once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.conftest import run_subprocess

KILLABLE = """
import time
from pathlib import Path

from assay import pipeline, step


@step
def first() -> int:
    return 1


@step
def second(x: int) -> int:
    return x + 1


@step
def hang(x: int, marker: str) -> int:
    if marker:
        Path(marker).write_text("started")
        time.sleep(120)
    return x


@pipeline
def killable(marker: str = "", tag: str = "") -> None:
    hang(second(first()), marker=marker)
"""


SLOW_PAIR = """
import time
from pathlib import Path

from assay import pipeline, step


@step
def slow(marker: str) -> int:
    Path(marker).write_text("started")
    time.sleep(120)
    return 1


@pipeline
def pair(a: str = "", b: str = "") -> None:
    slow(a)
    slow(b)
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update({"ASSAY_HOME": str(tmp_path), "ASSAY_USER": "bob", "COLUMNS": "200"})
    (tmp_path / "killable.py").write_text(KILLABLE)
    return env


def test_installed_command_runs_and_reports(tmp_path: Path, env: dict[str, str]) -> None:
    result = run_subprocess(["run", "killable.py", "--json"], tmp_path, env)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert [s["status"] for s in data["steps"]] == ["succeeded"] * 3
    bad = run_subprocess(["run", "killable.py", "--param", "tag"], tmp_path, env)
    assert bad.code == 2 and bad.err.startswith("error: malformed --param")
    assert "Traceback" not in bad.err


def test_sigkill_mid_step_leaves_a_readable_store_and_reuses_finished_steps(
    tmp_path: Path, env: dict[str, str]
) -> None:
    marker = tmp_path / "started"
    proc = subprocess.Popen(
        [sys.executable, "-m", "assay", "run", "killable.py", "--param", f"marker={marker}"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, "the run ended before its hanging step started"
        assert time.monotonic() < deadline, "the hanging step never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    db = tmp_path / ".assay" / "assay.db"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    listed = run_subprocess(["runs", "list", "--json"], tmp_path, env)
    assert listed.code == 0, listed.err
    killed_id = json.loads(listed.out)[0]["id"]
    # Listing it checked that its process is gone: it is killed, not running, at once.
    assert json.loads(listed.out)[0]["status"] == "killed"
    killed = json.loads(run_subprocess(["runs", "show", killed_id, "--json"], tmp_path, env).out)
    assert killed["status"] == "killed"
    assert run_subprocess(["audit", "verify"], tmp_path, env).code == 0  # reaping is audited

    rerun = run_subprocess(["run", "killable.py", "--json"], tmp_path, env)
    assert rerun.code == 0, rerun.err
    steps = {s["step"]: s["status"] for s in json.loads(rerun.out)["steps"]}
    assert steps == {"first": "cached", "second": "cached", "hang": "succeeded"}
    killed = json.loads(run_subprocess(["runs", "show", killed_id, "--json"], tmp_path, env).out)
    assert killed["status"] == "killed"
    assert killed["ended_at"] is None  # when it died is not known
    assert "the process running it ended" in killed["error"]
    assert [e["status"] for e in killed["executions"]] == ["succeeded", "succeeded"]


def test_two_runs_writing_the_same_store_at_once_both_complete(
    tmp_path: Path, env: dict[str, str]
) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "assay", "run", "killable.py", "--json", "--param", f"tag={i}"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outs]
    statuses = [json.loads(out)["status"] for out, _ in outs]
    assert statuses == ["succeeded"] * 3
    listed = json.loads(run_subprocess(["runs", "list", "--json"], tmp_path, env).out)
    assert sorted(r["status"] for r in listed) == ["succeeded"] * 3


def test_sigterm_with_workers_stops_at_once_and_records_the_interruption(
    tmp_path: Path, env: dict[str, str]
) -> None:
    (tmp_path / "pair.py").write_text(SLOW_PAIR)
    a, b = tmp_path / "a", tmp_path / "b"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assay",
            "run",
            "pair.py",
            "-w",
            "2",
            "-p",
            f"a={a}",
            "-p",
            f"b={b}",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (a.exists() and b.exists()):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    started = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - started < 10
    assert proc.returncode == 130
    assert "error: interrupted" in err
    listed = json.loads(run_subprocess(["runs", "list", "--json"], tmp_path, env).out)
    assert listed[0]["status"] == "interrupted"
