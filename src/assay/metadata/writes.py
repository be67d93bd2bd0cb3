"""Writes that run inside the transaction of a larger write."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from assay.core import canonical_json, sha256_hex
from assay.errors import DataError, RecordNotFoundError
from assay.metadata import queries as q
from assay.metadata import rows as rec
from assay.metadata import schema as t
from assay.metadata.audit import AuditEntry
from assay.metadata.records import (
    ArtifactRecord,
    EventRecord,
    ExecutionRecord,
    MetricRecord,
    ModelVersionRecord,
    Registration,
    RunRecord,
)
from assay.metadata.rows import asdict
from assay.metadata.runs import RunEnd

__all__ = [
    "RETRIES",
    "end_in",
    "insert_metrics",
    "known_run",
    "merge_params",
    "raise_unless_version_taken",
    "register_in",
    "execution_entry",
    "packages_digest",
    "registered_entry",
    "run_started_entry",
]

# Two writers can pick the same next version number (PostgreSQL); the loser tries again.
RETRIES = 20


def raise_unless_version_taken(exc: sa.exc.IntegrityError) -> None:
    """Re-raise ``exc`` unless it is two writers taking the same version number."""
    text = str(exc.orig).lower()
    if "model_versions" not in text or ("unique" not in text and "duplicate" not in text):
        raise exc


def merge_params(conn: sa.Connection, run_id: str, logged: Mapping[str, Any]) -> None:
    """Add logged parameters to a run inside ``conn``'s transaction; a changed value fails."""
    params = conn.execute(sa.select(t.runs.c.params).where(t.runs.c.id == run_id)).scalar() or {}
    for key, value in logged.items():
        if key in params and params[key] != value:
            raise DataError(
                f"parameter {key!r} of run {run_id[:12]} is already {params[key]!r}; "
                f"it cannot also be {value!r}",
                hint="log each parameter once per run, or give the second one another name",
            )
    conn.execute(t.runs.update().where(t.runs.c.id == run_id).values(params={**params, **logged}))


def register_in(conn: sa.Connection, reg: Registration) -> tuple[ModelVersionRecord, bool]:
    """Register inside ``conn``'s transaction; the same digest returns its version.

    Returns the version and whether it is new.
    """
    mv = t.model_versions
    existing = (
        conn.execute(sa.select(mv).where(mv.c.name == reg.name, mv.c.digest == reg.digest))
        .mappings()
        .first()
    )
    if existing is not None:
        return rec.version(existing), False
    now = time.time()
    if conn.execute(sa.select(t.models.c.name).where(t.models.c.name == reg.name)).first() is None:
        conn.execute(t.models.insert().values(name=reg.name, created_at=now, created_by=reg.user))
    latest = conn.execute(sa.select(sa.func.max(mv.c.version)).where(mv.c.name == reg.name))
    record = ModelVersionRecord(
        name=reg.name,
        version=(latest.scalar() or 0) + 1,
        digest=reg.digest,
        codec=reg.codec,
        run_id=reg.run_id,
        execution_id=reg.execution_id,
        created_at=now,
        created_by=reg.user,
        info=dict(reg.info),
    )
    conn.execute(mv.insert().values(asdict(record)))
    return record, True


def registered_entry(record: ModelVersionRecord) -> AuditEntry:
    """The audit entry of a new model version."""
    return AuditEntry(
        "model.registered",
        f"model:{record.name}@{record.version}",
        {
            "digest": record.digest,
            "codec": record.codec,
            "run": record.run_id,
            "execution": record.execution_id,
            "info": record.info,
            "created_by": record.created_by,
            "created_at": record.created_at,
        },
    )


def insert_metrics(conn: sa.Connection, metrics: Sequence[MetricRecord]) -> None:
    """Insert metric values inside ``conn``'s transaction, NaN as NULL.

    Written through the driver in one executemany: SQLAlchemy's per-row parameter handling
    would cost more than SQLite's own work for the tens of thousands a sweep logs.
    """
    if not metrics:
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    columns = "run_id, key, value, timestamp, execution_id, step"
    rows = [
        (
            m.run_id,
            m.key,
            None if math.isnan(m.value) else m.value,  # NULL is NaN on every database
            m.timestamp,
            m.execution_id,
            m.step,
        )
        for m in metrics
    ]
    conn.exec_driver_sql(
        f"INSERT INTO metrics ({columns}) VALUES ({', '.join([mark] * 6)})",  # noqa: S608
        rows,
    )


def run_started_entry(run: RunRecord) -> AuditEntry:
    """The audit entry of a run that started: what ran, with which parameters and code."""
    return AuditEntry(
        "run.started",
        f"run:{run.id}",
        {
            "pipeline": run.pipeline,
            "source": run.source,
            "experiment": run.experiment,
            "params": run.params,
            "git_commit": run.git_commit,
            "git_dirty": run.git_dirty,
            "host": run.host,
            "python": run.python_version,
            "user": run.user,
            "pid": run.pid,
            "started_at": run.started_at,
            # The environment is sealed by its digest: a sweep's hundreds of runs would
            # otherwise each write the whole package list into the chain.
            "packages_sha256": packages_digest(run.packages),
        },
    )


def packages_digest(packages: Mapping[str, str]) -> str:
    """The digest of a run's package list, as its ``run.started`` event seals it."""
    return sha256_hex(canonical_json(dict(packages)).encode())


def execution_entry(
    execution: ExecutionRecord,
    events: Sequence[EventRecord],
    artifacts: Sequence[ArtifactRecord] = (),
) -> AuditEntry:
    """The audit entry of a recorded step execution: what ran, with which parameters and
    cache key, every artifact it read or wrote, and the records of the artifacts it brought
    into the store (a folder's files among them)."""
    return AuditEntry(
        f"step.{execution.status}",
        f"execution:{execution.id}",
        {
            "run": execution.run_id,
            "step": execution.step,
            "function": execution.function,
            "fingerprint": execution.fingerprint,
            "cache_key": execution.cache_key,
            "cached_from": execution.cached_from,
            "params": execution.params,
            "logged_params": execution.logged_params,
            "inputs": {e.name: e.digest for e in events if e.direction == "input"},
            "outputs": {e.name: e.digest for e in events if e.direction == "output"},
            "artifacts": {
                a.digest: {
                    "kind": a.kind,
                    "codec": a.codec,
                    "size": a.size,
                    "type_name": a.type_name,
                    "producer": a.producer,
                }
                for a in artifacts
            },
        },
    )


def end_in(conn: sa.Connection, run_id: str, end: RunEnd) -> AuditEntry:
    """Record ``end`` of run ``run_id`` inside ``conn``'s transaction; its audit entry."""
    ended = time.time()
    if end.params:
        merge_params(conn, run_id, end.params)
    insert_metrics(conn, end.metrics)
    conn.execute(
        t.runs.update()
        .where(t.runs.c.id == run_id)
        .values(status=end.status, ended_at=ended, error=end.error, traceback=end.traceback)
    )
    payload: dict[str, Any] = {"status": end.status, "error": end.error, "ended_at": ended}
    if end.params:
        payload["params"] = dict(end.params)
    return AuditEntry("run.finished", f"run:{run_id}", payload)


def known_run(conn: sa.Connection, run_id: str) -> None:
    """Refuse, inside ``conn``'s transaction, a write to a run that is not there (it
    would change nothing and say nothing).

    Raises:
        RecordNotFoundError: no run has the id ``run_id``.
    """
    if conn.execute(q.RUN_EXISTS, {"id": run_id}).first() is None:
        raise RecordNotFoundError(
            f"no run with id {run_id!r}", hint="list runs with `assay runs list`"
        )
