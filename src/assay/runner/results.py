"""What a run reports back while it runs (an observer) and when it ends (a result)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["ExecutionResult", "RunObserver", "RunResult"]


class RunObserver(Protocol):
    """Told as steps start and finish, to show progress; must be quick and never raise."""

    def run_started(self, run_id: str, steps: list[str]) -> None:
        """A run was recorded and is about to run ``steps``."""

    def step_started(self, name: str) -> None:
        """A step began executing (not called for cache hits)."""

    def step_finished(self, name: str, status: str, seconds: float) -> None:
        """A step ended: ``succeeded``, ``cached`` or ``failed``."""


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """How one step of a run ended and the digests of its outputs."""

    step: str
    execution_id: str
    status: str
    seconds: float
    outputs: dict[str, str]
    cached_from: str | None = None


@dataclass(frozen=True, slots=True)
class RunResult:
    """The outcome of a run: its id, status and each step's result, in DAG order."""

    run_id: str
    pipeline: str
    status: str
    executions: list[ExecutionResult] = field(default_factory=list)

    @property
    def reused(self) -> int:
        """How many steps were reused from the cache."""
        return sum(1 for e in self.executions if e.status == "cached")
