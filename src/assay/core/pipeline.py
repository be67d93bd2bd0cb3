"""Pipelines: a ``@pipeline`` function traced with concrete parameters into a DAG of step calls."""

from __future__ import annotations

import functools
import pathlib
import traceback
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic.errors import PydanticSchemaGenerationError

from assay.core import tracing
from assay.core.digest import canonical_json
from assay.core.step import InputRef, ParamSpec, Step, Unresolved, param_specs
from assay.errors import AssayError, DefinitionError, ParameterError

__all__ = ["Dag", "Node", "Pipeline", "coerce", "pipeline"]


@dataclass(frozen=True, slots=True)
class Node:
    """One call of a step in a DAG: upstream outputs it consumes and parameter values it got."""

    name: str
    step: Step
    inputs: Mapping[str, InputRef]
    params: Mapping[str, Any]

    @property
    def upstream(self) -> frozenset[str]:
        """Names of the nodes whose outputs this node consumes."""
        return frozenset(ref.node for ref in self.inputs.values())


@dataclass(frozen=True, slots=True)
class Dag:
    """A traced pipeline: its nodes in a topological (call) order and the parameters used."""

    pipeline: str
    nodes: tuple[Node, ...]
    params: Mapping[str, Any]

    def node(self, name: str) -> Node:
        """The node called ``name``.

        Raises:
            DefinitionError: no such node.
        """
        for n in self.nodes:
            if n.name == name:
                return n
        known = ", ".join(n.name for n in self.nodes)
        raise DefinitionError(f"unknown step {name!r}", hint=f"steps are: {known}")


class Pipeline:
    """A function whose step calls, made with concrete parameters, form a DAG."""

    def __init__(self, func: Callable[..., Any], *, name: str | None = None) -> None:
        self.func = func
        self.name = name or func.__name__
        self.params = param_specs(func, "pipeline")
        functools.update_wrapper(self, func)

    def __repr__(self) -> str:
        return f"<Pipeline {self.name}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def coerce_params(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Validate ``raw`` against the signature and fill defaults.

        Strings are converted the way a command line needs (``"0.5"`` to a float).

        Raises:
            ParameterError: an unknown name, a missing required value or a wrong type.
        """
        known = {p.name: p for p in self.params}
        unknown = sorted(set(raw) - set(known))
        if unknown:
            raise ParameterError(
                f"unknown parameter {unknown[0]!r} for pipeline {self.name!r}",
                hint=f"parameters are: {', '.join(known) or '(none)'}",
            )
        values: dict[str, Any] = {}
        for spec in self.params:
            if spec.name in raw:
                values[spec.name] = coerce(spec, raw[spec.name], f"parameter {spec.name!r}")
            elif spec.required:
                raise ParameterError(
                    f"missing required parameter {spec.name!r} of pipeline {self.name!r}",
                    hint=f"pass --param {spec.name}=VALUE",
                )
            else:
                values[spec.name] = spec.default
        return values

    def trace(self, raw_params: Mapping[str, Any] | None = None) -> Dag:
        """Run the pipeline function with tracing on and return the DAG it built.

        Raises:
            ParameterError: invalid parameters.
            DefinitionError: a step called with arguments that cannot be recorded.
        """
        params = self.coerce_params(raw_params or {})
        with tracing.tracing() as tracer:
            try:
                self.func(**params)
            except AssayError:
                raise
            except Exception as exc:
                raise DefinitionError(
                    f"pipeline {self.name!r} raised while building its steps: "
                    f"{type(exc).__name__}: {exc}{_where(exc)}",
                    hint="a @pipeline function should only call steps and pass their outputs",
                ) from None
        nodes = tuple(_node(name, s, args) for name, s, args in tracer.calls)
        if not nodes:
            raise DefinitionError(
                f"pipeline {self.name!r} called no steps",
                hint="call @step functions inside the @pipeline function",
            )
        return Dag(self.name, nodes, params)


def pipeline(func: Callable[..., Any] | None = None, /, *, name: str | None = None) -> Any:
    """Mark a function whose body calls steps as a pipeline.

    Its arguments are the pipeline's parameters; each needs a type hint.
    """

    def wrap(f: Callable[..., Any]) -> Pipeline:
        return Pipeline(f, name=name)

    return wrap(func) if func is not None else wrap


def coerce(spec: ParamSpec, value: Any, where: str) -> Any:
    """Validate ``value`` against ``spec``'s type hint, converting strings where lax rules allow.

    Raises:
        ParameterError: the value does not fit the type.
    """
    if spec.annotation is Any or isinstance(spec.annotation, Unresolved):
        return value
    try:
        adapter = _adapter(spec.annotation)
    except (PydanticSchemaGenerationError, TypeError):
        return value
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        detail = exc.errors()[0]["msg"]
        raise ParameterError(
            f"{where}: expected {_type_name(spec.annotation)}, got {value!r}",
            hint=detail[0].lower() + detail[1:],
        ) from None


@functools.lru_cache(maxsize=256)
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f" (line {frames[-1].lineno} of {frames[-1].filename})" if frames else ""


def _type_name(annotation: Any) -> str:
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]  # the type, not its constraints
    return getattr(annotation, "__name__", None) or repr(annotation).replace("typing.", "")


def _node(name: str, step: Step, arguments: Mapping[str, Any]) -> Node:
    specs = {p.name: p for p in step.params}
    inputs: dict[str, InputRef] = {}
    params: dict[str, Any] = {}
    for arg, value in arguments.items():
        if isinstance(value, InputRef):
            inputs[arg] = value
            continue
        if isinstance(value, tuple) and value and all(isinstance(v, InputRef) for v in value):
            raise DefinitionError(
                f"step {name!r} argument {arg!r} got all outputs of a multi-output step",
                hint="unpack them, for example `train, test = split(...)`",
            )
        coerced = coerce(specs[arg], value, f"step {name!r} argument {arg!r}")
        if not isinstance(coerced, pathlib.Path):
            try:
                canonical_json(coerced)
            except TypeError:
                raise DefinitionError(
                    f"step {name!r} argument {arg!r} got a {type(value).__name__}, which "
                    "cannot be recorded as a parameter",
                    hint="pass JSON-able values (str, int, float, bool, list, dict), a "
                    "pathlib.Path, or the output of another step",
                ) from None
        params[arg] = coerced
    return Node(name, step, inputs, params)
