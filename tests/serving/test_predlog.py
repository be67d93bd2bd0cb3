"""The prediction log's writer: batched transactions, drained on close, never blocking."""

from __future__ import annotations

import threading
import time
from typing import Any

from assay.metadata import PredictionRecord
from assay.serving.predlog import PredictionLog
from tests.waiting import wait_until


class CountingStore:
    """Records each batch it is asked to write; can be told to fail, or to hold every write
    until ``release`` is set (a database that cannot keep up)."""

    def __init__(self, fail: bool = False, hold: bool = False) -> None:
        self.batches: list[list[PredictionRecord]] = []
        self.fail = fail
        self.release = threading.Event()
        if not hold:
            self.release.set()
        self.lock = threading.Lock()

    def log_predictions(self, records: list[PredictionRecord]) -> None:
        assert self.release.wait(timeout=60), "the test never released the store"
        if self.fail:
            raise OSError("disk full")
        with self.lock:
            self.batches.append(list(records))

    def rows(self) -> int:
        with self.lock:
            return sum(len(b) for b in self.batches)


def record(i: int) -> PredictionRecord:
    return PredictionRecord(str(i), "m", 1, time.time(), 1.0, "v1", ["t"], [{"label": "a"}])


def test_requests_arriving_together_are_written_in_one_transaction() -> None:
    store = CountingStore()
    log = PredictionLog(store, flush_s=60)  # type: ignore[arg-type]
    for wave in range(4):
        for i in range(50 * wave, 50 * (wave + 1)):
            log.put(record(i))
        # The next wave arrives only once the writer holds this one: a writer that wrote
        # whatever it found queued would make a transaction per wave.
        wait_until(log._queue.empty, message="the writer did not take the queued records")
    assert store.batches == []  # the interval is still open
    log.close()
    assert store.rows() == 200 and log.written == 200
    assert [len(b) for b in store.batches] == [200]
    assert [r.request_id for b in store.batches for r in b] == [str(i) for i in range(200)]


def test_a_full_batch_is_written_without_waiting_for_the_interval() -> None:
    store = CountingStore()
    log = PredictionLog(store, batch=50, flush_s=60)  # type: ignore[arg-type]
    for i in range(120):
        log.put(record(i))
    wait_until(lambda: store.rows() >= 100, message="two full batches were not written")
    assert [len(b) for b in store.batches][:2] == [50, 50]  # written long before 60 s
    log.close()
    assert log.written == 120


def test_a_slow_or_failing_store_drops_and_counts_rather_than_blocking() -> None:
    stuck: Any = CountingStore(hold=True)
    log = PredictionLog(stuck, capacity=5, batch=1, flush_s=0)

    def put_all() -> None:
        for i in range(40):
            log.put(record(i))

    putting = threading.Thread(target=put_all, daemon=True)
    putting.start()
    putting.join(timeout=30)
    assert not putting.is_alive(), "put waited for the database"
    stuck.release.set()
    log.close()
    assert log.dropped > 0 and log.written + log.dropped == 40
    assert stuck.rows() == log.written
    failing: Any = CountingStore(fail=True)
    broken = PredictionLog(failing)
    broken.put(record(1))
    broken.close()
    assert broken.dropped == 1 and broken.written == 0
