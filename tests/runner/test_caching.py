"""Caching rules: reuse when code, parameters and inputs are unchanged; re-run downstream only."""

from __future__ import annotations

from pathlib import Path

import pytest

import assay
from assay import Settings, pipeline, step
from assay.workspace import Workspace
from tests import pipelines as p


@pytest.fixture(autouse=True)
def _reset_counters() -> None:
    p.CALLS.clear()


def statuses(result: assay.RunResult) -> dict[str, str]:
    return {e.step: e.status for e in result.executions}


def test_second_run_reuses_every_step(workspace: Workspace) -> None:
    first = assay.run(p.numbers, workspace=workspace)
    assert set(statuses(first).values()) == {"succeeded"}
    calls = dict(p.CALLS)
    second = assay.run(p.numbers, workspace=workspace)
    assert set(statuses(second).values()) == {"cached"}
    assert dict(p.CALLS) == calls
    assert second.reused == len(second.executions) == 5
    for a, b in zip(first.executions, second.executions, strict=True):
        assert a.outputs == b.outputs
        assert b.cached_from == a.execution_id


def test_changing_a_parameter_reruns_that_step_and_downstream_only(workspace: Workspace) -> None:
    assay.run(p.numbers, workspace=workspace)
    result = assay.run(p.numbers, {"scale": 2.0}, workspace=workspace)
    assert statuses(result) == {
        "make_numbers": "cached",
        "partition": "cached",
        "total": "succeeded",
        "total_2": "succeeded",
        "as_array": "cached",
    }


def test_changing_an_upstream_parameter_reruns_everything_after_it(workspace: Workspace) -> None:
    assay.run(p.numbers, workspace=workspace)
    result = assay.run(p.numbers, {"n": 7}, workspace=workspace)
    assert set(statuses(result).values()) == {"succeeded"}


def test_no_cache_runs_every_step(workspace: Workspace) -> None:
    assay.run(p.numbers, workspace=workspace)
    result = assay.run(p.numbers, workspace=workspace, cache=False)
    assert set(statuses(result).values()) == {"succeeded"}


def test_changing_step_source_reruns_it_and_downstream(workspace: Workspace) -> None:
    @step
    def base() -> int:
        return 1

    @step
    def double(x: int) -> int:
        return 2 * x

    @pipeline
    def pipe() -> None:
        double(base())

    assay.run(pipe, workspace=workspace)

    def base_v2() -> int:
        return 2

    changed = step(name="base")(base_v2)  # same name, new code: a new fingerprint

    @pipeline
    def pipe2() -> None:
        double(changed())

    result = assay.run(pipe2, workspace=workspace)
    assert statuses(result) == {"base": "succeeded", "double": "succeeded"}


def test_downstream_is_reused_when_an_upstream_rerun_gives_the_same_bytes(
    workspace: Workspace,
) -> None:
    assay.run(p.numbers, workspace=workspace)
    result = assay.run(p.numbers, workspace=workspace, cache=False)
    assert all(e.status == "succeeded" for e in result.executions)
    again = assay.run(p.numbers, {"scale": 1.0}, workspace=workspace)
    assert all(e.status == "cached" for e in again.executions)


def test_file_content_is_part_of_the_cache_key(workspace: Workspace, tmp_path: Path) -> None:
    data = tmp_path / "in.txt"
    data.write_text("hello")
    assert statuses(assay.run(p.files, {"path": data}, workspace=workspace)) == {
        "read_text": "succeeded",
        "shout": "succeeded",
    }
    assert set(statuses(assay.run(p.files, {"path": str(data)}, workspace=workspace)).values()) == {
        "cached"
    }
    moved = tmp_path / "moved.txt"
    moved.write_text("hello")
    assert set(statuses(assay.run(p.files, {"path": moved}, workspace=workspace)).values()) == {
        "cached"
    }
    data.write_text("changed")
    assert statuses(assay.run(p.files, {"path": data}, workspace=workspace)) == {
        "read_text": "succeeded",
        "shout": "succeeded",
    }


def test_missing_artifact_bytes_force_a_rerun(workspace: Workspace, settings: Settings) -> None:
    first = assay.run(p.numbers, workspace=workspace)
    digest = first.executions[0].outputs["output"]
    (Path(settings.artifact_root) / workspace.artifacts.key(digest)).unlink()
    result = assay.run(p.numbers, workspace=workspace)
    assert statuses(result)["make_numbers"] == "succeeded"
    assert workspace.artifacts.exists(digest)


def test_metrics_of_reused_steps_are_recorded_on_the_new_run(workspace: Workspace) -> None:
    assay.run(p.numbers, workspace=workspace)
    second = assay.run(p.numbers, workspace=workspace)
    values = sorted(m.value for m in workspace.metadata.metrics(second.run_id))
    assert values == [4.0, 6.0]  # evens 0+2+4, odds 1+3


def test_reuse_is_recorded_with_lineage_events(workspace: Workspace) -> None:
    assay.run(p.numbers, workspace=workspace)
    second = assay.run(p.numbers, workspace=workspace)
    executions = workspace.metadata.executions(second.run_id)
    assert all(e.status == "cached" and e.cached_from for e in executions)
    events = workspace.metadata.events_of([e.id for e in executions])
    assert {e.direction for e in events} == {"input", "output"}


def test_folder_content_is_part_of_the_cache_key(workspace: Workspace, tmp_path: Path) -> None:
    @step
    def count(folder: Path) -> int:
        return len(list(folder.iterdir()))

    @pipeline
    def pipe(folder: Path) -> None:
        count(folder)

    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("a")
    (data / ".hidden").write_text("ignored")
    first = assay.run(pipe, {"folder": data}, workspace=workspace)
    assert statuses(assay.run(pipe, {"folder": data}, workspace=workspace)) == {"count": "cached"}
    (data / ".hidden").write_text("still ignored")
    assert statuses(assay.run(pipe, {"folder": data}, workspace=workspace)) == {"count": "cached"}
    (data / "b.txt").write_text("b")
    assert statuses(assay.run(pipe, {"folder": data}, workspace=workspace)) == {
        "count": "succeeded"
    }
    (data / "b.txt").rename(data / "c.txt")
    assert statuses(assay.run(pipe, {"folder": data}, workspace=workspace)) == {
        "count": "succeeded"
    }
    execution = workspace.metadata.executions(first.run_id)[0]
    event = workspace.metadata.events_of([execution.id])[0]
    manifest = workspace.metadata.get_artifact(event.digest)
    assert (manifest.kind, manifest.codec) == ("folder", "json")
    listed = workspace.artifacts.get(manifest.digest, "json")
    assert list(listed) == ["a.txt"]
    assert workspace.metadata.get_artifact(listed["a.txt"]).kind == "file"


@step(cache=False)
def always(value: int) -> int:
    return value + 1


@pipeline
def uncached(n: int = 3) -> None:
    always(p.source_value())


def test_a_step_declared_uncached_runs_every_time(workspace: Workspace) -> None:
    assay.run(uncached, workspace=workspace)
    second = assay.run(uncached, workspace=workspace)
    assert {e.step: e.status for e in second.executions} == {
        "source_value": "cached",
        "always": "succeeded",
    }
