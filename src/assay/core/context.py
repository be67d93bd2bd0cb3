"""The step context: what a running step may ask of the runner that runs it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from assay.errors import DefinitionError

__all__ = ["StepContext", "current_context", "use_context"]


class StepContext(Protocol):
    """Services the runner offers to the step it is running."""

    @property
    def run_id(self) -> str:
        """Id of the run this step belongs to."""

    @property
    def step_name(self) -> str:
        """Unique name of the step inside its pipeline."""

    def log_metrics(self, metrics: Mapping[str, float], *, step: int | None = None) -> None:
        """Record metrics for the run, written with the step's other records."""

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record parameters of the run; a name keeps one value for the whole run."""

    def annotate(self, *, tags: Mapping[str, str] | None = None, note: str | None = None) -> None:
        """Set tags of the run and, if given, its free-text note."""

    def register_model(
        self, name: str, *, input_name: str, metadata: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Register the artifact bound to ``input_name`` as a new version of model ``name``."""

    def add_output(self, name: str, value: Any, *, kind: str | None = None) -> None:
        """Store ``value`` as one more output of this step, named ``name``, besides the
        outputs it returns (a built-in step's by-product, such as a model's serving form)."""


_CURRENT: ContextVar[StepContext | None] = ContextVar("assay_step_context", default=None)


def current_context() -> StepContext:
    """The context of the step running in this thread.

    Raises:
        DefinitionError: called outside a running step.
    """
    ctx = _CURRENT.get()
    if ctx is None:
        raise DefinitionError(
            "this call needs a running step or run",
            hint="call it inside a @step function, or inside `with assay.start_run():`",
        )
    return ctx


@contextmanager
def use_context(ctx: StepContext) -> Iterator[None]:
    """Make ``ctx`` the current step context for the duration of the block."""
    token = _CURRENT.set(ctx)
    try:
        yield
    finally:
        _CURRENT.reset(token)
