from __future__ import annotations

from pathlib import Path

import pytest

from assay import pipeline, step
from assay.core import InputRef
from assay.errors import DefinitionError, ParameterError


@step
def one() -> int:
    return 1


@step
def add(x: int, y: int = 0) -> int:
    return x + y


@pipeline
def chain(n: int = 3, y: int = 0) -> None:
    x = one()
    for _ in range(n):
        x = add(x, y=y)


def test_tracing_builds_a_dag_with_unique_names_in_call_order() -> None:
    dag = chain.trace({"n": 3})
    assert [n.name for n in dag.nodes] == ["one", "add", "add_2", "add_3"]
    assert dag.node("add_2").inputs == {"x": InputRef("add", "output")}
    assert dag.node("add_2").upstream == frozenset({"add"})
    assert dag.node("add").params == {"y": 0}
    assert dag.params == {"n": 3, "y": 0}


def test_string_parameters_are_converted_to_the_declared_type() -> None:
    dag = chain.trace({"n": "2", "y": "5"})
    assert dag.params == {"n": 2, "y": 5}
    assert dag.node("add").params == {"y": 5}


def test_wrong_parameter_type_names_the_parameter_and_type() -> None:
    with pytest.raises(ParameterError, match=r"parameter 'n': expected int, got 'many'"):
        chain.trace({"n": "many"})


def test_unknown_parameter_lists_the_known_ones() -> None:
    with pytest.raises(ParameterError, match=r"unknown parameter 'm'.*n, y"):
        chain.trace({"m": 1})


def test_missing_required_parameter() -> None:
    @pipeline
    def needs(path: Path) -> None:
        one()

    with pytest.raises(ParameterError, match="missing required parameter 'path'"):
        needs.trace({})


def test_unknown_step_lookup_lists_steps() -> None:
    with pytest.raises(DefinitionError, match="unknown step 'nope'"):
        chain.trace().node("nope")


def test_pipeline_without_type_hints_is_refused() -> None:
    with pytest.raises(DefinitionError, match="missing type hint for argument 'n' of pipeline"):

        @pipeline
        def bad(n) -> None:  # type: ignore[no-untyped-def]
            one()


def test_pipeline_calling_no_step_is_refused() -> None:
    @pipeline
    def empty() -> None:
        return None

    with pytest.raises(DefinitionError, match="called no steps"):
        empty.trace()


def test_unrecordable_step_argument_is_refused() -> None:
    @step
    def takes(obj: object) -> int:
        return 1

    @pipeline
    def bad() -> None:
        takes(object())

    with pytest.raises(DefinitionError, match="cannot be recorded as a parameter"):
        bad.trace()


def test_wrong_step_argument_type_is_a_parameter_error() -> None:
    @pipeline
    def bad() -> None:
        add(one(), y="lots")

    with pytest.raises(ParameterError, match=r"step 'add' argument 'y': expected int"):
        bad.trace()


def test_bad_call_signature_is_a_definition_error() -> None:
    @pipeline
    def bad() -> None:
        add(one(), 1, 2)

    with pytest.raises(DefinitionError, match="do not fit its signature"):
        bad.trace()


def test_generated_names_never_collide_with_a_step_named_like_them() -> None:
    @step(name="add_2")
    def other(x: int) -> int:
        return x

    @pipeline
    def pipe() -> None:
        x = one()
        y = add(x)
        z = other(x)
        w = add(y)
        add(z, w)

    names = [n.name for n in pipe.trace().nodes]
    assert names == ["one", "add", "add_2", "add_3", "add_4"]
    assert len(set(names)) == len(names)
