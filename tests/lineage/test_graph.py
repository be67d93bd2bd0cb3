from __future__ import annotations

import assay
from assay import pipeline, step
from assay.lineage import downstream, upstream
from assay.workspace import Workspace
from tests import pipelines as p
from tests.registry.test_versions import dummy


def test_upstream_of_an_output_reaches_the_source_steps(workspace: Workspace) -> None:
    result = assay.run(p.numbers, workspace=workspace)
    total = next(e for e in result.executions if e.step == "total")
    graph = upstream(workspace, total.outputs["output"])
    steps = sorted(n.attrs["step"] for n in graph.nodes.values() if n.type == "execution")
    assert steps == ["make_numbers", "partition", "total"]
    names = {e.name for e in graph.edges if e.name}
    assert names == {"frame", "output", "evens"}
    assert graph.to_dict()["direction"] == "up"


def test_downstream_of_the_source_reaches_every_product(workspace: Workspace) -> None:
    result = assay.run(p.numbers, workspace=workspace)
    source = result.executions[0].outputs["output"]
    graph = downstream(workspace, source)
    steps = sorted(n.attrs["step"] for n in graph.nodes.values() if n.type == "execution")
    assert steps == ["as_array", "partition", "total", "total_2"]


def test_cached_reuse_does_not_duplicate_downstream(workspace: Workspace) -> None:
    result = assay.run(p.numbers, workspace=workspace)
    assay.run(p.numbers, workspace=workspace)
    graph = downstream(workspace, result.executions[0].outputs["output"])
    assert sum(1 for n in graph.nodes.values() if n.type == "execution") == 4


def test_model_lineage_up_and_down(workspace: Workspace) -> None:
    assay.run(dummy, workspace=workspace)
    up = upstream(workspace, "dummy@1")
    assert up.root == "model:dummy@1"
    assert [n.attrs["step"] for n in up.nodes.values() if n.type == "execution"] == ["fit_dummy"]
    assert up.children(up.root)[0][1].type == "artifact"
    down = downstream(workspace, "dummy")
    assert {n.attrs["step"] for n in down.nodes.values() if n.type == "execution"} == {
        "register_model"
    }


def test_downstream_lists_an_execution_once_with_named_inputs(workspace: Workspace) -> None:
    @step
    def base() -> int:
        return 2

    @step
    def combine(a: int, b: int) -> int:
        return a * b

    @pipeline
    def pipe() -> None:
        x = base()
        combine(x, x)

    result = assay.run(pipe, workspace=workspace)
    graph = downstream(workspace, result.executions[0].outputs["output"])
    into = sorted(e.name for e in graph.edges if e.target.startswith("execution:"))
    assert into == ["a", "b"]
    outs = [e for e in graph.edges if e.source.startswith("execution:")]
    assert len(outs) == 1


def test_downstream_of_a_model_starts_at_its_artifact(workspace: Workspace) -> None:
    assay.run(dummy, workspace=workspace)
    graph = downstream(workspace, "dummy@1")
    (_edge, child), *_ = graph.children(graph.root)
    assert child.type == "artifact"
    assert [n.type for _, n in graph.children(child.id)] == ["execution"]
