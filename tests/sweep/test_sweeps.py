"""Sweeps over a small pipeline: grid and Optuna, shared steps, failures, bad specs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import assay
from assay import Settings
from assay.errors import ConfigError, ParameterError
from assay.registry import resolve
from assay.runner.loader import load_pipeline
from assay.sweep import grid_trials, parse_grid, parse_range, run_sweep
from assay.sweep.plot import plot_sweep
from assay.workspace import open_workspace

PIPELINE = """
from assay import log_metrics, pipeline, step


@step
def data(n: int = 20) -> list[int]:
    print("loading", n)  # must not end up in the sweep's --json output
    return list(range(n))


@step
def score(xs: list[int], C: float = 1.0, k: int = 1) -> float:
    if C < 0:
        raise ValueError("C must not be negative")
    value = sum(xs) / (1 + abs(C - 2)) / k
    log_metrics({"score": value})
    return value


@pipeline
def sweepme(n: int = 20, C: float = 1.0, k: int = 1) -> None:
    score(data(n), C=C, k=k)
"""


# A model's score is 1 / (1 + |C - 2|); the policy passes scores of at least 0.6 (C = 2).
GOVERNED = """
from pathlib import Path

from assay import log_metrics, pipeline, register_model, step
from assay.governance import check_gates

HERE = Path(__file__).parent


@step(outputs=["model", "report"])
def fit(C: float = 1.0) -> tuple[dict[str, float], dict[str, float]]:
    score = 1 / (1 + abs(C - 2))
    log_metrics({"score": score})
    return {"C": C}, {"score": score}


@pipeline
def governed(C: float = 1.0, policy: Path = HERE / "policy.yaml") -> None:
    model, report = fit(C=C)
    check_gates(register_model(model, name="swept", metrics=report), policy=policy)
"""


@pytest.fixture
def target(tmp_path: Path) -> str:
    path = tmp_path / "sweepme.py"
    path.write_text(PIPELINE)
    return str(path)


@pytest.fixture
def governed(tmp_path: Path) -> str:
    folder = tmp_path / "governed"
    folder.mkdir()
    (folder / "pipeline.py").write_text(GOVERNED)
    (folder / "policy.yaml").write_text("gates:\n  min_metrics: {score: 0.6}\n")
    return str(folder)


def test_grid_sweep_reuses_the_shared_step_and_finds_the_best(
    target: str, settings: Settings, tmp_path: Path
) -> None:
    grid = parse_grid(["C=0.5,2,4", "k=1,2"])
    result = run_sweep(target, settings, grid=grid, objective="metrics.score", workers=2)
    assert len(result.trials) == 6
    assert all(t.status == "succeeded" for t in result.trials)
    assert result.reused == 5 and result.executed == 7  # `data` ran once, `score` six times
    assert result.best is not None
    assert result.best.params == {"C": "2", "k": "1"}
    ws = open_workspace(settings)
    runs = ws.metadata.list_runs(experiment="sweepme-sweep", limit=None)
    ws.close()
    assert len(runs) == 6
    picture = plot_sweep(result, tmp_path / "p" / "sweep.png", ["C", "k"])
    assert picture is not None
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_optuna_search_runs_the_asked_number_of_trials(target: str, settings: Settings) -> None:
    result = run_sweep(
        target,
        settings,
        grid=parse_grid(["k=1,2"]),
        ranges=parse_range(["C=0.1:10:log"]),
        search="optuna",
        trials=8,
        objective="metrics.score",
        direction="max",
        workers=2,
        experiment="tpe",
    )
    assert len(result.trials) == 8
    assert result.best is not None
    assert result.best.value is not None
    assert all(0.1 <= float(t.params["C"]) <= 10 for t in result.trials)
    assert result.reused >= 7  # `data` is shared by every trial


def test_failing_trials_are_reported_and_do_not_stop_the_sweep(
    target: str, settings: Settings
) -> None:
    result = run_sweep(target, settings, grid=parse_grid(["C=-1,1"]), objective="metrics.score")
    statuses = sorted(t.status for t in result.trials)
    assert statuses == ["failed", "succeeded"]
    failed = next(t for t in result.trials if t.status == "failed")
    assert failed.error is not None
    assert "C must not be negative" in failed.error
    assert failed.run_id is not None


def test_bad_sweeps_are_refused_before_anything_runs(target: str, settings: Settings) -> None:
    with pytest.raises(ParameterError, match="'depth', which is not a parameter"):
        run_sweep(target, settings, grid=parse_grid(["depth=1,2"]))
    with pytest.raises(ParameterError, match="parameter 'k': expected int"):
        run_sweep(target, settings, grid=parse_grid(["k=1,two"]))
    with pytest.raises(ConfigError, match="needs --trials"):
        run_sweep(target, settings, grid={"k": ["1"]}, search="optuna", objective="metrics.score")
    with pytest.raises(ConfigError, match="bad objective"):
        run_sweep(target, settings, grid={"k": ["1"]}, objective="score")
    with pytest.raises(ConfigError, match="unknown search"):
        run_sweep(target, settings, grid={"k": ["1"]}, search="random")
    ws = open_workspace(settings)
    assert ws.metadata.list_runs() == []
    ws.close()


@pytest.mark.parametrize(
    ("specs", "parser", "problem"),
    [
        (["C"], parse_grid, "malformed --grid"),
        (["C=1,,2"], parse_grid, "malformed --grid"),
        (["C=1", "C=2"], parse_grid, "twice"),
        (["C=1"], parse_range, "malformed --range"),
        (["C=5:1"], parse_range, "malformed --range"),
        (["C=0:1:log"], parse_range, "malformed --range"),
        (["C=1:2:lin"], parse_range, "malformed --range"),
    ],
)
def test_bad_specs(specs: list[str], parser: object, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parser(specs)  # type: ignore[operator]


def test_grid_is_every_combination() -> None:
    assert grid_trials({"a": ["1", "2"], "b": ["x"]}) == [
        {"a": "1", "b": "x"},
        {"a": "2", "b": "x"},
    ]
    assert parse_range(["n=1:5", "lr=0.001:0.1:log"])["n"].integer is True


def test_two_sweeps_on_one_store_at_once_both_complete(target: str, tmp_path: Path) -> None:
    env = {"ASSAY_HOME": str(tmp_path), "ASSAY_USER": "dana", "PATH": "/usr/bin:/bin"}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "assay",
                "sweep",
                target,
                "--grid",
                f"C={c}",
                "--grid",
                "k=1,2,3",
                "-e",
                f"s{i}",
                "--objective",
                "metrics.score",
                "--json",
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, c in enumerate(("0.5,1", "2,4"))
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e for _, e in outs]
    summaries = [json.loads(out) for out, _ in outs]
    assert [s["trials"] for s in summaries] == [6, 6]
    assert [s["failed"] for s in summaries] == [0, 0], [s.get("errors") for s in summaries]


def test_the_command_reports_every_trial_failing(target: str, tmp_path: Path) -> None:
    env = {"ASSAY_HOME": str(tmp_path), "ASSAY_USER": "dana", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "assay", "sweep", target, "--grid", "C=-1,-2"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1
    assert "error: every trial failed; the first: step 'score' failed" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_sweep_registers_no_version_by_default(governed: str, settings: Settings) -> None:
    result = run_sweep(governed, settings, grid=parse_grid(["C=0.5,2"]), objective="metrics.score")
    assert [t.status for t in result.trials] == ["succeeded", "succeeded"]
    assert result.registered is None
    ws = open_workspace(settings)
    try:
        assert ws.metadata.model_names() == []
        assert ws.metadata.verdicts("swept") == []
        # The trials' register steps did not poison the cache: a plain run registers.
        pipe, source = load_pipeline(governed)
        assay.run(pipe, {"C": "2"}, workspace=ws, source=source)
        assert [v.version for v in ws.metadata.model_versions("swept")] == [1]
        assert [v.passed for v in ws.metadata.verdicts("swept", 1)] == [True]
    finally:
        ws.close()


def test_register_best_registers_only_the_best_trial_with_its_gates(
    governed: str, settings: Settings
) -> None:
    result = run_sweep(
        governed,
        settings,
        grid=parse_grid(["C=0.5,2,4"]),
        objective="metrics.score",
        register="best",
    )
    assert result.best is not None and result.best.params == {"C": "2"}
    registered = result.registered
    assert registered is not None
    assert (registered.trial, registered.versions) == (1, {"swept@1": "passed"})
    ws = open_workspace(settings)
    try:
        assert [v.version for v in ws.metadata.model_versions("swept")] == [1]
        version = resolve(ws, "swept@latest")
        assert version.run_id == registered.run_id
        steps = {e.step: e.status for e in ws.metadata.executions(registered.run_id)}
        assert steps["fit"] == "cached"  # the trial's model, not a new one
        assert len(ws.metadata.list_runs(experiment="governed-sweep", limit=None)) == 4
    finally:
        ws.close()


def test_register_all_keeps_latest_on_a_version_that_passed(
    governed: str, settings: Settings
) -> None:
    run_sweep(governed, settings, grid=parse_grid(["C=2,0.5"]), register="all")
    ws = open_workspace(settings)
    try:
        assert [v.version for v in ws.metadata.model_versions("swept")] == [1, 2]
        assert resolve(ws, "swept@latest").version == 1  # swept@2 failed its gates
        assert resolve(ws, "swept@newest").version == 2
    finally:
        ws.close()


def test_register_best_needs_an_objective(governed: str, settings: Settings) -> None:
    with pytest.raises(ConfigError, match="--register best need --objective"):
        run_sweep(governed, settings, grid=parse_grid(["C=1,2"]), register="best")
    with pytest.raises(ConfigError, match="unknown --register 'some'"):
        run_sweep(governed, settings, grid=parse_grid(["C=1,2"]), register="some")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_misspelt_objective_stops_the_sweep_after_the_first_trial(
    target: str, settings: Settings, workers: int
) -> None:
    with pytest.raises(
        ConfigError, match=r"--objective metrics.scroe: trial 0 .* logged no metric 'scroe'"
    ) as raised:
        run_sweep(
            target,
            settings,
            grid=parse_grid(["C=0.5,2,4"]),
            objective="metrics.scroe",
            workers=workers,
        )
    assert raised.value.hint == "did you mean metrics.score? it logged: score"
    ws = open_workspace(settings)
    assert len(ws.metadata.list_runs()) == 1
    ws.close()


def sweep_command(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"ASSAY_HOME": str(tmp_path), "ASSAY_USER": "dana", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "assay", "sweep", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_command_refuses_a_misspelt_objective_in_one_line(target: str, tmp_path: Path) -> None:
    done = sweep_command(tmp_path, target, "--grid", "C=1,2", "--objective", "metrics.scroe")
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "logged no metric 'scroe'" in errors[0]
    assert "did you mean metrics.score? it logged: score" in errors[0]
    assert "Traceback" not in done.stderr


def test_the_command_registers_the_best_trial(governed: str, tmp_path: Path) -> None:
    grid = ("--grid", "C=0.5,2", "--objective", "metrics.score")
    shown = sweep_command(tmp_path, governed, *grid, "--register", "best")
    assert shown.returncode == 0, shown.stderr
    assert "registered: swept@1 (gates passed) from trial 1, run " in shown.stdout
    summary = json.loads(sweep_command(tmp_path, governed, *grid, "--json").stdout)
    assert (summary["register"], summary["registered"]) == ("none", None)
    summary = json.loads(
        sweep_command(tmp_path, governed, *grid, "--register", "best", "--json").stdout
    )
    assert summary["registered"]["trial"] == 1
    assert summary["registered"]["versions"] == [{"model": "swept@1", "gates": "passed"}]
