"""The runs repository: what records a run (its start, parameters, metrics, tags and end)
and reads it back, whether the store is a database (``MetadataStore``) or a team server
(``assay.remote.HttpRuns``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args

from assay.metadata.records import MetricRecord, RunRecord

__all__ = ["FINISHED", "Finished", "RunEnd", "RunRepository"]

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
