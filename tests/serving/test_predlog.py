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
        # Waves apart in time: a writer that wrote whatever it found queued would make a
        # transaction per wave.
        time.sleep(0.05)
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


def test_flush_waits_for_what_came_before_it_and_no_longer_than_that() -> None:
    store = CountingStore()
    log = PredictionLog(store, flush_s=60)  # type: ignore[arg-type]
    for i in range(10):
        log.put(record(i))
    started = time.monotonic()
    assert log.flush(timeout=30)
    # Written at once, not at the end of the 60 s interval the first record opened.
    assert time.monotonic() - started < 30 and store.rows() == 10
    log.put(record(10))
    assert log.flush(timeout=30) and store.rows() == 11
    log.close()
    assert log.flush() and [len(b) for b in store.batches] == [10, 1]


def test_a_writer_behind_a_busy_thread_keeps_up() -> None:
    """The event loop of a busy server holds the GIL nearly all the time, putting a record
    now and then between requests: the writer still writes them as they come, not one
    record per switch of the GIL (5 ms), seconds behind."""
    store = CountingStore()
    log = PredictionLog(store, flush_s=0.05)  # type: ignore[arg-type]
    stop = time.monotonic() + 2.0
    put = 0
    while time.monotonic() < stop:  # a hot loop, as a saturated server's
        log.put(record(put))
        put += 1
        busy = time.perf_counter() + 0.0005  # the work of a request, never waiting
        while time.perf_counter() < busy:
            pass
    behind = put - store.rows()
    log.close()
    assert log.dropped == 0 and log.written == put
    assert behind < put // 4, f"{behind} of {put} records were still waiting"
