"""The runs and steps repositories: what records a run (its start, parameters, metrics,
tags and end) and its steps' executions, and reads them back, whether the store is a
database (``MetadataStore``) or a team server (``assay.remote.HttpRuns``, ``HttpSteps``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from assay.metadata.records import (
    ArtifactRecord,
    EventRecord,
    ExecutionRecord,
    GateVerdictRecord,
    MetricRecord,
    Registration,
    RunRecord,
)

if TYPE_CHECKING:  # executions.py needs RunEnd from here, through writes.py
    from assay.metadata.executions import CachedExecution, ExecutionBundle
    from assay.metadata.plan import Planned, PlannedStep

__all__ = ["FINISHED", "Finished", "RunEnd", "RunRepository", "StepRepository"]

Finished = Literal["succeeded", "failed", "interrupted", "killed"]
FINISHED: tuple[str, ...] = get_args(Finished)
"""The statuses a run ends with."""


@dataclass(frozen=True, slots=True)
class RunEnd:
    """How a run ended (one of ``FINISHED``), with the last parameters and metric values
    logged."""

    status: str
    error: str | None = None
    traceback: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    metrics: Sequence[MetricRecord] = ()


class RunRepository(Protocol):
    """Runs and their data. Every write names a run that exists (else
    ``RecordNotFoundError``) and is one transaction: all of it is recorded, or none."""

    def insert_run(self, run: RunRecord, end: RunEnd | None = None) -> None:
        """Record a run that has started (status ``running``); with ``end``, one that has
        ended too, in the same transaction.

        Raises:
            RecordExistsError: a run with its id is recorded already.
        """
        ...

    def annotate_run(
        self, run_id: str, *, tags: Mapping[str, str] | None = None, note: str | None = None
    ) -> None:
        """Set tags (a tag set again takes the new value) and, if given, replace the note."""
        ...

    def log_run_data(
        self, run_id: str, params: Mapping[str, Any], metrics: Sequence[MetricRecord]
    ) -> None:
        """Add parameters and metric values to a run."""
        ...

    def finish_run(
        self,
        run_id: str,
        status: str,
        *,
        error: str | None = None,
        traceback: str | None = None,
        params: Mapping[str, Any] | None = None,
        metrics: Sequence[MetricRecord] = (),
    ) -> None:
        """Record how and when a run ended (one of ``FINISHED``), with the last parameters
        and metric values logged."""
        ...

    def get_run(self, ref: str, *, whole: bool = True) -> RunRecord:
        """The run whose id is or starts with ``ref``; not ``whole``: without its package
        list and traceback."""
        ...

    def metrics(self, run_id: str) -> list[MetricRecord]:
        """Every metric value of a run, oldest first."""
        ...

    def latest_metrics(self, run_ids: Sequence[str]) -> dict[str, dict[str, float]]:
        """For each run, the last value of each metric (highest step, then latest)."""
        ...


class StepRepository(Protocol):
    """The executions of a run's steps, and the cache they are reused from. A batch is one
    transaction: all of it is recorded, or none."""

    def record_executions(
        self,
        batch: Sequence[ExecutionBundle],
        registrations: Sequence[Registration] = (),
        verdicts: Sequence[GateVerdictRecord] = (),
    ) -> None:
        """Record finished executions with the artifacts, events and metric values they
        made, the model versions they registered and the gate verdicts they reached.

        Raises:
            RecordExistsError: an execution with one of their ids is recorded already.
            RecordNotFoundError: their run, or an artifact an event names, is not recorded.
        """
        ...

    def record_execution(
        self,
        execution: ExecutionRecord,
        artifacts: Sequence[ArtifactRecord] = (),
        events: Sequence[EventRecord] = (),
        metrics: Sequence[MetricRecord] = (),
        registrations: Sequence[Registration] = (),
        verdicts: Sequence[GateVerdictRecord] = (),
    ) -> None:
        """Record one finished execution (see :meth:`record_executions`)."""
        ...

    def find_cached(self, cache_key: str) -> CachedExecution | None:
        """The newest successful execution with ``cache_key`` (whoever ran it), with its
        outputs and metric values; None when there is none."""
        ...

    def executions(self, run_id: str) -> list[ExecutionRecord]:
        """The executions of a run, in the order they started."""
        ...

    def plan_cache(self, steps: Sequence[PlannedStep], *, register: bool) -> Planned:
        """What the cache gives for a pipeline's cacheable ``steps`` before it runs (see
        ``metadata.plan.plan_cache``)."""
        ...
