"""Running: records, outputs, parallel workers, failures and the environment captured."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import assay
from assay import log_metrics, pipeline, step
from assay.errors import AssayError, DataError, DefinitionError, StepFailedError
from assay.runner import parallel
from assay.workspace import Workspace
from tests import pipelines as p


@pytest.fixture
def failure_collected(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Set once the parallel scheduler has collected a failed step, after which it starts
    nothing new: a step running beside the failing one waits for it instead of sleeping.
    No public hook marks that moment (the observer hears of a failure before the scheduler
    does), so the scheduler's wait for finished steps is wrapped."""
    collected = threading.Event()
    real_wait = parallel.wait

    def wait(*args: Any, **kwargs: Any) -> Any:
        done, pending = real_wait(*args, **kwargs)
        if any(not f.cancelled() and f.exception() is not None for f in done):
            collected.set()
        return done, pending

    monkeypatch.setattr(parallel, "wait", wait)
    return collected


def test_run_records_params_environment_and_status(workspace: Workspace) -> None:
    result = assay.run(p.numbers, {"n": "4"}, workspace=workspace)
    run = workspace.metadata.get_run(result.run_id)
    assert run.status == "succeeded"
    assert run.params == {"n": 4, "scale": 1.0}
    assert run.user == "alice"
    assert run.host and run.pid > 0 and run.python_version.startswith("CPython 3.")
    assert "pandas" in {k.lower() for k in run.packages}
    assert run.source.endswith("pipelines.py")
    assert run.git_commit is None or len(run.git_commit) == 40


def test_outputs_are_stored_with_their_codec_and_kind(workspace: Workspace) -> None:
    result = assay.run(p.numbers, workspace=workspace)
    by_step = {e.step: e for e in result.executions}
    frame = workspace.metadata.get_artifact(by_step["make_numbers"].outputs["output"])
    array = workspace.metadata.get_artifact(by_step["as_array"].outputs["output"])
    assert (frame.codec, frame.kind) == ("parquet", "dataset")
    assert (array.codec, array.kind) == ("numpy", "array")
    loaded = workspace.artifacts.get(array.digest, array.codec)
    np.testing.assert_array_equal(loaded, np.arange(5))
    evens = workspace.artifacts.get(by_step["partition"].outputs["evens"], "parquet")
    assert isinstance(evens, pd.DataFrame) and evens.x.tolist() == [0, 2, 4]


def test_independent_steps_run_in_parallel(workspace: Workspace) -> None:
    barrier = threading.Barrier(2, timeout=10)

    @step
    def wait_a() -> int:
        barrier.wait()  # both must be running at once to get past this
        return 1

    @step
    def wait_b() -> int:
        barrier.wait()
        return 2

    @step
    def join(a: int, b: int) -> int:
        return a + b

    @pipeline
    def pipe() -> None:
        join(wait_a(), wait_b())

    result = assay.run(pipe, workspace=workspace, workers=2)
    assert [e.status for e in result.executions] == ["succeeded"] * 3
    assert workspace.artifacts.get(result.executions[2].outputs["output"], "json") == 3


def test_a_failing_step_fails_the_run_and_keeps_the_traceback(workspace: Workspace) -> None:
    with pytest.raises(
        StepFailedError, match=r"step 'explode' failed: ValueError: cannot handle 3"
    ):
        assay.run(p.failing, workspace=workspace)
    run = workspace.metadata.get_run(workspace.metadata.list_runs(limit=1)[0].id)
    assert run.status == "failed"
    assert run.traceback and "cannot handle 3" in run.traceback
    executions = {e.step: e for e in workspace.metadata.executions(run.id)}
    assert executions["source_value"].status == "succeeded"
    assert executions["explode"].status == "failed"
    assert executions["explode"].traceback and "ValueError" in executions["explode"].traceback


def test_a_failing_parallel_run_finishes_steps_in_flight(
    workspace: Workspace, failure_collected: threading.Event
) -> None:
    @step
    def slow() -> int:
        assert failure_collected.wait(timeout=30), "the scheduler never saw broken fail"
        return 1

    @step
    def broken() -> int:
        raise RuntimeError("no")

    @step
    def after(x: int) -> int:
        return x

    @pipeline
    def pipe() -> None:
        after(slow())
        broken()

    with pytest.raises(StepFailedError, match="RuntimeError: no"):
        assay.run(pipe, workspace=workspace, workers=2)
    run = workspace.metadata.list_runs(limit=1)[0]
    steps = {e.step: e.status for e in workspace.metadata.executions(run.id)}
    assert steps["slow"] == "succeeded"
    assert steps["broken"] == "failed"
    assert "after" not in steps


def test_wrong_number_of_outputs_fails_clearly(workspace: Workspace) -> None:
    @step(outputs=["a", "b"])
    def two() -> tuple[int, int]:
        return 1  # type: ignore[return-value]

    @pipeline
    def pipe() -> None:
        two()

    with pytest.raises(StepFailedError, match="declares 2 outputs but returned int"):
        assay.run(pipe, workspace=workspace)


def test_unstorable_output_fails_clearly(workspace: Workspace) -> None:
    @step
    def weird() -> object:
        return object()

    @pipeline
    def pipe() -> None:
        weird()

    with pytest.raises(StepFailedError, match="no codec can store a value of type object"):
        assay.run(pipe, workspace=workspace)


def test_missing_input_file_names_the_argument(workspace: Workspace, tmp_path: object) -> None:
    with pytest.raises(DataError, match=r"argument 'path': file not found: .*nope.txt"):
        assay.run(p.files, {"path": "/nonexistent/nope.txt"}, workspace=workspace)
    assert workspace.metadata.list_runs(limit=1)[0].status == "failed"


def test_metrics_must_be_numbers(workspace: Workspace) -> None:
    @step
    def bad_metric() -> None:
        log_metrics({"acc": "high"})  # type: ignore[dict-item]

    @pipeline
    def pipe() -> None:
        bad_metric()

    with pytest.raises(StepFailedError, match="metric 'acc' is not a number"):
        assay.run(pipe, workspace=workspace)


def test_non_finite_metrics_are_kept(workspace: Workspace) -> None:
    @step
    def diverge() -> None:
        log_metrics({"loss": float("nan"), "grad": float("inf")}, step=3)

    @pipeline
    def pipe() -> None:
        diverge()

    result = assay.run(pipe, workspace=workspace)
    metrics = {m.key: m for m in workspace.metadata.metrics(result.run_id)}
    assert set(metrics) == {"loss", "grad"}
    assert np.isnan(metrics["loss"].value) and metrics["grad"].value == float("inf")
    assert metrics["loss"].step == 3


def test_log_metrics_outside_a_step_says_where_to_call_it() -> None:
    with pytest.raises(AssayError, match="needs a running step or run"):
        log_metrics({"a": 1.0})


def test_run_refuses_non_pipelines_and_bad_workers(workspace: Workspace) -> None:
    with pytest.raises(DefinitionError, match="is not a pipeline"):
        assay.run(p.make_numbers, workspace=workspace)  # type: ignore[arg-type]
    with pytest.raises(DefinitionError, match="workers must be at least 1"):
        assay.run(p.numbers, workspace=workspace, workers=0)


def test_in_memory_workspace_runs_pipelines(memory_ws: Workspace) -> None:
    first = assay.run(p.numbers, workspace=memory_ws, workers=2)
    second = assay.run(p.numbers, workspace=memory_ws)
    assert first.status == "succeeded" and second.reused == 5


def test_numpy_numbers_are_metrics(workspace: Workspace) -> None:
    @step
    def numpy_metrics() -> None:
        log_metrics({"count": np.int64(3), "mean": np.float32(0.5)})

    @pipeline
    def pipe() -> None:
        numpy_metrics()

    result = assay.run(pipe, workspace=workspace)
    assert {m.key: m.value for m in workspace.metadata.metrics(result.run_id)} == {
        "count": 3.0,
        "mean": 0.5,
    }


def test_path_parameters_are_recorded_as_absolute_paths(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    result = assay.run(p.files, {"path": "in.txt"}, workspace=workspace)
    assert workspace.metadata.get_run(result.run_id).params == {"path": str(tmp_path / "in.txt")}


def test_the_recorded_traceback_belongs_to_the_recorded_error(
    workspace: Workspace, failure_collected: threading.Event
) -> None:
    @step
    def quick() -> int:
        raise ValueError("quick failure")

    @step
    def late() -> int:
        # A second failure, while the first is being handled.
        assert failure_collected.wait(timeout=30), "the scheduler never saw quick fail"
        raise KeyError("late failure")

    @pipeline
    def pipe() -> None:
        quick()
        late()

    with pytest.raises(StepFailedError, match="quick failure"):
        assay.run(pipe, workspace=workspace, workers=2)
    run = workspace.metadata.get_run(workspace.metadata.list_runs(limit=1)[0].id)
    assert run.error is not None
    assert "quick failure" in run.error
    assert run.traceback is not None
    assert "quick failure" in run.traceback
    assert "late failure" not in run.traceback


def test_overlong_metric_names_are_refused(workspace: Workspace) -> None:
    @step
    def long_name() -> None:
        log_metrics({"m" * 300: 1.0})

    @pipeline
    def pipe() -> None:
        long_name()

    with pytest.raises(StepFailedError, match="300 characters long"):
        assay.run(pipe, workspace=workspace)


def test_metrics_logged_before_a_step_fails_are_kept(workspace: Workspace) -> None:
    @step
    def diverges() -> None:
        for epoch in range(3):
            log_metrics({"loss": 1.0 / (epoch + 1)}, step=epoch)
        raise RuntimeError("diverged")

    @pipeline
    def pipe() -> None:
        diverges()

    with pytest.raises(StepFailedError, match="diverged"):
        assay.run(pipe, workspace=workspace)
    run = workspace.metadata.list_runs(limit=1)[0]
    history = [(m.step, m.value) for m in workspace.metadata.metrics(run.id)]
    assert history == [(0, 1.0), (1, 0.5), (2, 1.0 / 3)]


def test_decoded_values_are_released_once_every_reader_has_them(workspace: Workspace) -> None:
    from assay.metadata import ArtifactRecord
    from assay.runner.local import _RunState

    dag = p.numbers.trace()
    state = _RunState(workspace, "r", True, None, dag, {})
    assert state.readers[("make_numbers", "output")] == 2  # partition and as_array
    frame = ArtifactRecord("f" * 64, "dataset", "parquet", 1, "DataFrame", 0.0)
    state.outputs["make_numbers"] = {"output": frame}
    state.values[(frame.digest, frame.codec)] = "decoded frame"
    state._release(dag.node("partition"))
    assert (frame.digest, frame.codec) in state.values  # as_array has yet to read it
    state._release(dag.node("as_array"))
    assert state.values == {}
