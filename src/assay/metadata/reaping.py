"""Runs left ``running`` by clients that are gone: a local process that no longer exists,
or a client of the team server not heard from for longer than the server waits."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager

import sqlalchemy as sa

from assay.metadata import schema as t
from assay.metadata.audit import AuditEntry

__all__ = ["RunReaping"]


class RunReaping:
    """The reaping part of the metadata store (mixed into ``MetadataStore``)."""

    _read: Callable[[], AbstractContextManager[sa.Connection]]
    _write: Callable[[], AbstractContextManager[sa.Connection]]
    audit: Callable[..., None]

    def reap_runs(self, host: str, dead_pids: Iterable[int], status: str = "killed") -> int:
        """Mark runs left ``running`` by processes of ``host`` that no longer exist."""
        pids = list(dead_pids)
        if not pids:
            return 0
        with self._write() as conn:
            ids = (
                conn.execute(
                    sa.select(t.runs.c.id).where(
                        t.runs.c.status == "running", t.runs.c.host == host, t.runs.c.pid.in_(pids)
                    )
                )
                .scalars()
                .all()
            )
            self._killed(conn, ids, "the process running it ended", status)
        return len(ids)

    def reap_quiet_runs(self, quiet_s: float, *, now: float | None = None) -> list[str]:
        """Mark ``killed`` the runs left ``running`` of which nothing was heard for
        ``quiet_s`` seconds: no step started or ended, no value logged, since (what a team
        server does for clients it cannot see die). Returns their ids."""
        at = time.time() if now is None else now
        before = at - quiet_s
        r, e, m = t.runs, t.executions, t.metrics
        heard = sa.func.max(sa.func.coalesce(e.c.ended_at, e.c.started_at))
        latest_step = sa.select(heard).where(e.c.run_id == r.c.id).scalar_subquery()
        latest_value = (
            sa.select(sa.func.max(m.c.timestamp)).where(m.c.run_id == r.c.id).scalar_subquery()
        )
        quiet = sa.select(r.c.id).where(
            r.c.status == "running",
            r.c.started_at < before,
            sa.or_(latest_step.is_(None), latest_step < before),
            sa.or_(latest_value.is_(None), latest_value < before),
        )
        with self._write() as conn:
            ids = list(conn.execute(quiet).scalars())
            hours = quiet_s / 3600
            self._killed(conn, ids, f"nothing was heard from its client for {hours:g} h")
        return ids

    def _killed(
        self, conn: sa.Connection, ids: Sequence[str], why: str, status: str = "killed"
    ) -> None:
        if not ids:
            return
        # When the client died is unknown, so no end time is made up for it.
        noticed = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        error = f"{why} (seen {noticed})"
        conn.execute(t.runs.update().where(t.runs.c.id.in_(ids)).values(status=status, error=error))
        payload = {"status": status, "error": error, "ended_at": None, "reaped": True}
        self.audit(conn, [AuditEntry("run.finished", f"run:{i}", payload) for i in ids])

    def running_pids(self, host: str) -> list[int]:
        """Process ids of runs recorded as ``running`` on ``host``."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(t.runs.c.pid).where(t.runs.c.status == "running", t.runs.c.host == host)
            )
            return sorted({r[0] for r in rows})
