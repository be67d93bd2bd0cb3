"""Opening a workspace: created when missing, or only an existing one with create=False."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import ArgumentError

from assay import Settings
from assay.errors import StoreNotFoundError
from assay.metadata import open_metadata
from assay.workspace import open_workspace


def test_an_existing_store_only_is_opened_and_nothing_is_made(tmp_path: Path) -> None:
    settings = Settings.for_project(tmp_path / "proj", user="alice")
    with pytest.raises(StoreNotFoundError) as caught:
        open_workspace(settings, create=False)
    assert caught.value.message == f"no assay store at {tmp_path / 'proj/.assay/assay.db'}"
    assert "assay init" in (caught.value.hint or "")
    assert not (tmp_path / "proj").exists()
    open_workspace(settings).close()  # the default creates it
    ws = open_workspace(settings, create=False)
    try:
        assert ws.metadata.list_runs() == []
    finally:
        ws.close()


def test_an_empty_file_or_an_in_memory_database_is_no_store(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with pytest.raises(StoreNotFoundError, match="no assay store at"):
        open_metadata(f"sqlite:///{empty}", create=False)
    with sqlite3.connect(empty) as conn:  # no tables were made in it
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []
    with pytest.raises(StoreNotFoundError, match="in-memory"):
        open_metadata("sqlite://", create=False)


def test_a_url_that_cannot_work_is_not_mistaken_for_a_missing_store() -> None:
    with pytest.raises(Exception) as caught:
        open_metadata("nosuchdriver://x", create=False)
    assert not isinstance(caught.value, StoreNotFoundError | ArgumentError)
    assert "cannot use database URL" in str(caught.value)
