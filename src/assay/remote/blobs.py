"""Artifact bytes through a team server: uploaded once by digest, downloaded into a local
cache that later reads are served from, each copy checked against its digest."""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from assay.errors import ArtifactNotFoundError, IntegrityError
from assay.remote.connection import Connection
from assay.store import BlobStorage

__all__ = ["HttpBlobs"]

_ADDRESS = re.compile(r"^sha256/[0-9a-f]{2}/([0-9a-f]{64})$")


class HttpBlobs:
    """``BlobStorage`` through ``connection`` for content-addressed keys
    (``sha256/ab/abcd...``), with ``cache`` (a local store) keeping what was written or
    read: the server is asked whether it holds bytes and sent those it lacks, and bytes
    held in the cache that still hash to their digest are never fetched again.

    Anything but a content address is refused (``PermissionError``, a read-only store to
    ``ArtifactStore``): through the server nothing is written under a chosen name, nothing
    is listed and nothing is removed.
    """

    def __init__(self, connection: Connection, cache: BlobStorage) -> None:
        self.connection = connection
        self.cache = cache

    def exists(self, key: str) -> bool:
        return self.connection.holds(f"/blobs/{_digest(key)}")

    def read(self, key: str) -> bytes:
        with self.open(key) as f:
            return f.read()

    def open(self, key: str) -> IO[bytes]:
        digest = _digest(key)
        if self._cached(key, digest):
            return self.cache.open(key)
        with tempfile.NamedTemporaryFile(prefix="assay-download-") as spool:
            try:
                self.connection.download(f"/blobs/{digest}", spool)
            except ArtifactNotFoundError:
                raise KeyError(key) from None
            spool.flush()
            spool.seek(0)
            if _hash(spool) != digest:
                raise IntegrityError(
                    f"the bytes the server sent for {digest[:12]} do not hash to it: "
                    "they changed on the way, and were not kept",
                    hint="try again; if it persists, check the network between here and the server",
                )
            self.cache.write_file(key, Path(spool.name))
        return self.cache.open(key)

    def write(self, key: str, data: bytes) -> None:
        digest = _digest(key)
        self.connection.answer("PUT", f"/blobs/{digest}", content=data)
        self.cache.write(key, data)

    def write_file(self, key: str, source: Path) -> None:
        with source.open("rb") as f:  # sent as it is read
            self.connection.answer("PUT", f"/blobs/{_digest(key)}", content=f)
        self.cache.write_file(key, source)

    def keys(self) -> Iterator[str]:
        raise PermissionError("artifacts are not listed through the team server")

    def delete(self, key: str) -> None:
        raise PermissionError(f"{key} is not removed through the team server")

    def _cached(self, key: str, digest: str) -> bool:
        """Whether the cache holds the bytes of ``digest`` intact (changed ones are
        dropped, to be fetched again)."""
        try:
            with self.cache.open(key) as f:
                hashed = _hash(f)
        except KeyError:
            return False
        if hashed != digest:
            self.cache.delete(key)
            return False
        return True


def _digest(key: str) -> str:
    found = _ADDRESS.match(key)
    if found is None:
        raise PermissionError(
            f"{key} is no artifact's address: it is not written through the team server"
        )
    return found.group(1)


def _hash(f: IO[bytes]) -> str:
    hashed = hashlib.sha256()
    while piece := f.read(1 << 20):
        hashed.update(piece)
    return hashed.hexdigest()
