"""Logging parameters, tags and notes inside steps and in ad hoc runs."""

from __future__ import annotations

import math

import pytest

import assay
from assay import log_metrics, log_params, pipeline, set_note, set_tags, start_run, step
from assay.errors import DataError, DefinitionError, StepFailedError
from assay.workspace import Workspace


@step
def fit(C: float = 1.0) -> float:
    log_params({"solver": "lbfgs", "C": C})
    set_tags({"stage": "dev"})
    set_note("first try")
    log_metrics({"acc": 0.5 + C / 10})
    return C


@pipeline
def tracked(C: float = 1.0) -> None:
    fit(C)


def test_params_tags_and_note_logged_in_a_step_land_on_the_run(workspace: Workspace) -> None:
    result = assay.run(tracked, workspace=workspace, experiment="exp1", tags={"owner": "ann"})
    run = workspace.metadata.get_run(result.run_id)
    assert run.experiment == "exp1"
    assert run.params == {"C": 1.0, "solver": "lbfgs"}
    assert run.tags == {"owner": "ann", "stage": "dev"}
    assert run.note == "first try"


def test_a_reused_step_logs_its_params_again(workspace: Workspace) -> None:
    assay.run(tracked, workspace=workspace)
    second = assay.run(tracked, workspace=workspace, experiment="again")
    assert second.reused == 1
    run = workspace.metadata.get_run(second.run_id)
    assert run.params == {"C": 1.0, "solver": "lbfgs"}
    assert [m.key for m in workspace.metadata.metrics(second.run_id)] == ["acc"]


def test_a_parameter_keeps_one_value_per_run(workspace: Workspace) -> None:
    @step
    def contradicts() -> None:
        log_params({"C": 2.0})

    @pipeline
    def pipe(C: float = 1.0) -> None:
        contradicts()

    with pytest.raises(StepFailedError, match=r"parameter 'C' is already 1.0 in this run"):
        assay.run(pipe, workspace=workspace)


def test_parameter_values_must_be_scalars(workspace: Workspace) -> None:
    @step
    def listy() -> None:
        log_params({"layers": [1, 2]})

    @pipeline
    def pipe() -> None:
        listy()

    with pytest.raises(StepFailedError, match="parameter 'layers' is a list, not a scalar"):
        assay.run(pipe, workspace=workspace)


def test_experiment_names_are_checked(workspace: Workspace) -> None:
    with pytest.raises(assay.AssayError, match="experiment name"):
        assay.run(tracked, workspace=workspace, experiment=" ")


def test_runs_are_listed_by_experiment(workspace: Workspace) -> None:
    assay.run(tracked, workspace=workspace, experiment="a")
    assay.run(tracked, {"C": 2.0}, workspace=workspace, experiment="b")
    assay.run(tracked, {"C": 3.0}, workspace=workspace, experiment="b")
    assert [r.params["C"] for r in workspace.metadata.list_runs(experiment="b")] == [3.0, 2.0]
    assert [(name, n) for name, n, _ in workspace.metadata.experiments()] == [("a", 1), ("b", 2)]


def test_ad_hoc_run_buffers_and_writes_everything(workspace: Workspace) -> None:
    with start_run("notebook", workspace=workspace, params={"lr": 0.1}) as run:
        log_params({"epochs": 3, "loss_fn": "nan-safe", "eps": math.nan})
        log_params({"eps": math.nan})  # the same NaN again is not a contradiction
        for epoch in range(3):
            log_metrics({"loss": 1.0 / (epoch + 1)}, step=epoch)
        assert workspace.metadata.metrics(run.run_id) == []  # still buffered
        set_tags({"who": "me"})
    record = workspace.metadata.get_run(run.run_id)
    assert record.status == "succeeded"
    assert record.experiment == "notebook"
    assert record.pipeline == "ad hoc"
    assert record.params["lr"] == 0.1
    assert math.isnan(record.params["eps"])
    assert record.tags == {"who": "me"}
    assert [(m.step, m.value) for m in workspace.metadata.metrics(run.run_id)] == [
        (0, 1.0),
        (1, 0.5),
        (2, 1.0 / 3),
    ]


def test_ad_hoc_run_keeps_what_was_logged_when_the_block_raises(workspace: Workspace) -> None:
    def crash() -> str:
        with start_run(workspace=workspace) as run:
            log_metrics({"loss": 0.9})
            _ = 1 / 0
        return run.run_id

    with pytest.raises(ZeroDivisionError):
        crash()
    run = workspace.metadata.list_runs(limit=1)[0]
    record = workspace.metadata.get_run(run.id)
    assert record.status == "failed"
    assert record.traceback is not None
    assert "ZeroDivisionError" in record.traceback
    assert [m.value for m in workspace.metadata.metrics(run.id)] == [0.9]


def test_ad_hoc_run_refuses_bad_values_and_model_registration(workspace: Workspace) -> None:
    with start_run(workspace=workspace):
        with pytest.raises(DataError, match="not a number"):
            log_metrics({"x": "high"})  # type: ignore[dict-item]
        log_params({"a": 1})
        with pytest.raises(DataError, match="already 1"):
            log_params({"a": 2})
        with pytest.raises(DefinitionError, match="registered by a pipeline step"):
            assay.register_model.func(object(), name="m")


def test_logging_outside_any_run_says_where_to_call_it() -> None:
    with pytest.raises(DefinitionError, match="needs a running step or run"):
        log_params({"a": 1})
