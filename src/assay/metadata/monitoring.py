"""Monitoring's records: checked windows, late labels and deduplicated alerts."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa

from assay.errors import RecordNotFoundError
from assay.metadata import schema as t
from assay.metadata.audit import AuditEntry
from assay.metadata.rows import new_id

__all__ = ["AlertDraft", "AlertRecord", "LabelRecord", "MonitoringRecords", "WindowRecord"]


@dataclass(frozen=True, slots=True)
class WindowRecord:
    """One check of a model version over a window of its prediction log."""

    model: str
    version: int
    kind: str  # drift or performance
    start_at: float
    end_at: float
    rows: int
    status: str  # ok, drift, drop, too few rows
    report: dict[str, Any]
    created_at: float = 0.0
    id: int = 0


@dataclass(frozen=True, slots=True)
class LabelRecord:
    """The true label of row ``row`` of logged request ``request_id``, known later."""

    request_id: str
    row: int
    label: str
    at: float
    user: str


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """What a check found wrong; ``fingerprint`` says which repeats are the same alert."""

    model: str
    version: int
    kind: str
    fingerprint: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """A stored alert: when first and last raised, how often, and whether it was delivered."""

    id: int
    model: str
    version: int
    kind: str
    fingerprint: str
    status: str  # open or closed
    summary: str
    first_at: float
    last_at: float
    count: int
    window_id: int | None
    details: dict[str, Any]
    delivered_at: float | None
    delivery_error: str | None


class MonitoringRecords:
    """The monitoring part of the metadata store (mixed into ``MetadataStore``)."""

    _read: Callable[[], AbstractContextManager[sa.Connection]]
    _write: Callable[[], AbstractContextManager[sa.Connection]]
    audit: Callable[..., None]

    def record_window(
        self, window: WindowRecord, alert: AlertDraft | None = None
    ) -> tuple[WindowRecord, AlertRecord | None, bool]:
        """Store a checked window and the alert it raised, in one transaction.

        An alert whose fingerprint matches an open one counts on it (``count``, ``last_at``)
        instead of adding another; a new alert is written to the audit log. Returns the
        stored window, the alert, and whether the alert is new.
        """
        w, a = t.monitor_windows, t.alerts
        now = time.time()
        values = {k: v for k, v in asdict(window).items() if k != "id"} | {"created_at": now}
        with self._write() as conn:
            window_id = new_id(conn.execute(w.insert().values(values)))
            stored = WindowRecord(**{**values, "id": window_id})
            if alert is None:
                return stored, None, False
            open_one = conn.execute(
                sa.select(a).where(a.c.fingerprint == alert.fingerprint, a.c.status == "open")
            ).mappings().first()  # fmt: skip
            if open_one is not None:
                conn.execute(
                    a.update()
                    .where(a.c.id == open_one["id"])
                    .values(last_at=now, count=open_one["count"] + 1, window_id=window_id)
                )
                alert_id, new = int(open_one["id"]), False
            else:
                alert_id = new_id(
                    conn.execute(
                        a.insert().values(
                            **asdict(alert), status="open", first_at=now, last_at=now, count=1,
                            window_id=window_id,
                        )
                    )
                )  # fmt: skip
                new = True
                entry = AuditEntry(
                    "alert.raised",
                    f"model:{alert.model}@{alert.version}",
                    {"alert": alert_id, "kind": alert.kind, "summary": alert.summary,
                     "window": window_id, "details": alert.details,
                     "fingerprint": alert.fingerprint, "at": now},
                )  # fmt: skip
                self.audit(conn, [entry])
            row = conn.execute(sa.select(a).where(a.c.id == alert_id)).mappings().one()
        return stored, AlertRecord(**dict(row)), new

    def windows(
        self, model: str, version: int | None = None, kind: str | None = None
    ) -> list[WindowRecord]:
        """Checked windows of ``model``, oldest first."""
        w = t.monitor_windows
        query = sa.select(w).where(w.c.model == model).order_by(w.c.end_at, w.c.id)
        if version is not None:
            query = query.where(w.c.version == version)
        if kind is not None:
            query = query.where(w.c.kind == kind)
        with self._read() as conn:
            return [WindowRecord(**dict(r)) for r in conn.execute(query).mappings()]

    def last_window(self, model: str, version: int, kind: str) -> WindowRecord | None:
        """The check of this kind stored last for the version (None: never checked)."""
        w = t.monitor_windows
        query = (
            sa.select(w)
            .where(w.c.model == model, w.c.version == version, w.c.kind == kind)
            .order_by(w.c.created_at.desc(), w.c.id.desc())
            .limit(1)
        )
        with self._read() as conn:
            row = conn.execute(query).mappings().first()
        return WindowRecord(**dict(row)) if row else None

    def add_labels(self, labels: Sequence[LabelRecord]) -> int:
        """Store late labels, replacing any given before for the same row. Returns how many
        replaced an earlier label."""
        if not labels:
            return 0
        table = t.labels
        # The same row twice in one batch: the last label wins (one insert per row).
        latest = {(lab.request_id, lab.row): lab for lab in labels}
        keys = list(latest)
        with self._write() as conn:
            replaced = 0
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                gone = table.delete().where(sa.tuple_(table.c.request_id, table.c.row).in_(chunk))
                replaced += conn.execute(gone).rowcount or 0
            conn.execute(table.insert(), [asdict(lab) for lab in latest.values()])
        return int(replaced)

    def labels_for(self, request_ids: Sequence[str]) -> dict[tuple[str, int], str]:
        """Known labels of the given requests' rows."""
        table = t.labels
        found: dict[tuple[str, int], str] = {}
        with self._read() as conn:
            for start in range(0, len(request_ids), 500):
                chunk = list(request_ids[start : start + 500])
                query = sa.select(table).where(table.c.request_id.in_(chunk))
                for r in conn.execute(query).mappings():
                    found[(r["request_id"], r["row"])] = r["label"]
        return found

    def activity(self, model: str, version: int, since: float) -> tuple[int, int]:
        """How many requests ``model``'s ``version`` answered after ``since``, and how many
        labels for its requests arrived after ``since``: whether a window has news."""
        p, lab = t.predictions, t.labels
        requests = sa.select(sa.func.count()).where(
            p.c.model == model, p.c.version == version, p.c.at > since
        )
        labelled = (
            sa.select(sa.func.count())
            .select_from(lab.join(p, lab.c.request_id == p.c.request_id))
            .where(p.c.model == model, p.c.version == version, lab.c.at > since)
        )
        with self._read() as conn:
            return int(conn.execute(requests).scalar_one()), int(
                conn.execute(labelled).scalar_one()
            )

    def labelled_inputs(self, model: str) -> list[tuple[str, str]]:
        """The input and late label of every labelled row of ``model``'s logged requests
        (any version), oldest first."""
        p, lab = t.predictions, t.labels
        query = (
            sa.select(p.c.inputs, lab.c.row, lab.c.label)
            .select_from(lab.join(p, lab.c.request_id == p.c.request_id))
            .where(p.c.model == model)
            .order_by(p.c.at, p.c.id, lab.c.row)
        )
        with self._read() as conn:
            return [
                (str(r.inputs[r.row]), str(r.label))
                for r in conn.execute(query)
                if 0 <= r.row < len(r.inputs)
            ]

    def alerts(self, model: str | None = None, status: str | None = None) -> list[AlertRecord]:
        """Stored alerts, newest first."""
        a = t.alerts
        query = sa.select(a).order_by(a.c.last_at.desc(), a.c.id.desc())
        if model is not None:
            query = query.where(a.c.model == model)
        if status is not None:
            query = query.where(a.c.status == status)
        with self._read() as conn:
            return [AlertRecord(**dict(r)) for r in conn.execute(query).mappings()]

    def mark_delivered(self, alert_id: int, error: str | None = None) -> None:
        """Record a delivery attempt: delivered now, or the error of the last attempt."""
        a = t.alerts
        values = (
            {"delivery_error": error}
            if error
            else {"delivered_at": time.time(), "delivery_error": None}
        )
        with self._write() as conn:
            conn.execute(a.update().where(a.c.id == alert_id).values(values))

    def close_alert(self, alert_id: int, user: str, reason: str) -> AlertRecord:
        """Close an open alert (the finding was dealt with), with ``alert.closed`` in the
        audit log; the same finding raised later opens a new alert.

        Raises:
            RecordNotFoundError: no open alert has that id.
        """
        a = t.alerts
        with self._write() as conn:
            row = conn.execute(sa.select(a).where(a.c.id == alert_id)).mappings().first()
            if row is None or row["status"] != "open":
                raise RecordNotFoundError(
                    f"no alert {alert_id}"
                    if row is None
                    else f"alert {alert_id} is already closed",
                    hint="`assay monitor alerts --status open` lists the open ones",
                )
            conn.execute(a.update().where(a.c.id == alert_id).values(status="closed"))
            entry = AuditEntry(
                "alert.closed",
                f"model:{row['model']}@{row['version']}",
                {"alert": alert_id, "reason": reason},
            )
            self.audit(conn, [entry], user)
            closed = conn.execute(sa.select(a).where(a.c.id == alert_id)).mappings().one()
        return AlertRecord(**dict(closed))
