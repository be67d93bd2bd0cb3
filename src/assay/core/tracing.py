"""The tracer that records step calls while a ``@pipeline`` function runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assay.core.step import Step

__all__ = ["Tracer", "active", "tracing"]


@dataclass
class Tracer:
    """Collects ``(name, step, arguments)`` in call order; names are made unique."""

    calls: list[tuple[str, Step, dict[str, Any]]] = field(default_factory=list)
    _taken: set[str] = field(default_factory=set)

    def add(self, step: Step, arguments: dict[str, Any]) -> str:
        """Record one call and return the node name given to it: the step's name, or
        ``NAME_2``, ``NAME_3``, ... for later calls, skipping names already taken."""
        name, n = step.name, 1
        while name in self._taken:
            n += 1
            name = f"{step.name}_{n}"
        self._taken.add(name)
        self.calls.append((name, step, arguments))
        return name


_ACTIVE: ContextVar[Tracer | None] = ContextVar("assay_tracer", default=None)


def active() -> Tracer | None:
    """The tracer of the pipeline being traced in this thread, if any."""
    return _ACTIVE.get()


@contextmanager
def tracing() -> Iterator[Tracer]:
    """Trace step calls made inside the block."""
    tracer = Tracer()
    token = _ACTIVE.set(tracer)
    try:
        yield tracer
    finally:
        _ACTIVE.reset(token)
