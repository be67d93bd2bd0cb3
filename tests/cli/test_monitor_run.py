"""`assay monitor run|retrains`: rounds from a policy file, a clean stop on SIGTERM, the
retrainings listed, and `models show` naming the retraining behind a version."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assay import Settings
from assay.metadata import LabelRecord
from assay.workspace import open_workspace
from tests.cli.conftest import Invoke
from tests.cli.test_bad_input import assert_clean_error
from tests.monitoring.phrasebank import log_traffic, social_posts
from tests.monitoring.retrainable import in_production


@pytest.fixture
def monitored(project: Path) -> Path:
    """pb@1 in production in the project's store, 300 labelled social-media posts in its
    log, and a monitoring policy that retrains it; returns the policy's path."""
    settings = Settings.for_project(project, user="alice")
    ws = open_workspace(settings)
    gates = in_production(ws, settings, project)
    posts = log_traffic(ws, social_posts(300), per_request=3)
    ws.metadata.add_labels(
        [LabelRecord(r.request_id, i, "positive", r.at, "carol") for r in posts
         for i in range(len(r.inputs))]
    )  # fmt: skip
    ws.close()
    path = project / "monitor.yaml"
    path.write_text(
        "model: pb@production\nevery: 1s\nwindow: 24h\n"
        "retrain:\n  pipeline: tests.monitoring.retrainable:retrainable\n"
        f"  params: {{policy: {gates}}}\n  feedback: feedback\n"
    )
    return path


def outside_the_store(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if ".assay" not in p.relative_to(folder).parts)


def test_one_round_retrains_and_the_version_shows_why(cli: Invoke, monitored: Path) -> None:
    before = outside_the_store(monitored.parent)
    ran = cli("monitor", "run", "--policy", str(monitored), "--once")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("monitoring pb@production: one round\n")  # no "Ctrl-C stops"
    assert "round on pb@1:" in ran.out
    assert "drift: drift (300 rows" in ran.out and "performance: drop (300 rows" in ran.out
    assert "retraining 1 (alert): registered" in ran.out
    assert "version 2, gates passed, moved to staging, production request" in ran.out
    assert "waits for approval" in ran.out and "stopped after 1 round" in ran.out

    listed = json.loads(cli("monitor", "retrains", "--json").out)
    assert [(r["id"], r["cause"], r["status"], r["version"]) for r in listed] == [
        (1, "alert", "registered", 2)
    ]
    # The feedback went into the store, and the lineage names it as the run's input.
    assert outside_the_store(monitored.parent) == before
    feedback = listed[0]["outcome"]["feedback"]
    upstream = json.loads(cli("lineage", "pb@2", "--json").out)
    assert f"artifact:{feedback}" in {n["id"] for n in upstream["nodes"]}
    fed = json.loads(cli("lineage", feedback, "--down", "--json").out)
    assert listed[0]["run_id"] in {n.get("run_id") for n in fed["nodes"]}
    table = cli("monitor", "retrains").out
    assert "alert" in table and "registered" in table
    shown = cli("models", "show", "pb@2")
    assert "retraining 1: drift and performance alerts 1, 2 on pb@1" in shown.out
    assert json.loads(cli("models", "show", "pb@2", "--json").out)["retrain"]["id"] == 1

    again = json.loads(cli("monitor", "run", "--policy", str(monitored), "--once", "--json").out)
    assert again["checked"] == [] and again["retrain"] is None
    assert again["skipped"] == ["drift", "performance"]


def test_bad_input_is_a_clear_error(cli: Invoke, project: Path) -> None:
    assert_clean_error(
        cli("monitor", "run", "--policy", str(project / "none.yaml"), "--once"),
        1,
        "cannot read the monitoring policy",
    )
    bad = project / "bad.yaml"
    bad.write_text("model: pb@production\nwindow: -3\n")
    assert_clean_error(cli("monitor", "run", "--policy", str(bad), "--once"), 1, "field window")
    missing = project / "missing.yaml"
    missing.write_text("model: nobody@production\n")
    ran = cli("monitor", "run", "--policy", str(missing), "--once")
    assert ran.code == 1 and "problem:" in ran.out and "nobody" in ran.out


def test_sigterm_stops_the_monitor_cleanly(monitored: Path, project: Path) -> None:
    policy = project / "quiet.yaml"
    policy.write_text("model: pb@production\nevery: 1h\nchecks: [drift]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env |= {"ASSAY_USER": "alice", "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assay", "monitor", "run", "--policy", str(policy)],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        ws = open_workspace(Settings.for_project(project, user="alice"))
        while not ws.metadata.windows("pb"):  # the first round has stored its window
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        ws.close()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)  # not the hour until the next round
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out.startswith("monitoring pb@production every 1h (Ctrl-C stops)")
    assert "drift: drift" in out and "stopped after 1 round" in out
