"""The prediction log written by a process of its own, beside the model server: the records
are built and written there, so that the server's event loop keeps the GIL (and its core)
for requests. Without it, writing the log took about half of a busy server's time."""

from __future__ import annotations

import logging
import multiprocessing
import signal
from multiprocessing.connection import Connection
from typing import Any

from assay.metadata import MetadataStore, open_metadata
from assay.serving.predlog import Item, StoreSink, as_record

__all__ = ["ProcessSink"]

log = logging.getLogger("assay.serving")

_STOP_WAIT_S = 60.0


class ProcessSink:
    """Sends batches to a writer process (started here, spawned) that opens the database at
    ``url`` itself. If that process dies, batches are written from the server's writer
    thread into ``store`` instead, and what the process may not have written is counted
    as dropped."""

    def __init__(self, url: str, store: MetadataStore) -> None:
        context = multiprocessing.get_context("spawn")
        child_in, self._inbox = context.Pipe(duplex=False)
        self._outbox, child_out = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_write_in_child,
            args=(url, child_in, child_out),
            name="assay-prediction-log",
            daemon=True,
        )
        self._process.start()
        child_in.close()  # the child's ends: held by the child alone from now on
        child_out.close()
        self._fallback = StoreSink(store)
        self._dead = False
        self._unsynced = 0  # records sent since the child last said what it wrote
        self._syncs = 0
        self._seen = (0, 0)  # the child's totals when it last said

    @property
    def alive(self) -> bool:
        """Whether the writer process is taking the batches."""
        return not self._dead and self._process.is_alive()

    def write(self, items: list[Item]) -> tuple[int, int]:
        if not self._dead:
            try:
                self._inbox.send(("records", items))
                self._unsynced += len(items)
                return 0, 0
            except (OSError, ValueError) as exc:
                lost = self._lost(exc)
                written, dropped = self._fallback.write(items)
                return written, dropped + lost
        return self._fallback.write(items)

    def sync(self) -> tuple[int, int]:
        return self._ask("sync")

    def close(self) -> tuple[int, int]:
        counts = self._ask("stop")
        self._process.join(_STOP_WAIT_S)
        if self._process.is_alive():
            log.warning("prediction log: the writer process did not stop; ending it")
            self._process.terminate()
            self._process.join()
        self._inbox.close()
        self._outbox.close()
        return counts

    def _ask(self, kind: str) -> tuple[int, int]:
        """Send ``kind`` (sync or stop) and wait for the child's totals."""
        if self._dead:
            return 0, 0
        self._syncs += 1
        try:
            self._inbox.send((kind, self._syncs))
            while True:
                said, seq, written, dropped = self._outbox.recv()
                if said == kind and seq == self._syncs:
                    break
        except (OSError, EOFError, ValueError) as exc:
            return 0, self._lost(exc)
        self._unsynced = 0
        since = (written - self._seen[0], dropped - self._seen[1])
        self._seen = (written, dropped)
        return since

    def _lost(self, exc: BaseException) -> int:
        """The child is gone: from now on the writer thread writes; what was sent and never
        confirmed is counted as lost (some of it may be in the database)."""
        self._dead = True
        lost, self._unsynced = self._unsynced, 0
        log.error(
            "prediction log: the writer process stopped (%s); the server writes the log "
            "itself from now on; up to %d records sent to it may be lost",
            type(exc).__name__,
            lost,
        )
        return lost


def _write_in_child(url: str, inbox: Connection, outbox: Connection) -> None:
    """The writer process: write each batch as it comes, answer each sync with its totals,
    stop when told (or when the server is gone)."""
    # Ctrl-C and SIGTERM reach the whole process group: the server stops, drains its queue
    # and tells this process to stop once everything is written; until then, it goes on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    store = open_metadata(url, create=False)
    written = dropped = 0
    try:
        while True:
            try:
                message: tuple[Any, ...] = inbox.recv()
            except EOFError:
                return  # the server is gone without saying so
            kind = message[0]
            if kind == "records":
                items = message[1]
                try:
                    store.log_predictions([as_record(item) for item in items])
                    written += len(items)
                except Exception as exc:
                    dropped += len(items)
                    log.warning("prediction log: %d records not written: %s", len(items), exc)
                continue
            outbox.send((kind, message[1], written, dropped))
            if kind == "stop":
                return
    finally:
        store.close()
