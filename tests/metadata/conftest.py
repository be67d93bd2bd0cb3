"""Metadata stores to run the same tests over: SQLite on disk, SQLite in memory, PostgreSQL."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from assay import Settings
from assay.metadata import MetadataStore, open_metadata

POSTGRES_URL = os.environ.get(
    "ASSAY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections use a fresh, private schema; dropped afterwards."""
    try:
        admin = sa.create_engine(POSTGRES_URL)
        with admin.connect():
            pass
    except sa.exc.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {exc.orig}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    schema = f"assay_test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def settings_on(database: str, settings: Settings) -> Iterator[Settings]:
    """``settings`` as they are (``database`` "sqlite": a file in the project) or with a
    fresh PostgreSQL schema (``database`` "postgres"), dropped afterwards."""
    if database == "sqlite":
        yield settings
        return
    urls = postgres_schema_url()
    yield dataclasses.replace(settings, db_url=next(urls))
    next(urls, None)  # drops the schema


@pytest.fixture(params=["sqlite-file", "sqlite-memory", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite-file":
        yield f"sqlite:///{tmp_path / 'meta.db'}"
    elif request.param == "sqlite-memory":
        yield "sqlite://"
    else:
        yield from postgres_schema_url()


@pytest.fixture
def meta(db_url: str) -> Iterator[MetadataStore]:
    store = open_metadata(db_url)
    yield store
    store.close()
