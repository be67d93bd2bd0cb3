"""Statements on the hot path of a run, built once: building SQLAlchemy expressions costs more
than running them against SQLite."""

from __future__ import annotations

import sqlalchemy as sa

from assay.metadata import schema as t

__all__ = ["FIND_CACHED", "METRICS_OF_EXECUTION", "insert_ignoring_duplicates"]

_NEWEST = (
    sa.select(t.executions.c.id)
    .where(t.executions.c.cache_key == sa.bindparam("key"), t.executions.c.status == "succeeded")
    .order_by(t.executions.c.ended_at.desc())
    .limit(1)
    .scalar_subquery()
)
FIND_CACHED = (
    sa.select(
        t.executions.c.id.label("execution_id"),
        t.executions.c.logged_params,
        sa.exists().where(t.metrics.c.execution_id == t.executions.c.id).label("has_metrics"),
        t.events.c.name,
        # How the bytes were read by this execution, not by whoever stored them first.
        t.events.c.codec,
        t.events.c.kind,
        t.events.c.type_name,
        t.artifacts.c.digest,
        t.artifacts.c.size,
        t.artifacts.c.created_at,
        t.executions.c.id.label("producer"),
    )
    .select_from(t.executions)
    .outerjoin(
        t.events,
        sa.and_(t.events.c.execution_id == t.executions.c.id, t.events.c.direction == "output"),
    )
    .outerjoin(t.artifacts, t.artifacts.c.digest == t.events.c.digest)
    .where(t.executions.c.id == _NEWEST)
)
METRICS_OF_EXECUTION = sa.select(t.metrics).where(t.metrics.c.execution_id == sa.bindparam("ex"))


def insert_ignoring_duplicates(dialect: str, table: sa.Table) -> sa.Executable:
    """An INSERT that skips rows whose key exists, in the dialect's own words."""
    # Artifacts are immutable and keyed by digest: a second insert of one is a no-op.
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert  # noqa: PLC0415

        return sqlite_insert(table).on_conflict_do_nothing()
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert  # noqa: PLC0415

        return pg_insert(table).on_conflict_do_nothing()
    return table.insert().prefix_with("IGNORE")
