"""The runs repository over a team server's REST API: a run recorded by the server, as the
user the credential stands for."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from assay.core import restored, spelled_out
from assay.errors import AssayError, RecordExistsError, UnreachableError
from assay.metadata import MetricRecord, RunRecord, shallow_dict
from assay.metadata.runs import RunEnd
from assay.remote.connection import Connection, number, parsed, spelled

__all__ = ["BATCH", "HttpRuns"]

log = logging.getLogger("assay.remote")

BATCH = 10_000
"""Metric values sent in one request (one transaction on the server): what an ad hoc run
buffers before it writes. A longer list goes as several requests, each whole."""


class HttpRuns:
    """``RunRepository`` through ``connection``. The server records who authenticated as
    the run's user (the record's ``user`` is not believed), and only that user, or an
    admin, may add to a run.

    A started run is announced to the server ``announce_after_s`` seconds after its start
    (from a timer thread), before anything else is sent about it, or with its end when it
    ends sooner: a short run then costs the server one request, not two. A run whose
    process dies within that time never reaches the server (it recorded nothing there);
    ``announce_after_s=0`` announces each run at once.
    """

    def __init__(
        self, connection: Connection, *, announce_after_s: float = 1.0, spool: Path | None = None
    ) -> None:
        self.connection = connection
        self.announce_after_s = announce_after_s
        self.spool = spool
        self._lock = threading.Lock()  # the runs waiting
        self._sending = threading.Lock()  # held while a run is announced
        self._waiting: dict[str, tuple[RunRecord, threading.Timer | None]] = {}

    def insert_run(self, run: RunRecord, end: RunEnd | None = None) -> None:
        if end is not None:
            self._end(run.id, end, run, keep=False)
        elif self.announce_after_s <= 0:
            self._start(run, keep=False)
        else:
            timer = threading.Timer(self.announce_after_s, self._announce_later, args=(run.id,))
            timer.daemon = True
            with self._lock:
                self._waiting[run.id] = (run, timer)
            timer.start()

    def annotate_run(
        self, run_id: str, *, tags: Mapping[str, str] | None = None, note: str | None = None
    ) -> None:
        self.announce(run_id)
        body = {"tags": dict(tags or {}), "note": note}
        self.connection.call("PATCH", f"/runs/{run_id}", body=body)

    def log_run_data(
        self, run_id: str, params: Mapping[str, Any], metrics: Sequence[MetricRecord]
    ) -> None:
        self.announce(run_id)
        batches = _batches(metrics)
        for i, batch in enumerate(batches):
            body = {"params": spelled_out(dict(params)) if i == 0 else {}, "metrics": batch}
            self.connection.call("POST", f"/runs/{run_id}/data", body=body)

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
        end = RunEnd(status, error, traceback, params or {}, metrics)
        with self._sending:
            start = self._take(run_id)
            try:
                self._end(run_id, end, start, keep=True)
            except UnreachableError as exc:
                if self.spool is None:
                    raise
                kept = self._keep(run_id, end, self._take(run_id) or start)
                raise UnreachableError(
                    f"{exc.message}; how run {run_id[:12]} ended ({status}) is kept in "
                    f"{kept} and sent the next time a run reaches the server",
                    hint=exc.hint,
                ) from None

    def deliver(self) -> int:
        """Send the ends of runs kept while this server could not be reached (see
        ``spool``), oldest first; returns how many reached it. One the server refuses, or
        that cannot be read (a file edited by hand), is logged and set aside (``.refused``);
        an unreachable server leaves them all kept."""
        found = self.spool.glob("*.json") if self.spool is not None else []
        sent = 0
        for path in sorted(found, key=lambda p: p.stat().st_mtime):
            try:
                kept = json.loads(path.read_text())
                if kept.get("url") != self.connection.url:
                    continue
                run = None if kept["run"] is None else _record(kept["run"])
                end = _restored_end(kept["end"])
            except (ValueError, KeyError, TypeError, AttributeError, AssayError) as exc:
                log.warning("a kept run end in %s cannot be read: %s", path, exc)
                path.rename(path.with_suffix(".refused"))
                continue
            try:
                try:
                    self._end(kept["id"], end, run, keep=False)
                except RecordExistsError:  # started before the server went away
                    self._end(kept["id"], end, None, keep=False)
            except UnreachableError:
                return sent
            except AssayError as exc:
                log.warning("the kept end of run %s was refused: %s", kept["id"][:12], exc)
                path.rename(path.with_suffix(".refused"))
                continue
            path.unlink()
            sent += 1
        return sent

    def _keep(self, run_id: str, end: RunEnd, start: RunRecord | None) -> Path:
        """Write how run ``run_id`` ended (and its start, if the server never had it) to
        the spool; returns the file."""
        assert self.spool is not None
        self.spool.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.spool / f"{run_id}.json"
        kept = {
            "url": self.connection.url,
            "id": run_id,
            "run": None if start is None else _started(start),
            "end": _end_wire(end, [m for batch in _batches(end.metrics) for m in batch]),
        }
        path.write_text(json.dumps(kept))
        path.chmod(0o600)
        return path

    def get_run(self, ref: str, *, whole: bool = True) -> RunRecord:
        self.announce(ref)
        found = self.connection.call("GET", f"/runs/{ref}/record", params={"whole": whole})
        return parsed(RunRecord, {**found, "params": restored(found["params"])})

    def metrics(self, run_id: str) -> list[MetricRecord]:
        self.announce(run_id)
        found = self.connection.call("GET", f"/runs/{run_id}/metrics")
        return [
            parsed(MetricRecord, {**m, "run_id": found["run_id"], "value": number(m["value"])})
            for m in found["metrics"]
        ]

    def latest_metrics(self, run_ids: Sequence[str]) -> dict[str, dict[str, float]]:
        latest: dict[str, dict[str, float]] = {}
        for run_id in run_ids:
            self.announce(run_id)
            page = self.connection.call("GET", f"/runs/{run_id}")  # a run's page has them
            latest[run_id] = {k: number(v) for k, v in page["metrics"].items()}
        return latest

    def _take(self, run_id: str) -> RunRecord | None:
        """The run, if it waits to be announced; it no longer waits (its timer stopped)."""
        with self._lock:
            run, timer = self._waiting.pop(run_id, (None, None))
        if timer is not None:
            timer.cancel()
        return run

    def _put_back(self, run: RunRecord) -> None:
        """The run waits again, to be sent with the next call about it (the last failed)."""
        with self._lock:
            self._waiting.setdefault(run.id, (run, None))

    def _start(self, run: RunRecord, end: dict[str, Any] | None = None, *, keep: bool) -> None:
        """Send the start of ``run`` (with ``end``, its end too); when that fails and
        ``keep``, the run waits again for the next call about it."""
        body = _started(run) if end is None else {**_started(run), "end": end}
        try:
            self.connection.call("POST", "/runs", body=body)
        except AssayError:
            if keep:
                self._put_back(run)
            raise

    def _end(self, run_id: str, end: RunEnd, start: RunRecord | None, *, keep: bool) -> None:
        """Send the end of run ``run_id``; with ``start``, its start first, in the same
        request when its values fit in one."""
        *before, last = _batches(end.metrics)
        if start is not None:
            self._start(start, None if before else _end_wire(end, last), keep=keep)
            if not before:
                return
        for batch in before:
            self.connection.call("POST", f"/runs/{run_id}/data", body={"metrics": batch})
        self.connection.call("POST", f"/runs/{run_id}/finish", body=_end_wire(end, last))

    def with_start(self, run_id: str, send: Callable[[dict[str, Any] | None], None]) -> None:
        """Call ``send`` with the start of run ``run_id`` as the server takes it, when the
        run waits to be announced (None when it was), so that the start goes in the same
        request as what ``send`` sends; when that fails, the run waits again."""
        with self._sending:
            waiting = self._take(run_id)
            try:
                send(None if waiting is None else _started(waiting))
            except AssayError:
                if waiting is not None and not self._there(run_id):
                    self._put_back(waiting)
                raise

    def _there(self, run_id: str) -> bool:
        """Whether the server holds run ``run_id`` (a request that failed may have
        started it); False when it cannot be asked."""
        try:
            self.connection.call("GET", f"/runs/{run_id}/record", params={"whole": False})
        except AssayError:
            return False
        return True

    def announce(self, run_id: str) -> None:
        """Announce the run now if it waits (what is said about it next needs it there);
        a call about a run the timer is announcing waits for it to be there."""
        with self._sending:
            waiting = self._take(run_id)
            if waiting is not None:
                self._start(waiting, keep=True)

    def _announce_later(self, run_id: str) -> None:
        # On the timer's thread, where nobody would see an exception: a failure is logged
        # and the run waits for the next call about it.
        try:
            self.announce(run_id)
        except Exception as exc:  # a thread's last resort: logged
            log.warning(
                "run %s is not on the server yet (%s); it goes with the next call", run_id[:12], exc
            )


def _end_wire(end: RunEnd, metrics: list[dict[str, Any]]) -> dict[str, Any]:
    """``end`` as the server takes it, with ``metrics`` (its values, or the last of them)."""
    return {
        "status": end.status,
        "error": end.error,
        "traceback": end.traceback,
        "params": spelled_out(dict(end.params)),
        "metrics": metrics,
    }


def _record(started: dict[str, Any]) -> RunRecord:
    return parsed(RunRecord, {**started, "params": restored(started["params"])})


def _restored_end(wire: dict[str, Any]) -> RunEnd:
    return RunEnd(
        wire["status"],
        wire["error"],
        wire["traceback"],
        restored(wire["params"]),
        [
            MetricRecord(
                "", m["key"], number(m["value"]), m["timestamp"], m["execution_id"], m["step"]
            )
            for m in wire["metrics"]
        ],
    )


def _started(run: RunRecord) -> dict[str, Any]:
    return {**shallow_dict(run), "params": spelled_out(run.params)}


def _batches(metrics: Sequence[MetricRecord]) -> list[list[dict[str, Any]]]:
    """The metric values as the server takes them, in requests of at most BATCH (at least
    one request, maybe empty)."""
    wire = [
        {
            "key": m.key,
            "value": spelled(m.value),
            "timestamp": m.timestamp,
            "step": m.step,
            "execution_id": m.execution_id,
        }
        for m in metrics
    ]
    return [wire[i : i + BATCH] for i in range(0, len(wire), BATCH)] or [[]]
