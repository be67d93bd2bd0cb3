"""Side outputs: a step adds an output besides what it returns (``add_output``)."""

from __future__ import annotations

import pytest

import assay
from assay import pipeline, step
from assay.core import current_context
from assay.errors import DefinitionError, StepFailedError
from assay.workspace import Workspace


@step
def base() -> int:
    return 20


@step(outputs={"total": "value"})
def add(x: int) -> int:
    current_context().add_output("trace", {"seen": x}, kind="note")
    return x + 1


@pipeline
def pipe() -> None:
    add(base())


def test_an_added_output_is_stored_recorded_and_reused_from_the_cache(
    workspace: Workspace,
) -> None:
    first = assay.run(pipe, workspace=workspace)
    [executed] = [e for e in first.executions if e.step == "add"]
    assert set(executed.outputs) == {"total", "trace"}
    events = workspace.metadata.events_of([executed.execution_id])
    trace = next(e for e in events if e.name == "trace")
    assert trace.direction == "output" and trace.kind == "note" and trace.codec == "json"
    assert workspace.artifacts.get(trace.digest, trace.codec) == {"seen": 20}
    second = assay.run(pipe, workspace=workspace)
    [reused] = [e for e in second.executions if e.step == "add"]
    assert reused.status == "cached" and reused.outputs == executed.outputs


def test_an_added_output_may_not_take_a_returned_outputs_name(workspace: Workspace) -> None:
    @step(outputs={"total": "value"})
    def clash(x: int) -> int:
        current_context().add_output("total", 0)
        return x

    @pipeline
    def bad() -> None:
        clash(base())

    with pytest.raises(StepFailedError, match="adds output 'total', which it also returns"):
        assay.run(bad, workspace=workspace)


def test_an_ad_hoc_run_has_no_step_to_add_an_output_to(workspace: Workspace) -> None:
    with assay.start_run(workspace=workspace), pytest.raises(DefinitionError, match="ad hoc"):
        current_context().add_output("x", 1)
