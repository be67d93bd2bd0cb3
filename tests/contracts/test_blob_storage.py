"""One contract suite run over every BlobStorage implementation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from assay.errors import StoreError
from assay.store import BlobStorage, FsspecBlobStorage, LocalBlobStorage, MemoryBlobStorage

Factory = Callable[[Path], BlobStorage]

FACTORIES: dict[str, Factory] = {
    "memory": lambda _tmp: MemoryBlobStorage(),
    "local": lambda tmp: LocalBlobStorage(tmp / "blobs"),
    "fsspec-memory": lambda _tmp: FsspecBlobStorage(f"memory://assay-{uuid.uuid4().hex}"),
    "fsspec-file": lambda tmp: FsspecBlobStorage(f"file://{tmp / 'fs'}"),
}


@pytest.fixture(params=sorted(FACTORIES))
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStorage:
    return FACTORIES[request.param](tmp_path)


def test_satisfies_the_protocol(blobs: BlobStorage) -> None:
    assert isinstance(blobs, BlobStorage)


def test_write_then_read_round_trips(blobs: BlobStorage) -> None:
    blobs.write("sha256/ab/abc", b"\x00bytes\xff")
    assert blobs.exists("sha256/ab/abc")
    assert blobs.read("sha256/ab/abc") == b"\x00bytes\xff"


def test_missing_key_reads_as_key_error(blobs: BlobStorage) -> None:
    assert not blobs.exists("sha256/00/none")
    with pytest.raises(KeyError):
        blobs.read("sha256/00/none")


def test_write_replaces(blobs: BlobStorage) -> None:
    blobs.write("k/one", b"first")
    blobs.write("k/one", b"second")
    assert blobs.read("k/one") == b"second"


def test_keys_lists_everything_written(blobs: BlobStorage) -> None:
    assert list(blobs.keys()) == []
    blobs.write("a/1", b"1")
    blobs.write("b/c/2", b"2")
    assert sorted(blobs.keys()) == ["a/1", "b/c/2"]


def test_empty_bytes_are_stored(blobs: BlobStorage) -> None:
    blobs.write("empty", b"")
    assert blobs.exists("empty")
    assert blobs.read("empty") == b""


def test_local_storage_refuses_keys_escaping_its_root(tmp_path: Path) -> None:
    storage = LocalBlobStorage(tmp_path / "root")
    with pytest.raises(StoreError, match="invalid blob key"):
        storage.write("../outside", b"x")
    assert not (tmp_path / "outside").exists()


def test_local_storage_leaves_no_temporary_files(tmp_path: Path) -> None:
    storage = LocalBlobStorage(tmp_path / "root")
    storage.write("a/b", b"x" * 1000)
    assert [p.name for p in (tmp_path / "root" / "a").iterdir()] == ["b"]


def test_open_reads_the_bytes_piece_by_piece(blobs: BlobStorage) -> None:
    blobs.write("sha256/ab/abc", b"0123456789")
    with blobs.open("sha256/ab/abc") as f:
        assert f.read(4) == b"0123"
        assert f.read() == b"456789"


def test_open_of_a_missing_key_is_a_key_error(blobs: BlobStorage) -> None:
    with pytest.raises(KeyError):
        blobs.open("sha256/00/none")


def test_write_file_stores_the_bytes_of_a_file(blobs: BlobStorage, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"\x00" * 3_000_000 + b"end")
    blobs.write("k/first", b"old")
    blobs.write_file("k/first", source)
    assert blobs.read("k/first") == source.read_bytes()
    assert sorted(blobs.keys()) == ["k/first"]


def test_held_names_the_keys_that_hold_bytes(blobs: BlobStorage) -> None:
    blobs.write("a/1", b"1")
    blobs.write("b/2", b"")
    assert blobs.held(["a/1", "b/2", "c/3"]) == {"a/1", "b/2"}
    assert blobs.held([]) == set()
