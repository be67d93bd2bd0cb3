"""Reproducing a run: same code and data run again without the cache, outputs compared."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest

import assay
from assay.errors import AssayError, RecordNotFoundError, ReproductionError
from assay.runner import reproduce
from assay.runner.loader import load_pipeline
from assay.runner.reproduce import DIFFERENT, IDENTICAL, WITHIN_TOLERANCE, ReproductionReport
from assay.workspace import Workspace

# ``summary`` adds the number in NOISE_FILE, when there is one, to its mean: a result that
# changes between runs while the code stays the same.
FLOW = """
from pathlib import Path

from assay import log_metrics, pipeline, step

NOISE_FILE = Path(__file__).parent / "noise.txt"


@step
def read(path: Path) -> list[int]:
    return [int(x) for x in path.read_text().split()]


@step
def doubled(numbers: list[int]) -> list[int]:
    return [2 * x for x in numbers]


@step
def summary(numbers: list[int]) -> dict[str, float]:
    noise = float(NOISE_FILE.read_text()) if NOISE_FILE.exists() else 0.0
    mean = sum(numbers) / len(numbers) + noise
    log_metrics({"mean": mean})
    return {"mean": mean, "count": len(numbers)}


@pipeline
def flow(path: Path) -> None:
    numbers = read(path)
    doubled(numbers)
    summary(numbers)
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A project folder with the pipeline file and the data file it reads."""
    folder = tmp_path / "flow"
    folder.mkdir()
    (folder / "pipeline.py").write_text(textwrap.dedent(FLOW))
    (folder / "numbers.txt").write_text("1 2 3 4\n")
    return folder


def first_run(workspace: Workspace, folder: Path) -> str:
    pipe, source = load_pipeline(str(folder))
    result = assay.run(
        pipe,
        {"path": folder / "numbers.txt"},
        workspace=workspace,
        source=source,
        experiment="exp",
    )
    return result.run_id


def statuses(report: ReproductionReport) -> dict[tuple[str, str], str]:
    return {(c.step, c.output): c.status for c in report.outputs}


def test_a_deterministic_run_reproduces_identically(workspace: Workspace, folder: Path) -> None:
    run_id = first_run(workspace, folder)
    report = reproduce(workspace, run_id[:8])
    assert report.reproduced and report.verdict == "reproduced"
    assert report.original_run == run_id and report.new_run != run_id
    assert statuses(report) == {
        ("read", "output"): IDENTICAL,
        ("doubled", "output"): IDENTICAL,
        ("summary", "output"): IDENTICAL,
    }
    assert all(c.original == c.new for c in report.outputs)
    assert [(m.key, m.status) for m in report.metrics] == [("mean", IDENTICAL)]
    # Every step ran again, in the original's experiment, and the verdict is recorded.
    new = workspace.metadata.get_run(report.new_run)
    assert {e.status for e in workspace.metadata.executions(new.id)} == {"succeeded"}
    assert new.experiment == "exp"
    assert new.tags == {"reproduces": run_id, "reproduction": "confirmed"}


def test_a_tiny_numeric_difference_is_within_tolerance(workspace: Workspace, folder: Path) -> None:
    run_id = first_run(workspace, folder)
    (folder / "noise.txt").write_text("1e-12")
    report = reproduce(workspace, run_id)
    assert report.reproduced
    summary = next(c for c in report.outputs if c.step == "summary")
    assert summary.status == WITHIN_TOLERANCE
    assert summary.original != summary.new
    assert summary.difference == pytest.approx(1e-12, rel=1e-3)
    assert "largest difference" in summary.detail
    assert statuses(report)[("doubled", "output")] == IDENTICAL
    assert report.metrics[0].status == WITHIN_TOLERANCE
    assert workspace.metadata.get_run(report.new_run).tags["reproduction"] == "confirmed"


def test_a_large_difference_is_reported_where_it_is(workspace: Workspace, folder: Path) -> None:
    run_id = first_run(workspace, folder)
    (folder / "noise.txt").write_text("0.5")
    report = reproduce(workspace, run_id)
    assert not report.reproduced and report.verdict == "not reproduced"
    summary = next(c for c in report.outputs if c.step == "summary")
    assert summary.status == DIFFERENT
    assert summary.detail == "$.mean: 2.5 vs 3.0"
    assert (report.metrics[0].status, report.metrics[0].original, report.metrics[0].new) == (
        DIFFERENT,
        2.5,
        3.0,
    )
    assert workspace.metadata.get_run(report.new_run).tags["reproduction"] == "failed"
    # A wider tolerance accepts the same difference.
    assert reproduce(workspace, run_id, tolerance=0.5).reproduced


def test_changed_code_is_refused_naming_the_step_and_commit(
    workspace: Workspace, folder: Path
) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=folder, check=True)
    subprocess.run([*git, "add", "."], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "flow"], cwd=folder, check=True)
    run_id = first_run(workspace, folder)
    commit = workspace.metadata.get_run(run_id).git_commit
    assert commit
    source = folder / "pipeline.py"
    source.write_text(source.read_text().replace("2 * x", "3 * x"))
    with pytest.raises(
        ReproductionError, match=r"the code of step 'doubled' has changed"
    ) as caught:
        reproduce(workspace, run_id)
    assert commit[:12] in caught.value.message
    assert caught.value.hint and f"git checkout {commit}" in caught.value.hint
    assert len(workspace.metadata.list_runs()) == 1  # nothing ran


def test_changed_data_is_refused_naming_the_parameter(workspace: Workspace, folder: Path) -> None:
    run_id = first_run(workspace, folder)
    (folder / "numbers.txt").write_text("1 2 3 5\n")
    with pytest.raises(ReproductionError, match=r"the data of parameter 'path' changed"):
        reproduce(workspace, run_id)
    (folder / "numbers.txt").unlink()
    with pytest.raises(ReproductionError, match=r"parameter 'path': .* no longer exists"):
        reproduce(workspace, run_id)
    assert len(workspace.metadata.list_runs()) == 1


def test_a_missing_pipeline_file_is_refused(workspace: Workspace, folder: Path) -> None:
    run_id = first_run(workspace, folder)
    (folder / "pipeline.py").unlink()
    with pytest.raises(ReproductionError, match="is gone"):
        reproduce(workspace, run_id)


def test_unknown_run_and_bad_tolerance(workspace: Workspace) -> None:
    with pytest.raises(RecordNotFoundError, match="no run with id 'ffff'"):
        reproduce(workspace, "ffff")
    with pytest.raises(AssayError, match="tolerance"):
        reproduce(workspace, "ffff", tolerance=-1.0)


def test_a_failed_run_is_not_reproduced(workspace: Workspace, tmp_path: Path) -> None:
    (tmp_path / "boom.py").write_text(
        textwrap.dedent(
            """
            from assay import pipeline, step

            @step
            def boom() -> int:
                raise ValueError("no")

            @pipeline
            def failing() -> None:
                boom()
            """
        )
    )
    pipe, source = load_pipeline(str(tmp_path / "boom.py"))
    with pytest.raises(AssayError):
        assay.run(pipe, workspace=workspace, source=source)
    run_id = workspace.metadata.list_runs()[0].id
    with pytest.raises(ReproductionError, match="its status is 'failed'"):
        reproduce(workspace, run_id)


def test_a_step_failing_again_tags_the_new_run(workspace: Workspace, folder: Path) -> None:
    run_id = first_run(workspace, folder)
    (folder / "noise.txt").write_text("not a number")
    with pytest.raises(assay.AssayError, match="step 'summary' failed") as caught:
        reproduce(workspace, run_id)
    new = workspace.metadata.get_run(caught.value.run_id)  # type: ignore[attr-defined]
    assert new.status == "failed"
    assert new.tags == {"reproduces": run_id, "reproduction": "failed"}
