"""The metadata repository, run over SQLite (file and memory) and PostgreSQL."""

from __future__ import annotations

import time

import pytest

from assay.errors import RecordNotFoundError
from assay.metadata import (
    ArtifactRecord,
    EventRecord,
    ExecutionRecord,
    MetadataStore,
    MetricRecord,
    RunRecord,
)


def make_run(run_id: str, status: str = "running", pid: int = 1) -> RunRecord:
    return RunRecord(
        id=run_id,
        pipeline="p",
        source="p.py",
        status=status,
        params={"a": 1},
        started_at=time.time(),
        user="alice",
        host="h",
        pid=pid,
        python_version="3.11",
        packages={"x": "1"},
    )


def make_execution(ex_id: str, run_id: str, key: str, status: str = "succeeded") -> ExecutionRecord:
    now = time.time()
    return ExecutionRecord(
        id=ex_id,
        run_id=run_id,
        step="s",
        function="m.s",
        fingerprint="f" * 64,
        cache_key=key,
        status=status,
        params={},
        started_at=now,
        ended_at=now,
    )


def artifact(digest: str, producer: str | None = None) -> ArtifactRecord:
    return ArtifactRecord(digest, "value", "json", 3, "int", time.time(), producer)


def test_runs_are_found_by_id_prefix(meta: MetadataStore) -> None:
    meta.insert_run(make_run("aaaa1111"))
    meta.insert_run(make_run("aaaa2222"))
    assert meta.get_run("aaaa1").id == "aaaa1111"
    with pytest.raises(RecordNotFoundError, match="ambiguous"):
        meta.get_run("aaaa")
    with pytest.raises(RecordNotFoundError, match="no run with id 'zz'"):
        meta.get_run("zz")
    assert meta.get_run("aaaa2").params == {"a": 1}


def test_finish_run_records_status_and_error(meta: MetadataStore) -> None:
    meta.insert_run(make_run("r1"))
    meta.finish_run("r1", "failed", error="boom", traceback="tb")
    run = meta.get_run("r1")
    assert (run.status, run.error, run.traceback) == ("failed", "boom", "tb")
    assert run.ended_at is not None


def test_list_runs_is_newest_first(meta: MetadataStore) -> None:
    for i in range(3):
        meta.insert_run(make_run(f"run{i}"))
        time.sleep(0.01)
    assert [r.id for r in meta.list_runs(limit=2)] == ["run2", "run1"]


def test_executions_with_outputs_and_metrics_are_found_by_cache_key(meta: MetadataStore) -> None:
    meta.insert_run(make_run("r1"))
    meta.record_execution(
        make_execution("e1", "r1", "key1"),
        artifacts=[artifact("d" * 64, "e1"), artifact("d" * 64, "e1")],
        events=[EventRecord("e1", "d" * 64, "output", "out")],
        metrics=[MetricRecord("r1", "acc", 0.5, time.time(), "e1")],
    )
    cached = meta.find_cached("key1")
    assert cached is not None
    assert cached.execution_id == "e1"
    assert cached.outputs["out"].digest == "d" * 64
    assert [(m.key, m.value) for m in cached.metrics] == [("acc", 0.5)]
    assert meta.find_cached("other") is None


def test_failed_executions_are_never_reused(meta: MetadataStore) -> None:
    meta.insert_run(make_run("r1"))
    meta.record_execution(make_execution("e1", "r1", "k", status="failed"))
    assert meta.find_cached("k") is None


def test_an_execution_without_outputs_can_be_reused(meta: MetadataStore) -> None:
    meta.insert_run(make_run("r1"))
    meta.record_execution(make_execution("e1", "r1", "k"))
    cached = meta.find_cached("k")
    assert cached is not None
    assert cached.outputs == {}


def test_artifacts_are_inserted_once_across_batches(meta: MetadataStore) -> None:
    meta.insert_run(make_run("r1"))
    meta.record_executions(
        [
            (make_execution("e1", "r1", "k1"), [artifact("a" * 64, "e1")], [], []),
            (make_execution("e2", "r1", "k2"), [artifact("a" * 64, "e2")], [], []),
        ]
    )
    meta.record_execution(make_execution("e3", "r1", "k3"), artifacts=[artifact("a" * 64)])
    assert meta.get_artifact("aaaa").producer == "e1"
    assert [e.id for e in meta.executions("r1")] == ["e1", "e2", "e3"]


def test_model_versions_count_up_and_reuse_the_same_digest(meta: MetadataStore) -> None:
    meta.insert_run(make_run("r1"))
    meta.record_execution(
        make_execution("e1", "r1", "k"), artifacts=[artifact("1" * 64), artifact("2" * 64)]
    )
    kw = {"codec": "json", "run_id": "r1", "execution_id": "e1", "user": "alice", "info": {}}
    v1 = meta.register_version("m", digest="1" * 64, **kw)  # type: ignore[arg-type]
    v2 = meta.register_version("m", digest="2" * 64, **kw)  # type: ignore[arg-type]
    again = meta.register_version("m", digest="1" * 64, **kw)  # type: ignore[arg-type]
    assert (v1.version, v2.version, again.version) == (1, 2, 1)
    latest = meta.model_version("m", None)
    assert latest is not None and latest.version == 2
    assert meta.model_version("m", 7) is None
    assert meta.model_names() == ["m"]
    assert [v.version for v in meta.versions_of_digests(["1" * 64])] == [1]


def test_dead_runs_are_reaped(meta: MetadataStore) -> None:
    meta.insert_run(make_run("alive", pid=10))
    meta.insert_run(make_run("dead", pid=11))
    assert meta.running_pids("h") == [10, 11]
    assert meta.reap_runs("h", [11]) == 1
    assert meta.get_run("dead").status == "killed"
    assert meta.get_run("alive").status == "running"
