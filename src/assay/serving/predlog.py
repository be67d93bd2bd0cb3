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


class _Flush:
    """A marker in the queue: the writer writes what it holds at once, then sets ``done``."""

    def __init__(self, done: threading.Event) -> None:
        self.done = done


class PredictionLog:
    """A bounded queue in front of the store: ``put`` never waits for the database; a writer
    thread inserts what it finds in batches, one transaction at most every ``flush_s``
    seconds or ``batch`` records. ``flush`` waits for what was queued before it; ``close``
    drains the queue before returning.

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

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every record queued before this call is written (or dropped); False
        when ``timeout`` seconds pass first. Blocks: call it from a thread, not the loop."""
        if not self._thread.is_alive():
            return True  # closed: close() wrote everything
        written = threading.Event()
        try:
            # The queue is first in, first out: when the writer reaches this marker, every
            # record put before it is in the batch the writer is about to write.
            self._queue.put(_Flush(written), timeout=timeout)
        except queue.Full:
            return False
        return written.wait(timeout)

    def close(self) -> None:
        """Write everything queued, then stop the writer."""
        self._queue.put(_STOP)
        self._thread.join()

    def _write_loop(self) -> None:
        # One transaction per ``flush_s`` (or per ``batch`` records), not per request: each
        # transaction costs the server more CPU than the records in it.
        # A flush marker cuts the batch short: someone waits for what is queued before it.
        stopping = False
        while not stopping:
            pending: list[PredictionRecord] = []
            waiting: list[_Flush] = []
            item = self._queue.get()
            deadline = time.monotonic() + self.flush_s
            while True:
                if item is _STOP:
                    stopping = True
                elif isinstance(item, _Flush):
                    waiting.append(item)
                elif isinstance(item, PredictionRecord):
                    pending.append(item)
                left = deadline - time.monotonic()
                if stopping or waiting or len(pending) >= self.batch or left <= 0:
                    break
                try:
                    item = self._queue.get(timeout=left)
                except queue.Empty:
                    break
            self._flush(pending)
            for marker in waiting:
                marker.done.set()

    def _flush(self, pending: list[PredictionRecord]) -> None:
        if not pending:
            return
        try:
            self.store.log_predictions(pending)
            self.written += len(pending)
        except Exception as exc:
            self.dropped += len(pending)
            log.warning("prediction log: %d records not written: %s", len(pending), exc)
