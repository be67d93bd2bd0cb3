"""The prediction log's writer: batched transactions, drained on close, never blocking."""

from __future__ import annotations

import threading
import time
from typing import Any

from assay.metadata import PredictionRecord
from assay.serving.predlog import PredictionLog


class CountingStore:
    """Records each batch it is asked to write; can be told to fail or to be slow."""

    def __init__(self, delay_s: float = 0.0, fail: bool = False) -> None:
        self.batches: list[list[PredictionRecord]] = []
        self.delay_s, self.fail = delay_s, fail
        self.lock = threading.Lock()

    def log_predictions(self, records: list[PredictionRecord]) -> None:
        time.sleep(self.delay_s)
        if self.fail:
            raise OSError("disk full")
        with self.lock:
            self.batches.append(list(records))


def record(i: int) -> PredictionRecord:
    return PredictionRecord(str(i), "m", 1, time.time(), 1.0, "v1", ["t"], [{"label": "a"}])


def test_requests_arriving_together_are_written_in_one_transaction() -> None:
    store = CountingStore()
    log = PredictionLog(store, flush_s=0.5)  # type: ignore[arg-type]
    for i in range(200):
        log.put(record(i))
        time.sleep(0.001)  # arriving over ~0.2 s, well inside one flush interval
    log.close()
    assert sum(len(b) for b in store.batches) == 200 and log.written == 200
    assert len(store.batches) <= 2, [len(b) for b in store.batches]
    assert [r.request_id for b in store.batches for r in b] == [str(i) for i in range(200)]


def test_a_full_batch_is_written_without_waiting_for_the_interval() -> None:
    store = CountingStore()
    log = PredictionLog(store, batch=50, flush_s=60)  # type: ignore[arg-type]
    for i in range(120):
        log.put(record(i))
    deadline = time.monotonic() + 5
    while sum(len(b) for b in store.batches) < 100 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [len(b) for b in store.batches][:2] == [50, 50]  # written long before 60 s
    log.close()
    assert log.written == 120


def test_a_slow_or_failing_store_drops_and_counts_rather_than_blocking() -> None:
    slow: Any = CountingStore(delay_s=0.3)
    log = PredictionLog(slow, capacity=5, batch=1, flush_s=0)
    started = time.monotonic()
    for i in range(40):
        log.put(record(i))
    assert time.monotonic() - started < 2  # puts never wait on the database
    log.close()
    assert log.dropped > 0 and log.written + log.dropped == 40
    failing: Any = CountingStore(fail=True)
    broken = PredictionLog(failing)
    broken.put(record(1))
    broken.close()
    assert broken.dropped == 1 and broken.written == 0
