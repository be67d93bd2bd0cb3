from __future__ import annotations

from pathlib import Path

import pytest

from assay.core import sha256_hex
from assay.errors import ArtifactNotFoundError, IntegrityError
from assay.store import ArtifactStore, LocalBlobStorage, MemoryBlobStorage, open_artifact_store


def test_values_are_addressed_by_the_sha256_of_their_bytes() -> None:
    store = ArtifactStore(MemoryBlobStorage())
    stored = store.put({"a": 1})
    assert stored.digest == sha256_hex(b'{"a":1}')
    assert (stored.codec, stored.kind, stored.size) == ("json", "value", 7)
    assert store.get(stored.digest, "json") == {"a": 1}


def test_same_bytes_are_written_once() -> None:
    blobs = MemoryBlobStorage()
    store = ArtifactStore(blobs)
    a, b = store.put([1, 2]), store.put([1, 2])
    assert a.digest == b.digest
    assert list(blobs.keys()) == [ArtifactStore.key(a.digest)]


def test_kind_can_be_overridden() -> None:
    assert ArtifactStore(MemoryBlobStorage()).put({"f1": 0.5}, kind="metrics").kind == "metrics"


def test_corrupted_bytes_are_refused_on_load(tmp_path: Path) -> None:
    store = ArtifactStore(LocalBlobStorage(tmp_path))
    stored = store.put({"weights": [1, 2, 3]})
    (tmp_path / ArtifactStore.key(stored.digest)).write_bytes(b'{"weights":[6,6,6]}')
    with pytest.raises(IntegrityError, match=rf"artifact {stored.digest[:12]} is corrupted"):
        store.get(stored.digest, "json")


def test_missing_bytes_are_reported() -> None:
    store = ArtifactStore(MemoryBlobStorage())
    with pytest.raises(ArtifactNotFoundError, match="has no bytes"):
        store.get_bytes("0" * 64)


def test_open_artifact_store_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_artifact_store(str(tmp_path)).blobs, LocalBlobStorage)
    assert isinstance(open_artifact_store(f"file://{tmp_path}").blobs, LocalBlobStorage)
    memory = open_artifact_store("memory://assay-test-open")
    digest = memory.put_bytes(b"hello")
    assert memory.get_bytes(digest) == b"hello"


def test_a_local_file_is_the_stored_file_on_a_folder(tmp_path: Path) -> None:
    store = ArtifactStore(LocalBlobStorage(tmp_path))
    digest = store.put_bytes(b"text,label\nup,positive\n")
    with store.local_file(digest) as path:
        assert path == tmp_path / ArtifactStore.key(digest) and path.name == digest
    assert path.read_bytes() == b"text,label\nup,positive\n"  # the store's own, kept


def test_a_local_file_of_other_storage_is_a_copy_removed_on_exit() -> None:
    store = ArtifactStore(MemoryBlobStorage())
    digest = store.put_bytes(b"text,label\n")
    with store.local_file(digest) as path:
        assert path.name == digest and path.read_bytes() == b"text,label\n"
    assert not path.exists() and not path.parent.exists()
    with pytest.raises(ArtifactNotFoundError), store.local_file("0" * 64):
        pass
