"""`assay runs list|show`: what a listing left out, the fields a search names, how runs ended."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Invoke, run_subprocess


@pytest.fixture
def three_runs(cli: Invoke) -> list[str]:
    """Three runs of the text pipeline with C = 0.5, 1 and 2; their ids, oldest first."""
    ids = []
    for c in ("0.5", "1", "2"):
        result = cli("run", "text", "--json", "-p", f"C={c}")
        assert result.code == 0, result.err
        ids.append(json.loads(result.out)["run_id"])
    return ids


def test_a_listing_says_how_many_runs_it_left_out(cli: Invoke, three_runs: list[str]) -> None:
    cut = cli("runs", "list", "--limit", "2")
    assert cut.code == 0, cut.err
    assert three_runs[2][:12] in cut.out and three_runs[0][:12] not in cut.out
    assert "showing 2 of 3 runs; --limit N or --all for more" in cut.err
    as_json = cli("runs", "list", "--limit", "2", "--json")
    assert len(json.loads(as_json.out)) == 2  # the remark stays out of the JSON
    assert "showing 2 of 3 runs" in as_json.err
    every = cli("runs", "list", "--limit", "2", "--all")
    assert all(r[:12] in every.out for r in three_runs)
    assert every.err == ""
    filtered = cli("runs", "list", "--limit", "1", "--where", "params.C >= 1")
    assert "showing 1 of 2 runs" in filtered.err
    assert cli("runs", "list", "--limit", "3").err == ""  # nothing left out, nothing said


def test_fields_named_by_where_and_order_by_are_shown(cli: Invoke, three_runs: list[str]) -> None:
    result = cli(
        "runs", "list", "--where", "metrics.accuracy >= 0.5", "--order-by", "-params.C,tags.x"
    )
    assert result.code == 0, result.err
    header, *rows = [line for line in result.out.splitlines() if "━" not in line]
    assert [c.strip() for c in header.split("┃")[-3:]] == ["metrics.accuracy", "params.C", "tags.x"]
    assert [[c.strip() for c in row.split("│")[-3:]] for row in rows] == [
        ["1", "2.0", ""],  # largest C first; no run has tag x
        ["1", "1.0", ""],
        ["1", "0.5", ""],
    ]


def test_runs_list_json_has_each_runs_last_metrics(cli: Invoke, three_runs: list[str]) -> None:
    listed = json.loads(cli("runs", "list", "--json").out)
    assert [r["id"] for r in listed] == three_runs[::-1]
    assert all(r["metrics"] == {"accuracy": 1.0} for r in listed)
    assert listed[0]["params"] == {"n": 40, "C": 2.0} and listed[0]["tags"] == {}


STOPS = """
import signal

from assay import pipeline, step


@step
def prepare() -> int:
    return 1


@step
def train(x: int) -> int:
    signal.raise_signal(signal.SIGINT)  # what Ctrl-C does
    return x


@pipeline
def stops() -> None:
    train(prepare())
"""


def test_an_interrupted_run_shows_the_step_it_stopped_in(
    project: Path, cli_env: dict[str, str]
) -> None:
    (project / "stops.py").write_text(STOPS)
    cli_env["ASSAY_HOME"] = str(project)
    stopped = run_subprocess(["run", "stops.py"], project, cli_env)
    assert stopped.code == 130, stopped.err
    listed = run_subprocess(["runs", "list", "--json"], project, cli_env)
    run_id = json.loads(listed.out)[0]["id"]
    shown = run_subprocess(["runs", "show", run_id[:12]], project, cli_env)
    assert shown.code == 0, shown.err
    assert f"run {run_id}  stops  interrupted" in shown.out
    steps = {line.split("│")[0].strip(): line.split("│")[1].strip() for line in shown.out.splitlines() if line.count("│") >= 4}  # fmt: skip
    assert steps == {"prepare": "succeeded", "train": "interrupted"}
    assert "interrupted in step 'train' (Ctrl-C or SIGTERM)" in shown.out
    assert "Traceback" not in shown.out and "KeyboardInterrupt" not in shown.out
    assert f"assay runs show {run_id[:12]} --traceback" in shown.out
    full = run_subprocess(["runs", "show", run_id[:12], "--traceback"], project, cli_env)
    assert "Traceback" in full.out and "KeyboardInterrupt" in full.out
    as_json = json.loads(run_subprocess(["runs", "show", run_id, "--json"], project, cli_env).out)
    assert as_json["status"] == "interrupted" and "Traceback" in as_json["traceback"]
    train = [e for e in as_json["executions"] if e["step"] == "train"]
    assert train[0]["status"] == "interrupted" and "Traceback" in train[0]["traceback"]
