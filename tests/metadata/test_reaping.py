"""Runs left running by clients that are gone are marked killed, once nothing was heard of
them for long enough: no step started or ended, no value logged; others are left alone."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay.metadata import ExecutionRecord, MetadataStore, MetricRecord, open_metadata
from tests.metadata.conftest import postgres_schema_url
from tests.metadata.repositories import new_run


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MetadataStore]:
    urls = postgres_schema_url() if request.param == "postgres" else None
    meta = open_metadata(next(urls) if urls else f"sqlite:///{tmp_path / 'meta.db'}")
    try:
        yield meta
    finally:
        meta.close()
        if urls:
            next(urls, None)


def test_only_runs_quiet_for_longer_than_the_wait_are_killed(store: MetadataStore) -> None:
    hour, later = 3600.0, time.time() + 2 * 3600  # "now" two hours on
    silent, talking, stepping, ended = (new_run("ann") for _ in range(4))
    for run in (silent, talking, stepping, ended):
        store.insert_run(run)
    store.log_run_data(talking.id, {}, [MetricRecord(talking.id, "loss", 0.1, later - 60)])
    step = ExecutionRecord(
        uuid.uuid4().hex,
        stepping.id,
        "train",
        "m.train",
        "f" * 64,
        "k" * 64,
        "running",
        {},
        later - 600,
    )
    store.record_execution(step)
    store.finish_run(ended.id, "succeeded")
    fresh = new_run("ann", started_at=later - 60)
    store.insert_run(fresh)
    assert store.reap_quiet_runs(hour, now=later) == [silent.id]
    found = store.get_run(silent.id)
    assert found.status == "killed" and found.ended_at is None
    assert "nothing was heard from its client for 1 h" in (found.error or "")
    assert {store.get_run(r.id).status for r in (talking, stepping, fresh)} == {"running"}
    assert store.get_run(ended.id).status == "succeeded"
    assert store.reap_quiet_runs(hour, now=later) == []  # killed once
    (event,) = [e for e in store.audit_events() if e.subject == f"run:{silent.id}"][-1:]
    assert event.action == "run.finished" and '"reaped":true' in event.body


def test_a_killed_run_that_reports_its_end_later_keeps_that_end(store: MetadataStore) -> None:
    run = new_run("ann")
    store.insert_run(run)
    store.reap_quiet_runs(0.0, now=time.time() + 10)
    assert store.get_run(run.id).status == "killed"
    store.finish_run(run.id, "succeeded")
    assert store.get_run(run.id).status == "succeeded"
