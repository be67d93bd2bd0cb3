"""The prediction log: answered requests queued on the hot path, written by a thread."""

from __future__ import annotations

import logging
import queue
import threading
import time

from assay.metadata import MetadataStore, PredictionRecord

__all__ = ["PredictionLog"]

log = logging.getLogger("assay.serving")

_STOP = object()


class PredictionLog:
    """A bounded queue in front of the store: ``put`` never waits for the database; a writer
    thread inserts what it finds in batches, one transaction at most every ``flush_s``
    seconds or ``batch`` records. ``close`` drains the queue before returning.

    When the queue is full (the database cannot keep up), ``put`` counts the record as
    dropped at once: it is called on the server's event loop, where any wait would stall
    every request in flight.
    """

    def __init__(
        self,
        store: MetadataStore,
        *,
        capacity: int = 10_000,
        batch: int = 1_000,
        flush_s: float = 0.25,
    ) -> None:
        self.store = store
        self.batch = batch
        self.flush_s = flush_s
        self.dropped = 0
        self.written = 0
        self._queue: queue.Queue[object] = queue.Queue(maxsize=capacity)
        self._thread = threading.Thread(
            target=self._write_loop, name="assay-prediction-log", daemon=True
        )
        self._thread.start()

    def put(self, record: PredictionRecord) -> None:
        """Queue one answered request."""
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1

    def close(self) -> None:
        """Write everything queued, then stop the writer."""
        self._queue.put(_STOP)
        self._thread.join()

    def _write_loop(self) -> None:
        # One transaction per ``flush_s`` (or per ``batch`` records), not per request: each
        # transaction costs the server more CPU than the records in it.
        stopping = False
        while not stopping:
            pending: list[PredictionRecord] = []
            item = self._queue.get()
            deadline = time.monotonic() + self.flush_s
            while True:
                if item is _STOP:
                    stopping = True
                elif isinstance(item, PredictionRecord):
                    pending.append(item)
                left = deadline - time.monotonic()
                if stopping or len(pending) >= self.batch or left <= 0:
                    break
                try:
                    item = self._queue.get(timeout=left)
                except queue.Empty:
                    break
            self._flush(pending)

    def _flush(self, pending: list[PredictionRecord]) -> None:
        if not pending:
            return
        try:
            self.store.log_predictions(pending)
            self.written += len(pending)
        except Exception as exc:
            self.dropped += len(pending)
            log.warning("prediction log: %d records not written: %s", len(pending), exc)
