"""Steps: typed Python functions whose signature declares their inputs, parameters and outputs."""

from __future__ import annotations

import builtins
import functools
import inspect
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

from assay.core import tracing
from assay.core.fingerprint import fingerprint
from assay.errors import DefinitionError

__all__ = [
    "InputRef",
    "OutputSpec",
    "ParamSpec",
    "Step",
    "Unresolved",
    "param_specs",
    "resolve_hints",
    "step",
]


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One argument of a step: its name, type hint and default (``inspect.Parameter.empty``)."""

    name: str
    annotation: Any
    default: Any

    @property
    def required(self) -> bool:
        """True when the argument has no default."""
        return self.default is inspect.Parameter.empty


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """One output of a step: its name, type hint and artifact kind (``None``: from the codec)."""

    name: str
    annotation: Any
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class InputRef:
    """A handle to one output of one step call, passed between calls while a pipeline is traced."""

    node: str
    output: str


class Step:
    """A typed function made into a pipeline step.

    Calling a step outside a pipeline runs the function; calling it while a ``@pipeline``
    is traced adds a node to the DAG and returns handles to its outputs.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        version: str | None = None,
        outputs: Sequence[str] | Mapping[str, str] | None = None,
        cache: bool = True,
    ) -> None:
        self.func = func
        self.name = name or func.__name__
        self.version = version
        self.cache = cache
        self.params = param_specs(func)
        self.outputs = _output_specs(func, outputs)
        functools.update_wrapper(self, func)

    def __repr__(self) -> str:
        return f"<Step {self.name}>"

    @functools.cached_property
    def fingerprint(self) -> str:
        """Hash of the step's code, the helpers and constants it uses, and its version.

        Computed on first use, when the module that defines the step has finished loading
        and helpers defined below the step exist.
        """
        return fingerprint(self.func, self.version)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        tracer = tracing.active()
        if tracer is None:
            return self.func(*args, **kwargs)
        bound = self.bind(args, kwargs)
        node = tracer.add(self, bound)
        refs = tuple(InputRef(node, out.name) for out in self.outputs)
        if not refs:
            return None
        return refs[0] if len(refs) == 1 else refs

    def bind(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """Bind call arguments to parameter names, filling defaults.

        Raises:
            DefinitionError: arguments that do not fit the signature.
        """
        try:
            bound = inspect.signature(self.func).bind(*args, **kwargs)
        except TypeError as exc:
            raise DefinitionError(
                f"step {self.name!r} called with arguments that do not fit its signature: {exc}",
                hint=f"match the signature of {self.name}{inspect.signature(self.func)}",
            ) from None
        bound.apply_defaults()
        return dict(bound.arguments)


@overload
def step(func: Callable[..., Any], /) -> Step: ...


@overload
def step(
    *,
    name: str | None = None,
    version: str | None = None,
    outputs: Sequence[str] | Mapping[str, str] | None = None,
    cache: bool = True,
) -> Callable[[Callable[..., Any]], Step]: ...


def step(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    version: str | None = None,
    outputs: Sequence[str] | Mapping[str, str] | None = None,
    cache: bool = True,
) -> Step | Callable[[Callable[..., Any]], Step]:
    """Mark a typed function as a pipeline step.

    Args:
        func: the function, when used as a bare ``@step``.
        name: step name (default: the function's name).
        version: declared version, part of the step's fingerprint; bump it when code the
            step calls (but does not contain) changes its results.
        outputs: names of the outputs of a step returning a tuple, or a mapping of output
            name to artifact kind (``"dataset"``, ``"model"``, ``"metrics"``, ...).
        cache: False for a step that must run every time because it reads the store's
            current state (a gate comparing with the production model, say).

    Raises:
        DefinitionError: a parameter or the return value has no type hint, or the
            declared outputs do not match the return annotation.
    """

    def wrap(f: Callable[..., Any]) -> Step:
        return Step(f, name=name, version=version, outputs=outputs, cache=cache)

    return wrap(func) if func is not None else wrap


def resolve_hints(func: Callable[..., Any]) -> dict[str, Any]:
    """The type hints of ``func``, with names it cannot resolve standing in as ``Unresolved``.

    A module may import a heavy library only under ``TYPE_CHECKING`` so that a cached run
    need not import it; hints naming it still tell assay their shape (``tuple[pd.DataFrame,
    dict]`` has two items) and are treated like ``Any`` when values are checked.
    """
    try:
        return typing.get_type_hints(func, include_extras=True)
    except (NameError, SyntaxError):
        pass
    namespace = getattr(func, "__globals__", {})
    hints: dict[str, Any] = {}
    for name, annotation in inspect.get_annotations(func).items():
        if isinstance(annotation, str):
            try:
                hints[name] = eval(annotation, namespace, _Lenient(namespace))  # noqa: S307
            except Exception as exc:  # a hint that is not an expression of names
                raise DefinitionError(
                    f"cannot read the type hint {annotation!r} of {func.__qualname__!r}: {exc}",
                    hint="write the hint as a type, for example `list[str]`",
                ) from None
        else:
            hints[name] = annotation
    return hints


class Unresolved:
    """Stands in for a name a type hint uses that is not importable when the step is made."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attr: str) -> Unresolved:
        return Unresolved(f"{self.name}.{attr}")

    def __getitem__(self, _item: Any) -> Unresolved:
        return self

    def __or__(self, _other: Any) -> Unresolved:
        return self

    def __ror__(self, _other: Any) -> Unresolved:
        return self

    def __repr__(self) -> str:
        return self.name


class _Lenient(dict[str, Any]):
    # eval() asks these locals first for every name, so known names must be passed through.
    def __init__(self, namespace: dict[str, Any]) -> None:
        super().__init__()
        self.namespace = namespace

    def __missing__(self, key: str) -> Any:
        if key in self.namespace:
            return self.namespace[key]
        return getattr(builtins, key, Unresolved(key))


def param_specs(func: Callable[..., Any], what: str = "step") -> tuple[ParamSpec, ...]:
    """The named, typed arguments of a step or pipeline function.

    Raises:
        DefinitionError: an argument has no type hint, or is ``*args`` / ``**kwargs``.
    """
    hints = resolve_hints(func)
    specs = []
    for p in inspect.signature(func).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise DefinitionError(
                f"{what} {func.__qualname__!r} takes *{p.name}; {what}s need named arguments",
                hint="list every input and parameter as a named, typed argument",
            )
        if p.name not in hints:
            raise DefinitionError(
                f"missing type hint for argument {p.name!r} of {what} {func.__qualname__!r}",
                hint=f"annotate it, for example `{p.name}: int`",
            )
        specs.append(ParamSpec(p.name, hints[p.name], p.default))
    return tuple(specs)


def _output_specs(
    func: Callable[..., Any], outputs: Sequence[str] | Mapping[str, str] | None
) -> tuple[OutputSpec, ...]:
    hints = resolve_hints(func)
    if "return" not in hints:
        raise DefinitionError(
            f"missing return type hint on step {func.__qualname__!r}",
            hint="annotate the return value, for example `-> pd.DataFrame` (or `-> None`)",
        )
    ret = hints["return"]
    if ret is None or ret is type(None):
        if outputs:
            raise DefinitionError(
                f"step {func.__qualname__!r} declares outputs but returns None",
                hint="annotate the return type to match the declared outputs",
            )
        return ()
    if outputs is None:
        return (OutputSpec("output", ret),)
    kinds = dict(outputs) if isinstance(outputs, Mapping) else dict.fromkeys(outputs)
    names = list(kinds)
    if len(names) == 1:
        return (OutputSpec(names[0], ret, kinds[names[0]]),)
    items = typing.get_args(ret) if typing.get_origin(ret) is tuple else ()
    if len(items) != len(names) or Ellipsis in items:
        raise DefinitionError(
            f"step {func.__qualname__!r} declares {len(names)} outputs {names} "
            f"but its return type is {ret!r}",
            hint=f"annotate the return as tuple[...] with {len(names)} items",
        )
    return tuple(OutputSpec(n, t, kinds[n]) for n, t in zip(names, items, strict=True))
