"""The prediction log's own process: it builds and writes what the server answered, keeps
going through Ctrl-C until it is told to stop, and if it dies the server writes instead."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from assay.metadata import MetadataStore, open_metadata
from assay.serving.answered import Answered
from assay.serving.logprocess import ProcessSink
from assay.serving.predlog import PredictionLog
from assay.serving.table import Table
from tests.waiting import wait_until


@pytest.fixture
def store(tmp_path: Path) -> MetadataStore:
    return open_metadata(f"sqlite:///{tmp_path / 'meta.db'}")


def answered(i: int, inputs: list[str] | Table | None = None) -> Answered:
    return Answered(
        request_id=f"r{i}",
        model="m",
        version=1,
        at=1000.0 + i,
        latency_ms=2.0,
        protocol="v2",
        inputs=inputs if inputs is not None else [f"text {i}"],
        predictions=["up"],
        probabilities=[[0.25, 0.75]],
        classes=("down", "up"),
        most=10_000,
    )


def process_log(store: MetadataStore) -> tuple[PredictionLog, ProcessSink]:
    url = store.shared_url()
    assert url is not None
    sink = ProcessSink(url, store)
    return PredictionLog(sink=sink, flush_s=0.05), sink


def test_what_the_server_answered_is_built_and_written_by_the_process(
    store: MetadataStore,
) -> None:
    log, sink = process_log(store)
    table = Table({"rooms": np.array([3, 4]), "area": np.array([60.5, np.nan])})
    log.put(answered(0))
    log.put(answered(1, table))
    assert log.flush(timeout=60)
    first, second = store.predictions("m")
    assert first.inputs == ["text 0"]
    assert first.outputs == [{"label": "up", "probabilities": {"down": 0.25, "up": 0.75}}]
    assert second.inputs == [{"rooms": 3, "area": 60.5}, {"rooms": 4, "area": None}]
    for i in range(2, 50):
        log.put(answered(i))
    log.close()
    assert log.written == 50 and log.dropped == 0
    assert len(store.predictions("m")) == 50
    assert not sink.alive  # stopped once everything was written


def test_the_database_address_is_never_on_the_process_command_line(store: MetadataStore) -> None:
    log, sink = process_log(store)
    try:
        argv = Path(f"/proc/{sink._process.pid}/cmdline").read_bytes().split(b"\0")
        assert b"meta.db" not in b" ".join(argv)  # it comes over the pipe
    finally:
        log.close()


def test_ctrl_c_does_not_stop_it_before_the_queue_is_written(store: MetadataStore) -> None:
    log, sink = process_log(store)
    log.put(answered(0))
    assert log.flush(timeout=60)
    os.kill(sink._process.pid, signal.SIGINT)
    time.sleep(0.2)
    assert sink.alive
    log.put(answered(1))
    log.close()
    assert log.written == 2 and [p.request_id for p in store.predictions("m")] == ["r0", "r1"]


def test_if_the_process_dies_the_server_writes_the_log_itself(store: MetadataStore) -> None:
    log, sink = process_log(store)
    log.put(answered(0))
    assert log.flush(timeout=60)
    sink._process.kill()
    sink._process.wait()
    for i in range(1, 4):
        log.put(answered(i))
    assert log.flush(timeout=60)
    log.close()
    assert not sink.alive
    # Everything sent before it died was confirmed written; the rest the server wrote.
    assert [p.request_id for p in store.predictions("m")] == ["r0", "r1", "r2", "r3"]
    assert log.written == 4 and log.dropped == 0


def test_the_process_ends_when_the_server_is_gone(store: MetadataStore) -> None:
    _, sink = process_log(store)
    sink._inbox.close()  # as when the server's process is killed
    wait_until(lambda: sink._process.poll() is not None, message="the writer did not stop")
    assert sink._process.returncode == 0
