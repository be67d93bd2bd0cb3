"""The subjects the repositories' contract suites run over: the database (``MetadataStore``
on SQLite, on disk and in memory, and on PostgreSQL) and the team server (``assay.remote``'s
repositories against a live server on loopback, over SQLite and over PostgreSQL)."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from assay import Settings
from assay.metadata import ArtifactRecord, MetricRecord, RunRecord, open_metadata
from assay.metadata.runs import RunRepository, StepRepository
from assay.metadata.versions import ModelRepository
from assay.remote import Connection, HttpBlobs, HttpModels, HttpRuns, HttpSteps
from assay.server.api.app import TeamOptions
from assay.server.api.http import team_serving
from assay.store import ArtifactStore, MemoryBlobStorage
from assay.workspace import open_workspace
from tests.metadata.conftest import postgres_schema_url

KINDS = ["sqlite-file", "sqlite-memory", "postgres", "http-sqlite", "http-postgres"]


@dataclasses.dataclass
class Subject:
    runs: RunRepository
    steps: StepRepository
    models: ModelRepository
    artifacts: ArtifactStore  # where a run's artifact bytes go before their records
    user: str  # who the repositories record as


def subject_of(kind: str, tmp_path: Path) -> Iterator[Subject]:
    """The repositories of ``kind`` (one of ``KINDS``), recording as ann."""
    if kind.startswith("http"):
        settings = Settings.for_project(tmp_path / "project", user="ann")
        settings = dataclasses.replace(settings, audit_home=str(tmp_path / "state"))
        if kind == "http-postgres":
            urls = postgres_schema_url()
            settings = dataclasses.replace(settings, db_url=next(urls))
        ws = open_workspace(settings)
        try:
            with team_serving(ws, TeamOptions(auth="local")) as (url, _):
                connection = Connection(url, None)
                runs = HttpRuns(connection)
                blobs = HttpBlobs(connection, MemoryBlobStorage())
                yield Subject(
                    runs, HttpSteps(runs), HttpModels(connection), ArtifactStore(blobs), "ann"
                )
                connection.close()
        finally:
            ws.close()
            if kind == "http-postgres":
                next(urls, None)
        return
    if kind == "sqlite-file":
        url = f"sqlite:///{tmp_path / 'meta.db'}"
    elif kind == "sqlite-memory":
        url = "sqlite://"
    else:
        urls = postgres_schema_url()
        url = next(urls)
    store = open_metadata(url)
    try:
        yield Subject(store, store, store, ArtifactStore(MemoryBlobStorage()), "ann")
    finally:
        store.close()
        if kind == "postgres":
            next(urls, None)


@pytest.fixture(params=KINDS)
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Subject]:
    yield from subject_of(request.param, tmp_path)


def new_run(user: str, **changes: object) -> RunRecord:
    run = RunRecord(
        id=uuid.uuid4().hex,
        pipeline="ad hoc",
        source="notebook.py",
        status="running",
        params={"lr": 0.1},
        started_at=time.time(),
        user=user,
        host="laptop",
        pid=4242,
        python_version="CPython 3.11.7",
        packages={"numpy": "2.1.0", "scikit-learn": "1.5.2"},
        git_commit="a" * 40,
        git_dirty=False,
        experiment="contract",
        tags={"team": "audit"},
        note="first try",
    )
    return dataclasses.replace(run, **changes)  # type: ignore[arg-type]


def metric(run: RunRecord, key: str, value: float, step: int | None) -> MetricRecord:
    return MetricRecord(run.id, key, value, time.time(), None, step)


def stored(subject: Subject, value: object, producer: str | None = None) -> ArtifactRecord:
    """``value`` stored in the subject's artifact store, and the record of it."""
    put = subject.artifacts.put(value)
    return ArtifactRecord(
        put.digest, put.kind, put.codec, put.size, put.type_name, time.time(), producer
    )
