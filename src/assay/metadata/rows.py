"""Turning database rows into records and records into rows."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from assay.errors import RecordNotFoundError
from assay.metadata.records import (
    ArtifactRecord,
    EventRecord,
    ExecutionRecord,
    MetricRecord,
    ModelVersionRecord,
    RunRecord,
)

__all__ = [
    "artifact",
    "asdict",
    "event",
    "execution",
    "metric",
    "new_id",
    "one_by_prefix",
    "run",
    "version",
]


def one_by_prefix(
    conn: sa.Connection,
    table: sa.Table,
    column: sa.Column[Any],
    ref: str,
    noun: str,
    columns: Sequence[sa.Column[Any]] | None = None,
) -> sa.RowMapping:
    """The one row whose ``column`` starts with ``ref`` (its ``columns``, or all); raises
    when none or several match."""
    ref = ref.strip().lower()  # ids and digests are lower-case hex; LIKE case differs by database
    if not ref:
        raise RecordNotFoundError(f"empty {noun} id", hint=f"give a {noun} id or a prefix of one")
    select = sa.select(*columns) if columns is not None else sa.select(table)
    # A whole id is found through the index; LIKE (case-insensitive on SQLite) scans.
    exact = conn.execute(select.where(column == ref)).mappings().first()
    if exact is not None:
        return exact
    rows = (
        conn.execute(select.where(column.startswith(ref, autoescape=True)).limit(2))
        .mappings()
        .all()
    )
    if not rows:
        where = {
            "run": "list runs with `assay runs list`",
            "model version": "list them with `assay models list`",
        }.get(noun, "`assay runs show RUN` lists the artifacts of a run")
        raise RecordNotFoundError(f"no {noun} with id {ref!r}", hint=where)
    if len(rows) > 1:
        raise RecordNotFoundError(
            f"{noun} id {ref!r} is ambiguous", hint="give more characters of the id"
        )
    return rows[0]


def asdict(record: Any) -> dict[str, Any]:
    """A record's fields as a dict; shallow, unlike ``dataclasses.asdict``, which deep-copies
    (and ``dataclasses.fields`` builds a tuple each call: a listing's hundreds cost)."""
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def _fields(cls: type, row: Mapping[Any, Any]) -> dict[str, Any]:
    return {k: row[k] for k in cls.__dataclass_fields__}  # type: ignore[attr-defined]


def run(row: Mapping[Any, Any]) -> RunRecord:
    return RunRecord(**_fields(RunRecord, row))


def listed_run(row: Mapping[Any, Any]) -> RunRecord:
    """A run from a row without its package list and traceback (a listing's)."""
    values = {k: row[k] for k in RunRecord.__dataclass_fields__ if k in row}
    return RunRecord(**{"packages": {}, **values})


def execution(row: Mapping[Any, Any]) -> ExecutionRecord:
    return ExecutionRecord(**_fields(ExecutionRecord, row))


def artifact(row: Mapping[Any, Any]) -> ArtifactRecord:
    return ArtifactRecord(**_fields(ArtifactRecord, row))


def event(row: Mapping[Any, Any]) -> EventRecord:
    return EventRecord(**_fields(EventRecord, row))


def metric(row: Mapping[Any, Any]) -> MetricRecord:
    values = _fields(MetricRecord, row)
    if values["value"] is None:
        values["value"] = math.nan
    return MetricRecord(**values)


def version(row: Mapping[Any, Any]) -> ModelVersionRecord:
    return ModelVersionRecord(**_fields(ModelVersionRecord, row))


def new_id(result: sa.CursorResult[Any]) -> int:
    """The key an insert into a table with an autoincrement key gave its row."""
    key = result.inserted_primary_key
    assert key is not None  # such a table always has one
    return int(key[0])
