"""The metadata repository: every read and write of runs, executions, artifacts and models."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import sqlalchemy as sa

from assay.errors import MetadataError, RecordNotFoundError
from assay.metadata import schema as t
from assay.metadata.records import (
    ArtifactRecord,
    EventRecord,
    ExecutionRecord,
    MetricRecord,
    ModelVersionRecord,
    RunRecord,
)

__all__ = ["CachedExecution", "ExecutionBundle", "MetadataStore"]

ExecutionBundle = tuple[
    ExecutionRecord, Sequence[ArtifactRecord], Sequence[EventRecord], Sequence[MetricRecord]
]
"""One execution with the artifacts, events and metrics written along with it."""

# Statements on the hot path of a run are built once: constructing SQLAlchemy expressions
# costs more than executing them against SQLite.
_NEWEST = (
    sa.select(t.executions.c.id)
    .where(t.executions.c.cache_key == sa.bindparam("key"), t.executions.c.status == "succeeded")
    .order_by(t.executions.c.ended_at.desc())
    .limit(1)
    .scalar_subquery()
)
_FIND_CACHED = (
    sa.select(
        t.executions.c.id.label("execution_id"),
        sa.exists()
        .where(t.metrics.c.execution_id == t.executions.c.id)
        .label("has_metrics"),
        t.events.c.name,
        t.artifacts,
    )
    .select_from(t.executions)
    .outerjoin(
        t.events,
        sa.and_(t.events.c.execution_id == t.executions.c.id, t.events.c.direction == "output"),
    )
    .outerjoin(t.artifacts, t.artifacts.c.digest == t.events.c.digest)
    .where(t.executions.c.id == _NEWEST)
)
_METRICS_OF_EXECUTION = sa.select(t.metrics).where(
    t.metrics.c.execution_id == sa.bindparam("ex")
)


def _insert_ignoring_duplicates(dialect: str, table: sa.Table) -> sa.Executable:
    # Artifacts are immutable and keyed by digest: a second insert of one is a no-op.
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert  # noqa: PLC0415

        return sqlite_insert(table).on_conflict_do_nothing()
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert  # noqa: PLC0415

        return pg_insert(table).on_conflict_do_nothing()
    return table.insert().prefix_with("IGNORE")


@dataclass(frozen=True, slots=True)
class CachedExecution:
    """A finished execution a new one may reuse: its id, outputs and logged metrics."""

    execution_id: str
    outputs: dict[str, ArtifactRecord]
    metrics: tuple[MetricRecord, ...]


class MetadataStore:
    """Reads and writes metadata records; each write method is one transaction."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(assay_write=True)
        self._insert_artifacts = _insert_ignoring_duplicates(engine.dialect.name, t.artifacts)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    # -- runs -------------------------------------------------------------------------

    def insert_run(self, run: RunRecord) -> None:
        """Record a run that has started."""
        with self._writer.begin() as conn:
            conn.execute(t.runs.insert().values(asdict(run)))

    def finish_run(
        self,
        run_id: str,
        status: str,
        *,
        error: str | None = None,
        traceback: str | None = None,
    ) -> None:
        """Record how and when a run ended."""
        with self._writer.begin() as conn:
            conn.execute(
                t.runs.update()
                .where(t.runs.c.id == run_id)
                .values(status=status, ended_at=time.time(), error=error, traceback=traceback)
            )

    def reap_runs(self, host: str, dead_pids: Iterable[int], status: str = "killed") -> int:
        """Mark runs left ``running`` by processes of ``host`` that no longer exist."""
        pids = list(dead_pids)
        if not pids:
            return 0
        with self._writer.begin() as conn:
            ids = conn.execute(
                sa.select(t.runs.c.id).where(
                    t.runs.c.status == "running", t.runs.c.host == host, t.runs.c.pid.in_(pids)
                )
            ).scalars().all()
            if ids:
                now = time.time()
                conn.execute(
                    t.runs.update()
                    .where(t.runs.c.id.in_(ids))
                    .values(status=status, ended_at=now, error="the process running it ended")
                )
        return len(ids)

    def running_pids(self, host: str) -> list[int]:
        """Process ids of runs recorded as ``running`` on ``host``."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.runs.c.pid).where(t.runs.c.status == "running", t.runs.c.host == host)
            )
            return sorted({r[0] for r in rows})

    def get_run(self, ref: str) -> RunRecord:
        """The run whose id is or starts with ``ref``.

        Raises:
            RecordNotFoundError: no run, or more than one, matches.
        """
        with self.engine.connect() as conn:
            row = _one(conn, t.runs, t.runs.c.id, ref, "run")
        return _run(row)

    def list_runs(self, *, limit: int = 20, pipeline: str | None = None) -> list[RunRecord]:
        """The newest runs first."""
        q = sa.select(t.runs).order_by(t.runs.c.started_at.desc()).limit(limit)
        if pipeline:
            q = q.where(t.runs.c.pipeline == pipeline)
        with self.engine.connect() as conn:
            return [_run(r) for r in conn.execute(q).mappings()]

    # -- executions ---------------------------------------------------------------------

    def record_execution(
        self,
        execution: ExecutionRecord,
        artifacts: Sequence[ArtifactRecord] = (),
        events: Sequence[EventRecord] = (),
        metrics: Sequence[MetricRecord] = (),
    ) -> None:
        """Write one finished execution with its artifacts, events and metrics atomically."""
        self.record_executions([(execution, artifacts, events, metrics)])

    def record_executions(self, batch: Sequence[ExecutionBundle]) -> None:
        """Write several executions, each with its artifacts, events and metrics, in one transaction."""
        if not batch:
            return
        arts = {a.digest: a for _, artifacts, _, _ in batch for a in artifacts}
        evs = [asdict(e) for _, _, events, _ in batch for e in events]
        mets = [asdict(m) for _, _, _, metrics in batch for m in metrics]
        with self._writer.begin() as conn:
            if arts:
                conn.execute(self._insert_artifacts, [asdict(a) for a in arts.values()])
            conn.execute(t.executions.insert(), [asdict(e) for e, _, _, _ in batch])
            if evs:
                conn.execute(t.events.insert(), evs)
            if mets:
                conn.execute(t.metrics.insert(), mets)

    def find_cached(self, cache_key: str) -> CachedExecution | None:
        """The newest successful execution with ``cache_key``, with its outputs and metrics."""
        with self.engine.connect() as conn:
            rows = conn.execute(_FIND_CACHED, {"key": cache_key}).mappings().all()
            if not rows:
                return None
            execution_id = rows[0]["execution_id"]
            outputs = {r["name"]: _artifact(r) for r in rows if r["digest"] is not None}
            logged: tuple[MetricRecord, ...] = ()
            if rows[0]["has_metrics"]:
                found = conn.execute(_METRICS_OF_EXECUTION, {"ex": execution_id}).mappings()
                logged = tuple(_metric(m) for m in found)
        return CachedExecution(execution_id, outputs, logged)

    def executions(self, run_id: str) -> list[ExecutionRecord]:
        """The executions of a run, in the order they started."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.executions)
                .where(t.executions.c.run_id == run_id)
                .order_by(t.executions.c.started_at)
            ).mappings()
            return [_execution(r) for r in rows]

    def get_execution(self, execution_id: str) -> ExecutionRecord:
        """The execution with this exact id."""
        with self.engine.connect() as conn:
            row = _one(conn, t.executions, t.executions.c.id, execution_id, "execution")
        return _execution(row)

    def events_of(self, execution_ids: Sequence[str]) -> list[EventRecord]:
        """Input and output events of the given executions."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.events)
                .where(t.events.c.execution_id.in_(list(execution_ids)))
                .order_by(t.events.c.id)
            ).mappings()
            return [_event(r) for r in rows]

    def events_for(self, digest: str, direction: str) -> list[EventRecord]:
        """Events where ``digest`` went in (``input``) or came out (``output``)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.events)
                .where(t.events.c.digest == digest, t.events.c.direction == direction)
                .order_by(t.events.c.id)
            ).mappings()
            return [_event(r) for r in rows]

    # -- artifacts and metrics ------------------------------------------------------------

    def get_artifact(self, ref: str) -> ArtifactRecord:
        """The artifact whose digest is or starts with ``ref`` (``sha256:`` prefix allowed).

        Raises:
            RecordNotFoundError: no artifact, or more than one, matches.
        """
        ref = ref.removeprefix("sha256:").lower()
        with self.engine.connect() as conn:
            row = _one(conn, t.artifacts, t.artifacts.c.digest, ref, "artifact")
        return _artifact(row)

    def metrics(self, run_id: str) -> list[MetricRecord]:
        """Every metric value of a run, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.metrics).where(t.metrics.c.run_id == run_id).order_by(t.metrics.c.id)
            ).mappings()
            return [_metric(r) for r in rows]

    # -- models -----------------------------------------------------------------------------

    def register_version(
        self,
        name: str,
        *,
        digest: str,
        codec: str,
        run_id: str,
        execution_id: str,
        user: str,
        info: Mapping[str, Any],
    ) -> ModelVersionRecord:
        """Add ``digest`` as the next version of model ``name``; the same digest is not added twice."""
        for _ in range(20):
            try:
                return self._register_once(name, digest, codec, run_id, execution_id, user, info)
            except sa.exc.IntegrityError:
                continue  # another process took this version number; take the next one
        raise MetadataError(f"could not register a version of model {name!r}: too much contention")

    def _register_once(
        self,
        name: str,
        digest: str,
        codec: str,
        run_id: str,
        execution_id: str,
        user: str,
        info: Mapping[str, Any],
    ) -> ModelVersionRecord:
        mv = t.model_versions
        with self._writer.begin() as conn:
            existing = conn.execute(
                sa.select(mv).where(mv.c.name == name, mv.c.digest == digest).limit(1)
            ).mappings().first()
            if existing is not None:
                return _version(existing)
            now = time.time()
            if conn.execute(sa.select(t.models.c.name).where(t.models.c.name == name)).first() is None:
                conn.execute(t.models.insert().values(name=name, created_at=now, created_by=user))
            latest = conn.execute(sa.select(sa.func.max(mv.c.version)).where(mv.c.name == name))
            record = ModelVersionRecord(
                name=name,
                version=(latest.scalar() or 0) + 1,
                digest=digest,
                codec=codec,
                run_id=run_id,
                execution_id=execution_id,
                created_at=now,
                created_by=user,
                info=dict(info),
            )
            conn.execute(mv.insert().values(asdict(record)))
        return record

    def model_versions(self, name: str | None = None) -> list[ModelVersionRecord]:
        """Registered versions, by model name then version."""
        mv = t.model_versions
        q = sa.select(mv).order_by(mv.c.name, mv.c.version)
        if name is not None:
            q = q.where(mv.c.name == name)
        with self.engine.connect() as conn:
            return [_version(r) for r in conn.execute(q).mappings()]

    def model_version(self, name: str, version: int | None) -> ModelVersionRecord | None:
        """Version ``version`` of ``name``, or its latest when ``version`` is None."""
        mv = t.model_versions
        q = sa.select(mv).where(mv.c.name == name)
        q = q.where(mv.c.version == version) if version is not None else q
        q = q.order_by(mv.c.version.desc()).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(q).mappings().first()
        return _version(row) if row is not None else None

    def model_names(self) -> list[str]:
        """Every registered model name."""
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(t.models.c.name).order_by(t.models.c.name)).scalars())

    def versions_of_digests(self, digests: Sequence[str]) -> list[ModelVersionRecord]:
        """Model versions registered from any of ``digests``."""
        mv = t.model_versions
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(mv).where(mv.c.digest.in_(list(digests)))).mappings()
            return [_version(r) for r in rows]


def _one(
    conn: sa.Connection, table: sa.Table, column: sa.Column[Any], ref: str, noun: str
) -> sa.RowMapping:
    ref = ref.strip()
    if not ref:
        raise RecordNotFoundError(f"empty {noun} id", hint=f"give a {noun} id or a prefix of one")
    rows = conn.execute(
        sa.select(table).where(column.startswith(ref, autoescape=True)).limit(2)
    ).mappings().all()
    if not rows:
        raise RecordNotFoundError(
            f"no {noun} with id {ref!r}", hint=f"list them with `assay {noun}s list`"
        )
    if len(rows) > 1:
        raise RecordNotFoundError(
            f"{noun} id {ref!r} is ambiguous", hint="give more characters of the id"
        )
    return rows[0]


def asdict(record: Any) -> dict[str, Any]:
    """A record's fields as a dict; shallow, unlike ``dataclasses.asdict``, which deep-copies."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


def _fields(cls: type, row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in cls.__dataclass_fields__}  # type: ignore[attr-defined]


def _run(row: Mapping[str, Any]) -> RunRecord:
    return RunRecord(**_fields(RunRecord, row))


def _execution(row: Mapping[str, Any]) -> ExecutionRecord:
    return ExecutionRecord(**_fields(ExecutionRecord, row))


def _artifact(row: Mapping[str, Any]) -> ArtifactRecord:
    return ArtifactRecord(**_fields(ArtifactRecord, row))


def _event(row: Mapping[str, Any]) -> EventRecord:
    return EventRecord(**_fields(EventRecord, row))


def _metric(row: Mapping[str, Any]) -> MetricRecord:
    return MetricRecord(**_fields(MetricRecord, row))


def _version(row: Mapping[str, Any]) -> ModelVersionRecord:
    return ModelVersionRecord(**_fields(ModelVersionRecord, row))
