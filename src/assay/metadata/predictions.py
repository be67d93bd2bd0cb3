"""The prediction log's records: written in batches by servers, read by monitoring."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from assay.metadata import schema as t

__all__ = ["LoggedRequest", "PredictionRecord", "PredictionRecords"]


@dataclass(frozen=True, slots=True)
class PredictionRecord:
    """One answered request: what came in, what went out, which version, how fast."""

    request_id: str
    model: str
    version: int
    at: float
    latency_ms: float
    protocol: str
    inputs: list[Any]
    outputs: list[Any]


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """A logged request as a late label is checked against it: its rows, the classes of
    the classifier that answered it (None: not a classifier), and whether its answers
    were numbers (a regressor's, whose true values are numbers too)."""

    rows: int
    classes: frozenset[str] | None = None
    numeric: bool = False


def _answers(outputs: Any) -> tuple[frozenset[str] | None, bool]:
    first = outputs[0] if isinstance(outputs, list) and outputs else None
    if not isinstance(first, dict):
        return None, False
    probabilities = first.get("probabilities")
    if isinstance(probabilities, dict):
        return frozenset(str(c) for c in probabilities), False
    prediction = first.get("value", first.get("prediction"))
    return None, isinstance(prediction, int | float) and not isinstance(prediction, bool)


class _Encoded(sa.types.TypeDecorator[Any]):
    """A JSON column's value given as JSON text already, and written as it is."""

    impl = sa.JSON
    cache_ok = True

    def bind_processor(self, dialect: sa.Dialect) -> None:
        return None


# Inputs and outputs are encoded with orjson, several times faster than the engine's
# serializer: a busy server's log writer shares its process with the requests. They are
# what the server answered, so a NaN (none in a checked input) is written as the null the
# client got, and JSON's readers read the text back as they read the engine's.
def _payload(record: PredictionRecord) -> tuple[str, str]:
    def encoded(value: Any) -> str:
        return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()

    return encoded(record.inputs), encoded(record.outputs)


# Rows go in by many to a statement: the driver lets go of the GIL around each statement,
# and on a busy server each time costs the writer a wait for it (5 ms, the switch
# interval), so a statement per row (executemany) wrote a few hundred rows a second.
# 100 rows of 8 columns stay under SQLite's oldest limit of 999 parameters.
_ROWS_PER_INSERT = 100
_COLUMNS = ("request_id", "model", "version", "at", "latency_ms", "protocol", "inputs", "outputs")


@functools.lru_cache(maxsize=8)
def _insert(dialect: sa.Dialect, rows: int) -> tuple[str, tuple[str, ...] | None]:
    """The SQL inserting ``rows`` rows, whose parameters are named ``COLUMN_I``, as the
    driver takes it, and the parameters' order where the driver takes them by position.
    Compiled once per size: SQLAlchemy compiles a statement of many rows anew each time."""
    encoded = {"inputs", "outputs"}

    def param(column: str, i: int) -> sa.BindParameter[Any]:
        kind = _Encoded() if column in encoded else t.predictions.c[column].type
        return sa.bindparam(f"{column}_{i}", type_=kind)

    statement = t.predictions.insert().values(
        [{c: param(c, i) for c in _COLUMNS} for i in range(rows)]
    )
    compiled = statement.compile(dialect=dialect)
    order = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
    return str(compiled), order


class PredictionRecords:
    """The prediction-log part of the metadata store (mixed into ``MetadataStore``)."""

    _read: Callable[[], AbstractContextManager[sa.Connection]]
    _write: Callable[[], AbstractContextManager[sa.Connection]]

    def log_predictions(self, records: Sequence[PredictionRecord]) -> None:
        """Append answered requests in one transaction."""
        if not records:
            return
        values = [
            (r.request_id, r.model, r.version, r.at, r.latency_ms, r.protocol, *_payload(r))
            for r in records
        ]
        with self._write() as conn:
            for start in range(0, len(values), _ROWS_PER_INSERT):
                chunk = values[start : start + _ROWS_PER_INSERT]
                named = {
                    f"{column}_{i}": value
                    for i, row in enumerate(chunk)
                    for column, value in zip(_COLUMNS, row, strict=True)
                }
                sql, order = _insert(conn.dialect, len(chunk))
                params = tuple(named[name] for name in order) if order else named
                conn.exec_driver_sql(sql, params)

    def predictions(
        self,
        model: str | None = None,
        *,
        version: int | None = None,
        since: float | None = None,
        until: float | None = None,
        newest: int | None = None,
    ) -> list[PredictionRecord]:
        """Logged requests in [``since``, ``until``), oldest first; with ``newest``, only
        that many of the latest (the filters run in the database, on its index)."""
        p = t.predictions
        q = sa.select(p)
        for column, value in ((p.c.model, model), (p.c.version, version)):
            if value is not None:
                q = q.where(column == value)
        if since is not None:
            q = q.where(p.c.at >= since)
        if until is not None:
            q = q.where(p.c.at < until)
        if newest is not None:
            q = q.order_by(p.c.at.desc(), p.c.id.desc()).limit(max(newest, 0))
        else:
            q = q.order_by(p.c.at, p.c.id)
        with self._read() as conn:
            found = [
                PredictionRecord(**{k: v for k, v in r.items() if k != "id"})
                for r in conn.execute(q).mappings()
            ]
        return found[::-1] if newest is not None else found

    def logged_requests(
        self, request_ids: Sequence[str], model: str | None = None
    ) -> dict[str, LoggedRequest]:
        """What the prediction log holds of the given requests (of ``model`` only, when
        given): how many rows each had and what its answers allow as a true label; absent:
        not logged."""
        p = t.predictions
        found: dict[str, LoggedRequest] = {}
        with self._read() as conn:
            for start in range(0, len(request_ids), 500):
                chunk = list(dict.fromkeys(request_ids[start : start + 500]))
                query = sa.select(p.c.request_id, p.c.inputs, p.c.outputs).where(
                    p.c.request_id.in_(chunk)
                )
                if model is not None:
                    query = query.where(p.c.model == model)
                for request_id, inputs, outputs in conn.execute(query):
                    rows = len(inputs or [])
                    if request_id not in found or rows > found[request_id].rows:
                        found[request_id] = LoggedRequest(rows, *_answers(outputs))
        return found

    def prune_predictions(self, older_than_s: float) -> int:
        """Delete logged requests older than ``older_than_s`` seconds (retention)."""
        p = t.predictions
        with self._write() as conn:
            gone = conn.execute(p.delete().where(p.c.at < time.time() - older_than_s)).rowcount
        return int(gone or 0)
