"""Execution records: writing a step's execution with everything it made, and reading them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from assay.errors import MetadataError, RecordExistsError, RecordNotFoundError
from assay.metadata import queries as q
from assay.metadata import rows as rec
from assay.metadata import schema as t
from assay.metadata.audit import Sealer
from assay.metadata.governance import verdict_entry
from assay.metadata.records import (
    ArtifactRecord,
    EventRecord,
    ExecutionRecord,
    GateVerdictRecord,
    MetricRecord,
    Registration,
)
from assay.metadata.rows import asdict
from assay.metadata.state import lock_state
from assay.metadata.writes import (
    RETRIES,
    execution_entry,
    insert_metrics,
    merge_params,
    raise_unless_version_taken,
    register_in,
    registered_entry,
)

__all__ = ["CachedExecution", "ExecutionBundle", "ExecutionRecords"]

ExecutionBundle = tuple[
    ExecutionRecord, Sequence[ArtifactRecord], Sequence[EventRecord], Sequence[MetricRecord]
]
"""One execution with the artifacts, events and metrics written along with it."""


@dataclass(frozen=True, slots=True)
class CachedExecution:
    """A finished execution a new one may reuse: its id, outputs and logged metrics."""

    execution_id: str
    outputs: dict[str, ArtifactRecord]
    metrics: tuple[MetricRecord, ...]
    logged_params: dict[str, Any]


class ExecutionRecords:
    """The execution part of the metadata store (mixed into ``MetadataStore``)."""

    _read: Callable[[], AbstractContextManager[sa.Connection]]
    _write: Callable[[], AbstractContextManager[sa.Connection]]
    _insert_artifacts: Any
    audit: Callable[..., None]
    sealer: Sealer | None

    def record_execution(
        self,
        execution: ExecutionRecord,
        artifacts: Sequence[ArtifactRecord] = (),
        events: Sequence[EventRecord] = (),
        metrics: Sequence[MetricRecord] = (),
        registrations: Sequence[Registration] = (),
        verdicts: Sequence[GateVerdictRecord] = (),
    ) -> None:
        """Write one finished execution with everything it produced, atomically."""
        self.record_executions([(execution, artifacts, events, metrics)], registrations, verdicts)

    def record_executions(
        self,
        batch: Sequence[ExecutionBundle],
        registrations: Sequence[Registration] = (),
        verdicts: Sequence[GateVerdictRecord] = (),
    ) -> None:
        """Write executions with their artifacts, events, metrics and model registrations.

        Everything goes in one transaction: a model version never points at an execution
        that was not recorded.
        """
        if not batch:
            return
        for _ in range(RETRIES):
            try:
                return self._record_once(batch, registrations, verdicts)
            except sa.exc.IntegrityError as exc:
                try:
                    raise_unless_version_taken(exc)
                except sa.exc.IntegrityError:
                    self._refuse(batch)
                    raise
        raise MetadataError("could not record the execution: too much contention")

    def _refuse(self, batch: Sequence[ExecutionBundle]) -> None:
        """Raise the mistake that made ``batch`` break the database's rules, if it was one:
        an execution id taken, or a run or artifact that is not recorded."""
        ids = [e.id for e, _, _, _ in batch]
        runs = {e.run_id for e, _, _, _ in batch}
        named = {ev.digest for _, _, events, _ in batch for ev in events}
        with self._read() as conn:
            taken = conn.execute(
                sa.select(t.executions.c.id).where(t.executions.c.id.in_(ids))
            ).first()
            found_runs = set(
                conn.execute(sa.select(t.runs.c.id).where(t.runs.c.id.in_(runs))).scalars()
            )
            recorded = set(
                conn.execute(
                    sa.select(t.artifacts.c.digest).where(t.artifacts.c.digest.in_(named))
                ).scalars()
            )
        if taken is not None:
            raise RecordExistsError(
                f"an execution with id {taken[0]!r} is recorded already",
                hint="record each execution once, under an id of its own",
            )
        if runs - found_runs:
            raise RecordNotFoundError(f"no run has id {sorted(runs - found_runs)[0]!r}")
        written = {a.digest for _, artifacts, _, _ in batch for a in artifacts}
        if named - recorded - written:
            raise RecordNotFoundError(
                f"an event names artifact {sorted(named - recorded - written)[0][:12]}, "
                "which is not recorded",
                hint="send an artifact's record with the first execution that uses it",
            )

    def _record_once(
        self,
        batch: Sequence[ExecutionBundle],
        registrations: Sequence[Registration],
        verdicts: Sequence[GateVerdictRecord],
    ) -> None:
        arts: dict[str, ArtifactRecord] = {}
        for _, artifacts, _, _ in batch:
            for a in artifacts:
                arts.setdefault(a.digest, a)  # the first producer is the one recorded
        evs = [asdict(e) for _, _, events, _ in batch for e in events]
        mets = [m for _, _, _, metrics in batch for m in metrics]
        with self._write() as conn:
            if arts:
                conn.execute(self._insert_artifacts, [asdict(a) for a in arts.values()])
            conn.execute(t.executions.insert(), [asdict(e) for e, _, _, _ in batch])
            if evs:
                conn.execute(t.events.insert(), evs)
            insert_metrics(conn, mets)
            for execution, _, _, _ in batch:
                if execution.logged_params:
                    merge_params(conn, execution.run_id, execution.logged_params)
            entries = [execution_entry(e, events, artifacts) for e, artifacts, events, _ in batch]
            # After the artifacts, as every other writer takes the head's lock after them:
            # the other order could deadlock on PostgreSQL. A verdict also rests on the
            # version it judges and on the one production holds.
            governed = (["model_versions"] if registrations else []) + (
                ["gate_verdicts", "model_versions", "model_aliases"] if verdicts else []
            )
            if governed:
                lock_state(conn, governed, self.sealer)
            for registration in registrations:
                version, new = register_in(conn, registration)
                if new:
                    entries.append(registered_entry(version))
            for verdict in verdicts:
                conn.execute(t.gate_verdicts.insert().values(asdict(verdict)))
                entries.append(verdict_entry(verdict))
            self.audit(conn, entries)

    def find_cached(self, cache_key: str) -> CachedExecution | None:
        """The newest successful execution with ``cache_key``, with its outputs and metrics."""
        with self._read() as conn:
            rows = conn.execute(q.FIND_CACHED, {"key": cache_key}).mappings().all()
            if not rows:
                return None
            execution_id = rows[0]["execution_id"]
            outputs = {r["name"]: rec.artifact(r) for r in rows if r["digest"] is not None}
            logged: tuple[MetricRecord, ...] = ()
            if rows[0]["has_metrics"]:
                found = conn.execute(q.METRICS_OF_EXECUTION, {"ex": execution_id}).mappings()
                logged = tuple(rec.metric(m) for m in found)
        return CachedExecution(execution_id, outputs, logged, dict(rows[0]["logged_params"]))

    def executions(self, run_id: str) -> list[ExecutionRecord]:
        """The executions of a run, in the order they started."""
        with self._read() as conn:
            rows = conn.execute(q.EXECUTIONS_OF_RUN, {"run": run_id}).mappings()
            return [rec.execution(r) for r in rows]

    def get_execution(self, execution_id: str) -> ExecutionRecord:
        """The execution whose id is or starts with ``execution_id``."""
        with self._read() as conn:
            row = rec.one_by_prefix(
                conn, t.executions, t.executions.c.id, execution_id, "execution"
            )
        return rec.execution(row)

    def events_of(self, execution_ids: Sequence[str]) -> list[EventRecord]:
        """Input and output events of the given executions."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(t.events)
                .where(t.events.c.execution_id.in_(list(execution_ids)))
                .order_by(t.events.c.id)
            ).mappings()
            return [rec.event(r) for r in rows]

    def events_for(self, digest: str, direction: str) -> list[EventRecord]:
        """Events where ``digest`` went in (``input``) or came out (``output``)."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(t.events)
                .where(t.events.c.digest == digest, t.events.c.direction == direction)
                .order_by(t.events.c.id)
            ).mappings()
            return [rec.event(r) for r in rows]
