"""Statements on the hot paths (a run's steps, the pages the team server answers most), built
once: building SQLAlchemy expressions costs more than running them against SQLite."""

from __future__ import annotations

import sqlalchemy as sa

from assay.metadata import schema as t

__all__ = [
    "ALIASES_OF_MODEL",
    "EXECUTIONS_OF_RUN",
    "FIND_CACHED",
    "LISTED_RUN_COLUMNS",
    "METRICS_OF_EXECUTION",
    "METRICS_OF_RUNS",
    "RUN_BY_ID",
    "RUN_EXISTS",
    "VERDICTS_OF_MODEL",
    "VERSIONS_OF_MODEL",
    "insert_ignoring_duplicates",
]

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

# A run's package list is most of its row (every package of its environment, as JSON):
# decoding it for each listed run, only for listings to drop it, was most of their time.
LISTED_RUN_COLUMNS = tuple(c for c in t.runs.c if c.name not in ("packages", "traceback"))
RUN_BY_ID = {
    whole: sa.select(*(t.runs.c if whole else LISTED_RUN_COLUMNS)).where(
        t.runs.c.id == sa.bindparam("id")
    )
    for whole in (True, False)
}
RUN_EXISTS = sa.select(t.runs.c.id).where(t.runs.c.id == sa.bindparam("id"))
EXECUTIONS_OF_RUN = (
    sa.select(t.executions)
    .where(t.executions.c.run_id == sa.bindparam("run"))
    .order_by(t.executions.c.started_at)
)
METRICS_OF_RUNS = (
    sa.select(t.metrics.c.run_id, t.metrics.c.key, t.metrics.c.value)
    .where(t.metrics.c.run_id.in_(sa.bindparam("runs", expanding=True)))
    .order_by(t.metrics.c.step.asc().nulls_first(), t.metrics.c.id)
)
VERSIONS_OF_MODEL = (
    sa.select(t.model_versions)
    .where(t.model_versions.c.name == sa.bindparam("name"))
    .order_by(t.model_versions.c.version)
)
ALIASES_OF_MODEL = (
    sa.select(t.model_aliases)
    .where(t.model_aliases.c.name == sa.bindparam("name"))
    .order_by(t.model_aliases.c.alias)
)
VERDICTS_OF_MODEL = (
    sa.select(t.gate_verdicts)
    .where(t.gate_verdicts.c.name == sa.bindparam("name"))
    .order_by(t.gate_verdicts.c.created_at, t.gate_verdicts.c.id)
)


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
