"""Artifact bytes through a team server: uploaded once by digest, downloaded into a local
cache that later reads are served from, each copy checked against its digest."""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from assay.core import sha256_hex
from assay.errors import ArtifactNotFoundError, IntegrityError
from assay.remote.connection import Connection
from assay.store import BlobStorage

__all__ = ["HELD", "HttpBlobs"]

HELD = 200
"""Digests asked after in one request."""

_ADDRESS = re.compile(r"^sha256/[0-9a-f]{2}/([0-9a-f]{64})$")


class HttpBlobs:
    """``BlobStorage`` through ``connection`` for content-addressed keys
    (``sha256/ab/abcd...``), with ``cache`` (a local store) keeping what was written or
    read: the server is asked whether it holds bytes and sent those it lacks, and bytes
    held in the cache that still hash to their digest are never fetched again.

    What the server said it holds (asked, uploaded, or vouched for with a cache answer) is
    believed for the rest of the session: the server removes bytes only when an admin
    collects garbage, and a step that then reads them fails cleanly (``ArtifactNotFoundError``).

    Anything but a content address is refused (``PermissionError``, a read-only store to
    ``ArtifactStore``): through the server nothing is written under a chosen name, nothing
    is listed and nothing is removed.
    """

    def __init__(self, connection: Connection, cache: BlobStorage) -> None:
        self.connection = connection
        self.cache = cache
        self._vouched: set[str] = set()  # digests the server said it holds, this session

    def vouch(self, digests: Iterable[str]) -> None:
        """Take the server's word (given with an answer about them) that it holds the
        bytes of ``digests``: they are not asked after again."""
        self._vouched.update(digests)

    def exists(self, key: str) -> bool:
        return bool(self.held([key]))

    def held(self, keys: Iterable[str]) -> set[str]:
        by_digest = {_digest(k): k for k in keys}
        asked = [d for d in by_digest if d not in self._vouched]
        for i in range(0, len(asked), HELD):
            found = self.connection.call("GET", "/blobs", params={"digest": asked[i : i + HELD]})
            self.vouch(found["held"])
        return {k for d, k in by_digest.items() if d in self._vouched}

    def read(self, key: str) -> bytes:
        digest = _digest(key)
        try:
            data = self.cache.read(key)
        except KeyError:
            data = b""
        else:
            if sha256_hex(data) == digest:
                return data
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
        self.vouch([digest])
        self.cache.write(key, data)

    def write_file(self, key: str, source: Path) -> None:
        digest = _digest(key)
        with source.open("rb") as f:  # sent as it is read
            self.connection.answer("PUT", f"/blobs/{digest}", content=f)
        self.vouch([digest])
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
