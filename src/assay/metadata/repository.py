"""The metadata repository: every read and write of runs, executions, artifacts and models."""

from __future__ import annotations

import copy
import logging
import math
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import sqlalchemy as sa

from assay.errors import AuditError, ParameterError, RecordExistsError
from assay.metadata import queries as q
from assay.metadata import rows as rec
from assay.metadata import schema as t
from assay.metadata.audit import AuditEntry, Sealer, append_audit, take_head, take_known
from assay.metadata.chain import ChainRecords
from assay.metadata.diskfull import disk_full
from assay.metadata.executions import CachedExecution, ExecutionBundle, ExecutionRecords
from assay.metadata.governance import GovernanceRecords
from assay.metadata.head import KNOWN_KEY, HeadMemo
from assay.metadata.models import ModelRecords
from assay.metadata.monitoring import MonitoringRecords
from assay.metadata.plan import Planned, PlannedStep
from assay.metadata.plan import plan_cache as cache_plan
from assay.metadata.predictions import PredictionRecords
from assay.metadata.reaping import RunReaping
from assay.metadata.records import (
    ArtifactRecord,
    MetricRecord,
    RunRecord,
)
from assay.metadata.retrains import RetrainRecords
from assay.metadata.rows import asdict
from assay.metadata.runs import RunEnd
from assay.metadata.search import Filter, Order, compile_filter, order_by
from assay.metadata.tokens import TokenRecords
from assay.metadata.writes import (
    end_in,
    insert_metrics,
    known_run,
    merge_params,
    run_started_entry,
)
from assay.settings import default_user

__all__ = ["CachedExecution", "ExecutionBundle", "MetadataStore"]


class MetadataStore(
    ExecutionRecords,
    ModelRecords,
    GovernanceRecords,
    PredictionRecords,
    MonitoringRecords,
    RetrainRecords,
    RunReaping,
    ChainRecords,
    TokenRecords,
):
    """Reads and writes metadata records; each write method is one transaction."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        serialize: bool = False,
        actor: str | None = None,
        sealer: Sealer | None = None,
        memo: HeadMemo | None = None,
    ) -> None:
        self.engine = engine
        # Who the audit log names for changes that carry no user of their own, and how that
        # identity was established (None: declared).
        self.actor = actor or default_user(os.environ)
        self.via: dict[str, str] | None = None
        self.sealer = sealer
        self._writer = engine.execution_options(assay_write=True)
        # An in-memory SQLite database is one connection; threads must take turns on it.
        self._lock: AbstractContextManager[Any] = threading.RLock() if serialize else nullcontext()
        self._serialize = serialize
        self._insert_artifacts = q.insert_ignoring_duplicates(engine.dialect.name, t.artifacts)
        # The head this process last committed: trusted by its next write without a re-read.
        self._memo = memo or HeadMemo()
        # A snapshot's connection, held in one read-only transaction (see snapshot()).
        self._pinned: sa.Connection | None = None

    def shared_url(self) -> str | None:
        """The URL another process opens this database with (its password included), or
        None for an in-memory database, which no other process can reach."""
        if self._serialize:
            return None
        return self.engine.url.render_as_string(hide_password=False)

    def close(self) -> None:
        """Release an in-memory database; a file or server engine keeps its pool for the
        process (opening SQLite connections again costs more than a small write)."""
        if self._serialize:
            self.engine.dispose()

    @contextmanager
    def snapshot(self) -> Iterator[MetadataStore]:
        """The same store, every read of which sees the database as it was at one moment,
        until the block ends; for a check that reads many tables while others write.

        Its reads run in one read-only transaction: REPEATABLE READ on PostgreSQL, and on
        SQLite one read transaction, which sees one state of the database in WAL mode. The
        moment is that of its first read. It writes nothing.
        """
        with self._disk_errors(), self._lock, self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            view = copy.copy(self)
            view._pinned = conn
            yield view

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        if self._pinned is not None:  # a snapshot: every read in its one transaction
            yield self._pinned
            return
        with self._disk_errors(), self._lock, self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _disk_errors(self) -> Iterator[None]:
        # A full disk (or a file that may not grow) is the user's to fix: one line naming
        # the database, never a traceback; the transaction it hit was rolled back whole.
        try:
            yield
        except sa.exc.OperationalError as exc:
            full = disk_full(self.engine.url, exc)
            if full is None:
                raise
            raise full from None

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        if self._pinned is not None:
            raise RuntimeError("a snapshot of the metadata store only reads")
        with self._disk_errors(), self._lock:
            with self._writer.begin() as conn:
                take_head(conn)  # a pooled connection may keep one from a failed transaction
                take_known(conn)
                if self._memo.head is not None:
                    conn.info[KNOWN_KEY] = self._memo.head
                try:
                    yield conn
                except BaseException:
                    take_known(conn)  # rolled back: what it appended never was
                    raise
                head = take_head(conn)
                known = take_known(conn)
            if known is not None:
                self._memo.head = known
            # Only after the commit: a checkpoint must never name an event that was rolled back.
            if head is not None and self.sealer is not None:
                try:
                    self.sealer.checkpoint(*head)
                except AuditError as exc:
                    # The change is committed and signed; the next checkpoint that succeeds
                    # covers it too, so a full disk here must not undo or hide the change.
                    logging.getLogger("assay.audit").warning(
                        "audit checkpoint %s not written: %s", head[0], exc.message
                    )

    def audit(
        self, conn: sa.Connection, entries: Sequence[AuditEntry], actor: str | None = None
    ) -> None:
        """Append ``entries`` to the audit chain inside the write transaction ``conn``."""
        append_audit(conn, actor or self.actor, entries, self.sealer, self.via)

    def acting(self, actor: str, via: Mapping[str, str] | None = None) -> MetadataStore:
        """The same store (its connections, lock and head shared) whose changes the audit
        log attributes to ``actor``, identified as ``via`` says (how the team server knew
        who it was: ``{"kind": "token", "id": ...}``, an OpenID Connect issuer and subject;
        None: declared, as on a laptop)."""
        view = copy.copy(self)
        view.actor = actor
        view.via = dict(via) if via else None
        return view

    # -- runs -------------------------------------------------------------------------

    def insert_run(self, run: RunRecord, end: RunEnd | None = None) -> None:
        """Record a run that has started; with ``end``, one that has ended too, in the same
        transaction.

        Raises:
            RecordExistsError: a run with its id is recorded already.
        """
        try:
            with self._write() as conn:
                conn.execute(t.runs.insert().values(asdict(run)))
                entries = [run_started_entry(run)]
                if end is not None:
                    entries.append(end_in(conn, run.id, end))
                self.audit(conn, entries, run.user)
        except sa.exc.IntegrityError:
            with self._read() as conn:
                taken = conn.execute(q.RUN_EXISTS, {"id": run.id}).first() is not None
            if not taken:
                raise  # not the id: a broken invariant, not a user's mistake
            raise RecordExistsError(
                f"a run with id {run.id!r} is recorded already",
                hint="start a new run: each has an id of its own",
            ) from None

    def finish_run(
        self,
        run_id: str,
        status: str,
        *,
        error: str | None = None,
        traceback: str | None = None,
        params: Mapping[str, Any] | None = None,
        metrics: Sequence[MetricRecord] = (),
    ) -> None:
        """Record how and when a run ended, with the last parameters and metrics logged."""
        end = RunEnd(status, error, traceback, params or {}, metrics)
        with self._write() as conn:
            known_run(conn, run_id)
            self.audit(conn, [end_in(conn, run_id, end)])

    def plan_cache(self, steps: Sequence[PlannedStep], *, register: bool) -> Planned:
        """What the cache gives for a pipeline's cacheable ``steps`` (see ``plan_cache``)."""
        return cache_plan(steps, self.find_cached, register=register)

    def get_run(self, ref: str, *, whole: bool = True) -> RunRecord:
        """The run whose id is or starts with ``ref``; not ``whole``: as a listing gives
        it (no package list, no traceback), for a page that shows neither.

        Raises:
            RecordNotFoundError: no run, or more than one, matches.
        """
        with self._read() as conn:
            row = conn.execute(q.RUN_BY_ID[whole], {"id": ref.strip().lower()}).mappings().first()
            if row is None:  # the first characters of an id
                columns = None if whole else q.LISTED_RUN_COLUMNS
                row = rec.one_by_prefix(conn, t.runs, t.runs.c.id, ref, "run", columns=columns)
        return rec.run(row) if whole else rec.listed_run(row)

    def list_runs(
        self,
        *,
        limit: int | None = 20,
        pipeline: str | None = None,
        experiment: str | None = None,
        where: Filter | None = None,
        order: Sequence[Order] = (),
        offset: int = 0,
    ) -> list[RunRecord]:
        """Runs matching the filters, in ``order`` and then newest first (``offset`` of
        them skipped). A listed run carries no package list and no traceback (empty):
        ``get_run`` gives a run whole."""
        found = _matching(sa.select(*q.LISTED_RUN_COLUMNS), pipeline, experiment, where)
        found = found.order_by(*order_by(order)).limit(limit).offset(offset or None)
        with self._searching() as conn:
            return [rec.listed_run(r) for r in conn.execute(found).mappings()]

    def count_runs(
        self,
        *,
        pipeline: str | None = None,
        experiment: str | None = None,
        where: Filter | None = None,
    ) -> int:
        """How many runs match the filters: what ``list_runs`` finds without a limit."""
        q = _matching(sa.select(sa.func.count()).select_from(t.runs), pipeline, experiment, where)
        with self._searching() as conn:
            return int(conn.execute(q).scalar_one())

    @contextmanager
    def _searching(self) -> Iterator[sa.Connection]:
        try:
            with self._read() as conn:
                yield conn
        except sa.exc.DataError as exc:  # PostgreSQL refusing to read text as a number
            raise ParameterError(
                "the search compares a field as a number, but a run holds "
                f"{str(exc.orig).splitlines()[0]}",
                hint="quote the value ('...') to compare that field as text",
            ) from None

    def annotate_run(
        self, run_id: str, *, tags: Mapping[str, str] | None = None, note: str | None = None
    ) -> None:
        """Set tags (a tag set again takes the new value) and, if given, replace the note."""
        with self._write() as conn:
            known_run(conn, run_id)
            current = conn.execute(sa.select(t.runs.c.tags).where(t.runs.c.id == run_id))
            merged = {**(current.scalar() or {}), **(tags or {})}
            values: dict[str, Any] = {"tags": merged}
            if note is not None:
                values["note"] = note
            conn.execute(t.runs.update().where(t.runs.c.id == run_id).values(values))

    def log_run_data(
        self, run_id: str, params: Mapping[str, Any], metrics: Sequence[MetricRecord]
    ) -> None:
        """Add parameters and metrics logged outside any step to a run, in one transaction."""
        with self._write() as conn:
            known_run(conn, run_id)
            if params:
                merge_params(conn, run_id, params)
            insert_metrics(conn, metrics)

    def experiments(self) -> list[tuple[str, int, float]]:
        """Every experiment with its number of runs and when its newest run started."""
        r = t.runs
        q = (
            sa.select(r.c.experiment, sa.func.count(), sa.func.max(r.c.started_at))
            .group_by(r.c.experiment)
            .order_by(r.c.experiment)
        )
        with self._read() as conn:
            return [(name, int(n), float(last)) for name, n, last in conn.execute(q)]

    # -- artifacts and metrics ------------------------------------------------------------

    def get_artifact(self, ref: str) -> ArtifactRecord:
        """The artifact whose digest is or starts with ``ref`` (``sha256:`` prefix allowed).

        Raises:
            RecordNotFoundError: no artifact, or more than one, matches.
        """
        ref = ref.removeprefix("sha256:").lower()
        with self._read() as conn:
            row = rec.one_by_prefix(conn, t.artifacts, t.artifacts.c.digest, ref, "artifact")
        return rec.artifact(row)

    def metrics(self, run_id: str) -> list[MetricRecord]:
        """Every metric value of a run, oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(t.metrics).where(t.metrics.c.run_id == run_id).order_by(t.metrics.c.id)
            ).mappings()
            return [rec.metric(r) for r in rows]

    def has_metric(self, key: str) -> bool:
        """True when some run logged metric ``key``."""
        m = t.metrics
        with self._read() as conn:
            return (
                conn.execute(sa.select(m.c.id).where(m.c.key == key).limit(1)).first() is not None
            )

    def latest_metrics(self, run_ids: Sequence[str]) -> dict[str, dict[str, float]]:
        """For each run, the last value of each metric (highest step, then latest)."""
        latest: dict[str, dict[str, float]] = {r: {} for r in run_ids}
        with self._read() as conn:
            for start in range(0, len(run_ids), 900):  # stay under SQLite's variable limit
                part = list(run_ids[start : start + 900])
                for run_id, key, value in conn.execute(q.METRICS_OF_RUNS, {"runs": part}):
                    latest[run_id][key] = math.nan if value is None else value
        return latest


def _matching(
    q: sa.Select[Any], pipeline: str | None, experiment: str | None, where: Filter | None
) -> sa.Select[Any]:
    if pipeline:
        q = q.where(t.runs.c.pipeline == pipeline)
    if experiment:
        q = q.where(t.runs.c.experiment == experiment)
    return q if where is None else q.where(compile_filter(where))
