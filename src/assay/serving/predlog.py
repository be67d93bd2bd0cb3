"""The prediction log: answered requests queued on the hot path, written by a thread."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from assay.metadata import MetadataStore, PredictionRecord

__all__ = ["PredictionLog"]

log = logging.getLogger("assay.serving")


class _Mark:
    """A marker among the records: the writer writes what came before it, then sets
    ``done``; a stop marker also ends the writer."""

    def __init__(self, done: threading.Event, *, stop: bool = False) -> None:
        self.done = done
        self.stop = stop


class PredictionLog:
    """A bounded queue in front of the store: ``put`` never waits for the database; a writer
    thread inserts what it finds in batches, one transaction at most every ``flush_s``
    seconds or ``batch`` records. ``flush`` waits for what was queued before it; ``close``
    drains the queue before returning.

    When the queue is full (the database cannot keep up), ``put`` counts the record as
    dropped at once: it is called on the server's event loop, where any wait would stall
    every request in flight.

    The queue is a deque the writer empties a batch at a time, with no lock taken per
    record: a busy server's event loop holds the GIL almost all the time, and a writer
    that had to win it back for every record (as with ``queue.Queue``) fell seconds behind.
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
        self.capacity = capacity
        self.batch = max(1, batch)
        self.flush_s = flush_s
        self.dropped = 0
        self.written = 0
        self._items: deque[PredictionRecord | _Mark] = deque()
        self._wake = threading.Event()
        self._marks = 0  # markers queued, and those the writer has taken
        self._marks_taken = 0
        self._thread = threading.Thread(
            target=self._write_loop, name="assay-prediction-log", daemon=True
        )
        self._thread.start()

    def put(self, record: PredictionRecord) -> None:
        """Queue one answered request."""
        items = self._items
        if len(items) >= self.capacity:
            self.dropped += 1
            return
        items.append(record)
        queued = len(items)
        # The first record opens the writer's interval; a full batch ends it.
        if queued == 1 or queued >= self.batch:
            self._wake.set()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every record queued before this call is written (or dropped); False
        when ``timeout`` seconds pass first. Blocks: call it from a thread, not the loop."""
        if not self._thread.is_alive():
            return True  # closed: close() wrote everything
        written = threading.Event()
        self._mark(_Mark(written))
        return written.wait(timeout)

    def close(self) -> None:
        """Write everything queued, then stop the writer."""
        if self._thread.is_alive():
            self._mark(_Mark(threading.Event(), stop=True))
            self._thread.join()

    def _mark(self, mark: _Mark) -> None:
        self._marks += 1
        self._items.append(mark)
        self._wake.set()

    def _write_loop(self) -> None:
        # One transaction per ``flush_s`` (or per ``batch`` records), not per request: each
        # transaction costs the server more CPU than the records in it. A marker cuts the
        # interval short: someone waits for what is queued before it.
        while True:
            while not self._items:
                self._wake.wait()
                self._wake.clear()
            deadline = time.monotonic() + self.flush_s
            while len(self._items) < self.batch and self._marks == self._marks_taken:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._wake.wait(left)
                self._wake.clear()
            if self._take_batch():
                return

    def _take_batch(self) -> bool:
        """Write the next ``batch`` records (and set the markers among them); True once the
        stop marker is reached."""
        items = self._items
        taken = [items.popleft() for _ in range(min(len(items), self.batch))]
        pending: list[PredictionRecord] = []
        for item in taken:
            if isinstance(item, PredictionRecord):
                pending.append(item)
                continue
            self._marks_taken += 1
            self._write(pending)
            pending = []
            item.done.set()
            if item.stop:
                return True
        self._write(pending)
        return False

    def _write(self, pending: list[PredictionRecord]) -> None:
        if not pending:
            return
        try:
            self.store.log_predictions(pending)
            self.written += len(pending)
        except Exception as exc:
            self.dropped += len(pending)
            log.warning("prediction log: %d records not written: %s", len(pending), exc)
