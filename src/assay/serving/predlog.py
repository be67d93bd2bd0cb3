"""The prediction log: answered requests queued on the hot path, written in batches by a
thread, into the store or through a process of its own (see ``logprocess``)."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Protocol

from assay.metadata import MetadataStore, PredictionRecord
from assay.serving.answered import Answered

__all__ = ["LogSink", "PredictionLog", "StoreSink"]

log = logging.getLogger("assay.serving")

Item = Answered | PredictionRecord


class LogSink(Protocol):
    """Where the writer delivers batches. Each call answers the records it now knows to
    be written and those lost, since its last answer."""

    def write(self, items: list[Item]) -> tuple[int, int]:
        """Deliver ``items``, in order."""
        ...

    def sync(self) -> tuple[int, int]:
        """Return once everything delivered is written (or lost)."""
        ...

    def close(self) -> tuple[int, int]:
        """Sync, then release what the sink holds."""
        ...


def as_record(item: Item) -> PredictionRecord:
    """The log's record of ``item``."""
    return item if isinstance(item, PredictionRecord) else item.record()


class StoreSink:
    """Writes batches into the store from the writer thread itself."""

    def __init__(self, store: MetadataStore) -> None:
        self.store = store

    def write(self, items: list[Item]) -> tuple[int, int]:
        try:
            self.store.log_predictions([as_record(item) for item in items])
        except Exception as exc:
            log.warning("prediction log: %d records not written: %s", len(items), exc)
            return 0, len(items)
        return len(items), 0

    def sync(self) -> tuple[int, int]:
        return 0, 0

    def close(self) -> tuple[int, int]:
        return 0, 0


class _Mark:
    """A marker among the records: the writer delivers what came before it, syncs, then
    sets ``done``; a stop marker also ends the writer."""

    def __init__(self, done: threading.Event, *, stop: bool = False) -> None:
        self.done = done
        self.stop = stop


class PredictionLog:
    """A bounded queue in front of a sink (the store by default): ``put`` never waits; a
    writer thread delivers what it finds in batches, at most every ``flush_s`` seconds or
    ``batch`` records. ``flush`` waits for what was queued before it; ``close`` drains the
    queue before returning.

    When the queue is full (the sink cannot keep up), ``put`` counts the record as dropped
    at once: it is called on the server's event loop, where any wait would stall every
    request in flight.

    The queue is a deque the writer empties a batch at a time, with no lock taken per
    record: a busy server's event loop holds the GIL almost all the time, and a writer
    that had to win it back for every record (as with ``queue.Queue``) fell seconds behind.
    """

    def __init__(
        self,
        store: MetadataStore | None = None,
        *,
        sink: LogSink | None = None,
        capacity: int = 10_000,
        batch: int = 1_000,
        flush_s: float = 0.25,
    ) -> None:
        if sink is None:
            if store is None:
                raise ValueError("a prediction log needs a store or a sink")
            sink = StoreSink(store)
        self.sink = sink
        self.capacity = capacity
        self.batch = max(1, batch)
        self.flush_s = flush_s
        self.dropped = 0
        self.written = 0
        self._items: deque[Item | _Mark] = deque()
        self._wake = threading.Event()
        self._marks = 0  # markers queued, and those the writer has taken
        self._marks_taken = 0
        self._thread = threading.Thread(
            target=self._write_loop, name="assay-prediction-log", daemon=True
        )
        self._thread.start()

    def put(self, item: Item) -> None:
        """Queue one answered request."""
        items = self._items
        if len(items) >= self.capacity:
            self.dropped += 1
            return
        items.append(item)
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
        """Write everything queued, then stop the writer (and the sink)."""
        if self._thread.is_alive():
            self._mark(_Mark(threading.Event(), stop=True))
            self._thread.join()

    def _mark(self, mark: _Mark) -> None:
        self._marks += 1
        self._items.append(mark)
        self._wake.set()

    def _write_loop(self) -> None:
        # One batch per ``flush_s`` (or per ``batch`` records), not per request: each
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
        """Deliver the next ``batch`` records (and honour the markers among them); True
        once the stop marker is reached."""
        items = self._items
        taken = [items.popleft() for _ in range(min(len(items), self.batch))]
        pending: list[Item] = []
        for item in taken:
            if not isinstance(item, _Mark):
                pending.append(item)
                continue
            self._marks_taken += 1
            self._deliver(pending)
            pending = []
            self._count(self.sink.close() if item.stop else self.sink.sync())
            item.done.set()
            if item.stop:
                return True
        self._deliver(pending)
        return False

    def _deliver(self, pending: list[Item]) -> None:
        if pending:
            self._count(self.sink.write(pending))

    def _count(self, counts: tuple[int, int]) -> None:
        self.written += counts[0]
        self.dropped += counts[1]
