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
    Registration,
    RunRecord,
)


def make_run(
    run_id: str, status: str = "running", pid: int = 1, started_at: float | None = None
) -> RunRecord:
    return RunRecord(
        id=run_id,
        pipeline="p",
        source="p.py",
        status=status,
        params={"a": 1},
        started_at=time.time() if started_at is None else started_at,
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
    # Inserted out of order: the list follows when each run started, not when it was stored.
    for run_id, started_at in [("run0", 1000.0), ("run2", 3000.0), ("run1", 2000.0)]:
        meta.insert_run(make_run(run_id, started_at=started_at))
    assert [r.id for r in meta.list_runs(limit=2)] == ["run2", "run1"]


def test_a_listed_run_carries_no_package_list_and_a_run_found_by_id_all_of_it(
    meta: MetadataStore,
) -> None:
    meta.insert_run(make_run("r1"))
    meta.finish_run("r1", "failed", error="boom", traceback="tb")
    (listed,) = meta.list_runs()
    assert (listed.packages, listed.traceback, listed.error) == ({}, None, "boom")
    assert (listed.params, listed.tags, listed.status) == ({"a": 1}, {}, "failed")
    whole = meta.get_run("r1")
    assert (whole.packages, whole.traceback) == ({"x": "1"}, "tb")
    assert meta.get_run("r1", whole=False) == listed


def test_executions_with_outputs_and_metrics_are_found_by_cache_key(meta: MetadataStore) -> None:
    meta.insert_run(make_run("r1"))
    meta.record_execution(
        make_execution("e1", "r1", "key1"),
        artifacts=[artifact("d" * 64, "e1"), artifact("d" * 64, "e1")],
        events=[EventRecord("e1", "d" * 64, "output", "out", "json", "value", "int")],
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

    def reg(digest: str) -> Registration:
        return Registration("m", digest, "json", "r1", "e1", "alice", {})

    v1 = meta.register_version(reg("1" * 64))
    v2 = meta.register_version(reg("2" * 64))
    again = meta.register_version(reg("1" * 64))
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


def test_registration_is_written_with_its_execution(meta: MetadataStore) -> None:
    meta.insert_run(make_run("r1"))
    registration = Registration("m", "5" * 64, "json", "r1", "e1", "alice", {"metrics": {}})
    meta.record_execution(
        make_execution("e1", "r1", "k"),
        artifacts=[artifact("5" * 64, "e1")],
        registrations=[registration],
    )
    version = meta.model_version("m", None)
    assert version is not None
    assert (version.version, version.execution_id) == (1, "e1")


def test_a_failed_write_registers_nothing(meta: MetadataStore) -> None:
    meta.insert_run(make_run("r1"))
    registration = Registration("m", "6" * 64, "json", "r1", "e1", "alice", {})
    with pytest.raises(Exception, match="(?i)foreign key|violates|constraint"):
        meta.record_execution(  # the artifact row is missing: the whole write is refused
            make_execution("e1", "r1", "k"), registrations=[registration]
        )
    assert meta.model_names() == []
    assert meta.find_cached("k") is None


def test_the_codec_of_reused_outputs_is_the_producers(meta: MetadataStore) -> None:
    meta.insert_run(make_run("r1"))
    digest = "7" * 64
    meta.record_execution(  # the same bytes, imported first as a file ...
        make_execution("e1", "r1", "k1"),
        artifacts=[ArtifactRecord(digest, "file", "file", 3, "pathlib.Path", time.time())],
        events=[EventRecord("e1", digest, "input", "path", "file", "file", "pathlib.Path")],
    )
    meta.record_execution(  # ... then returned by a step as JSON
        make_execution("e2", "r1", "k2"),
        artifacts=[artifact(digest, "e2")],
        events=[EventRecord("e2", digest, "output", "output", "json", "value", "list")],
    )
    cached = meta.find_cached("k2")
    assert cached is not None
    out = cached.outputs["output"]
    assert (out.codec, out.kind, out.type_name, out.producer) == ("json", "value", "list", "e2")


def test_non_finite_parameters_round_trip(meta: MetadataStore) -> None:
    run = make_run("nan1")
    meta.insert_run(_with_params(run))
    params = meta.get_run("nan1").params
    assert params["y"] == 1.0
    assert params["x"] != params["x"]  # NaN


def _with_params(run: RunRecord) -> RunRecord:
    import dataclasses

    return dataclasses.replace(run, params={"x": float("nan"), "y": 1.0})
