"""Byte-level storage backends: an eight-method protocol, a local folder, any fsspec URL, memory."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from assay.errors import StoreError

__all__ = ["BlobStorage", "FsspecBlobStorage", "LocalBlobStorage", "MemoryBlobStorage"]


@runtime_checkable
class BlobStorage(Protocol):
    """Stores bytes under slash-separated keys. Writes are atomic: a reader sees all or nothing."""

    def exists(self, key: str) -> bool:
        """True when ``key`` holds bytes."""

    def held(self, keys: Iterable[str]) -> set[str]:
        """Those of ``keys`` that hold bytes (for a remote store: one question, not many)."""

    def read(self, key: str) -> bytes:
        """The bytes under ``key``; raises ``KeyError`` when there are none."""

    def write(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing what was there."""

    def open(self, key: str) -> IO[bytes]:
        """The bytes under ``key`` as a file to read piece by piece (to close after); raises
        ``KeyError`` when there are none."""

    def write_file(self, key: str, source: Path) -> None:
        """Store the bytes of the file ``source`` under ``key``, replacing what was there,
        without holding them all in memory."""

    def keys(self) -> Iterator[str]:
        """Every key held, in no particular order."""

    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""


class MemoryBlobStorage:
    """Keeps bytes in a dict; for tests and throwaway runs."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def exists(self, key: str) -> bool:
        return key in self._data

    def held(self, keys: Iterable[str]) -> set[str]:
        return {k for k in keys if k in self._data}

    def read(self, key: str) -> bytes:
        return self._data[key]

    def write(self, key: str, data: bytes) -> None:
        with self._lock:
            self._data[key] = bytes(data)

    def open(self, key: str) -> IO[bytes]:
        return io.BytesIO(self._data[key])

    def write_file(self, key: str, source: Path) -> None:
        self.write(key, source.read_bytes())

    def keys(self) -> Iterator[str]:
        return iter(list(self._data))

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


class LocalBlobStorage:
    """Files under a root folder, written to a temporary name and renamed into place."""

    def __init__(self, root: str | Path, *, create: bool = False) -> None:
        self.root = Path(root)
        self._folders: set[Path] = set()
        if create:
            self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if key.startswith("/") or ".." in key.split("/"):
            raise StoreError(f"invalid blob key {key!r}")
        return self.root / key

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def held(self, keys: Iterable[str]) -> set[str]:
        return {k for k in keys if self.exists(k)}

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def write(self, key: str, data: bytes) -> None:
        self._replace(key, lambda f: f.write(data))

    def open(self, key: str) -> IO[bytes]:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise KeyError(key) from None

    def write_file(self, key: str, source: Path) -> None:
        def copy(f: IO[bytes]) -> None:
            with source.open("rb") as read:
                shutil.copyfileobj(read, f, 1 << 20)

        self._replace(key, copy)

    def _replace(self, key: str, fill: Any) -> None:
        """Write the file of ``key`` under a temporary name with ``fill`` and rename it
        into place: a reader sees the old bytes or the new, never part of them."""
        path = self._path(key)
        if path.parent not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                fill(f)
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; a team's store is read by others too
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in self.root.rglob("*"):
            if path.is_file() and not path.name.startswith(".tmp-"):
                yield path.relative_to(self.root).as_posix()


class FsspecBlobStorage:
    """Any fsspec URL (``memory://``, ``s3://``, ``az://``, ``gs://``, ...)."""

    def __init__(self, url: str, **storage_options: Any) -> None:
        import fsspec  # noqa: PLC0415 - only URLs that are not local folders need it

        try:
            self.fs, self.root = fsspec.core.url_to_fs(url, **storage_options)
        except (ValueError, ImportError) as exc:
            raise StoreError(
                f"cannot use artifact location {url!r}: {str(exc).splitlines()[0]}",
                hint="use a local folder or an fsspec URL; install the extra for its scheme: "
                "pip install 'assay[s3]' or 'assay[azure]' "
                "(from a checkout: pip install -e '.[s3]' or -e '.[azure]')",
            ) from None
        self.root = self.root.rstrip("/")

    def _path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self._path(key)))

    def held(self, keys: Iterable[str]) -> set[str]:
        return {k for k in keys if self.exists(k)}

    def read(self, key: str) -> bytes:
        try:
            return bytes(self.fs.cat_file(self._path(key)))
        except FileNotFoundError:
            raise KeyError(key) from None

    def write(self, key: str, data: bytes) -> None:
        # Object stores make a single put atomic; write whole objects, never append.
        path = self._path(key)
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)  # folders exist on local disks
        self.fs.pipe_file(path, data)

    def open(self, key: str) -> IO[bytes]:
        try:
            opened: IO[bytes] = self.fs.open(self._path(key), "rb")
        except FileNotFoundError:
            raise KeyError(key) from None
        return opened

    def write_file(self, key: str, source: Path) -> None:
        path = self._path(key)
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        self.fs.put_file(str(source), path)  # object stores upload in parts, then commit

    def delete(self, key: str) -> None:
        if self.fs.exists(self._path(key)):
            self.fs.rm_file(self._path(key))

    def keys(self) -> Iterator[str]:
        if not self.fs.exists(self.root):
            return
        for path in self.fs.find(self.root):
            yield str(path)[len(self.root) :].lstrip("/")
