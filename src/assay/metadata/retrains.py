"""Retraining's records: what started a training run again and what became of its version."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from assay.metadata import schema as t
from assay.metadata.audit import AuditEntry
from assay.metadata.rows import new_id

__all__ = ["RetrainRecord"]


@dataclass(frozen=True, slots=True)
class RetrainRecord:
    """One retraining: its ``cause`` (``alert``, ``schedule`` or ``data``) with ``detail``
    (the alert, the period, the folder's fingerprint), the run it started, the version that
    run registered, and the ``outcome`` (gates, the aliases moved, the promotion request)."""

    model: str
    cause: str
    detail: dict[str, Any]
    user: str
    status: str = "running"  # running, registered, unchanged, failed, interrupted
    run_id: str | None = None
    version: int | None = None
    outcome: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    started_at: float = 0.0
    finished_at: float | None = None
    id: int = 0


class RetrainRecords:
    """The retraining part of the metadata store (mixed into ``MetadataStore``)."""

    _read: Callable[[], AbstractContextManager[sa.Connection]]
    _write: Callable[[], AbstractContextManager[sa.Connection]]
    audit: Callable[..., None]

    def start_retrain(self, record: RetrainRecord) -> RetrainRecord:
        """Store a retraining as started, and write ``retrain.started`` to the audit log."""
        r = t.retrains
        now = time.time()
        with self._write() as conn:
            retrain_id = new_id(
                conn.execute(
                    r.insert().values(
                        model=record.model, cause=record.cause, detail=record.detail,
                        status="running", outcome={}, started_at=now, user=record.user,
                    )
                )
            )  # fmt: skip
            self.audit(
                conn,
                [AuditEntry("retrain.started", f"model:{record.model}",
                            {"retrain": retrain_id, "cause": record.cause,
                             "detail": record.detail, "at": now})],
                record.user,
            )  # fmt: skip
            row = conn.execute(sa.select(r).where(r.c.id == retrain_id)).mappings().one()
        return RetrainRecord(**dict(row))

    def finish_retrain(
        self,
        retrain_id: int,
        *,
        status: str,
        run_id: str | None = None,
        version: int | None = None,
        outcome: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> RetrainRecord:
        """Record how a retraining ended, and write ``retrain.finished`` to the audit log."""
        r = t.retrains
        values = {
            "status": status, "run_id": run_id, "version": version,
            "outcome": outcome or {}, "error": error, "finished_at": time.time(),
        }  # fmt: skip
        with self._write() as conn:
            conn.execute(r.update().where(r.c.id == retrain_id).values(values))
            row = conn.execute(sa.select(r).where(r.c.id == retrain_id)).mappings().one()
            subject = f"model:{row['model']}" + (f"@{version}" if version is not None else "")
            self.audit(
                conn,
                [AuditEntry("retrain.finished", subject,
                            {"retrain": retrain_id, **{k: v for k, v in values.items()
                                                        if k != "finished_at"}})],
                row["user"],
            )  # fmt: skip
        return RetrainRecord(**dict(row))

    def retrains(self, model: str | None = None) -> list[RetrainRecord]:
        """Retrainings, newest first."""
        r = t.retrains
        query = sa.select(r).order_by(r.c.started_at.desc(), r.c.id.desc())
        if model is not None:
            query = query.where(r.c.model == model)
        with self._read() as conn:
            return [RetrainRecord(**dict(row)) for row in conn.execute(query).mappings()]

    def retrain_of(self, model: str, version: int) -> RetrainRecord | None:
        """The retraining that registered ``model``'s ``version``, if one did."""
        r = t.retrains
        query = sa.select(r).where(r.c.model == model, r.c.version == version)
        with self._read() as conn:
            row = conn.execute(query.order_by(r.c.id.desc())).mappings().first()
        return RetrainRecord(**dict(row)) if row else None
