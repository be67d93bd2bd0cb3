"""The prediction log's records: written in batches by servers, read by monitoring."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

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


class PredictionRecords:
    """The prediction-log part of the metadata store (mixed into ``MetadataStore``)."""

    _read: Callable[[], AbstractContextManager[sa.Connection]]
    _write: Callable[[], AbstractContextManager[sa.Connection]]

    def log_predictions(self, records: Sequence[PredictionRecord]) -> None:
        """Append answered requests in one transaction."""
        if not records:
            return
        rows = [
            {
                "request_id": r.request_id,
                "model": r.model,
                "version": r.version,
                "at": r.at,
                "latency_ms": r.latency_ms,
                "protocol": r.protocol,
                "inputs": r.inputs,
                "outputs": r.outputs,
            }
            for r in records
        ]
        with self._write() as conn:
            conn.execute(t.predictions.insert(), rows)

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
