"""Artifact bytes through the team server from the client's side: uploaded once, read back
from a local cache that is checked on every read, refused when changed anywhere."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from assay.errors import ArtifactNotFoundError, IntegrityError
from assay.remote import Connection, HttpBlobs
from assay.store import ArtifactStore, LocalBlobStorage
from tests.server.api.conftest import Team


@pytest.fixture
def carol(team: Team, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArtifactStore]:
    """carol's artifact store through the server, with a cache folder of her own."""
    connection = Connection(team.url, team.tokens["carol"])
    cache = LocalBlobStorage(tmp_path_factory.mktemp("cache"))
    yield ArtifactStore(HttpBlobs(connection, cache))
    connection.close()


def cache_of(store: ArtifactStore) -> LocalBlobStorage:
    blobs = store.blobs
    assert isinstance(blobs, HttpBlobs) and isinstance(blobs.cache, LocalBlobStorage)
    return blobs.cache


def test_a_value_put_through_the_server_is_held_there_and_read_back(
    team: Team, carol: ArtifactStore
) -> None:
    stored = carol.put({"weights": [1.5, 2.5]})
    assert team.ws.artifacts.get(stored.digest, stored.codec) == {"weights": [1.5, 2.5]}
    assert carol.exists(stored.digest)
    assert carol.get(stored.digest, stored.codec) == {"weights": [1.5, 2.5]}


def test_bytes_read_once_are_served_from_the_cache_after(
    team: Team, carol: ArtifactStore, tmp_path_factory: pytest.TempPathFactory
) -> None:
    digest = team.ws.artifacts.put_bytes(b"made by someone else")
    assert carol.get_bytes(digest) == b"made by someone else"  # fetched and kept
    team.ws.artifacts.delete(digest)  # the server no longer has them
    assert carol.get_bytes(digest) == b"made by someone else"
    assert not carol.exists(digest)  # the server is asked, not the cache


def test_changed_bytes_in_the_cache_are_fetched_again(team: Team, carol: ArtifactStore) -> None:
    digest = team.ws.artifacts.put_bytes(b"the real bytes")
    carol.get_bytes(digest)
    cache = cache_of(carol)
    cache.write(ArtifactStore.key(digest), b"edited on the laptop")
    assert carol.get_bytes(digest) == b"the real bytes"
    assert cache.read(ArtifactStore.key(digest)) == b"the real bytes"


def test_changed_bytes_on_the_server_are_refused_and_not_cached(
    team: Team, carol: ArtifactStore
) -> None:
    digest = team.ws.artifacts.put_bytes(b"good bytes")
    team.ws.artifacts.blobs.write(ArtifactStore.key(digest), b"bad bytes")
    with pytest.raises(IntegrityError, match="corrupted"):
        carol.get_bytes(digest)
    assert not cache_of(carol).exists(ArtifactStore.key(digest))


def test_missing_bytes_are_reported_as_missing(carol: ArtifactStore) -> None:
    with pytest.raises(ArtifactNotFoundError, match="no bytes"):
        carol.get_bytes("ab" * 32)


def test_only_content_addresses_go_through_the_server(carol: ArtifactStore) -> None:
    with pytest.raises(PermissionError, match="no artifact's address"):
        carol.blobs.write("audit/chain.json", b"{}")
    with pytest.raises(PermissionError):
        list(carol.blobs.keys())
    with pytest.raises(PermissionError):
        carol.blobs.delete(ArtifactStore.key("ab" * 32))


def test_a_file_is_uploaded_as_it_is_read(
    team: Team, carol: ArtifactStore, tmp_path_factory: pytest.TempPathFactory
) -> None:
    source = tmp_path_factory.mktemp("src") / "big.bin"
    source.write_bytes(b"\x01" * 12_000_000)  # larger than any JSON body the server reads
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    carol.blobs.write_file(ArtifactStore.key(digest), source)
    assert team.ws.artifacts.get_bytes(digest) == source.read_bytes()
