"""The content-addressed artifact store: bytes kept once under their sha256, verified on load."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.core.digest import sha256_hex
from assay.errors import ArtifactNotFoundError, IntegrityError, StoreError
from assay.store.blobs import BlobStorage, FsspecBlobStorage, LocalBlobStorage
from assay.store.codecs import CodecRegistry, default_codecs

__all__ = ["ArtifactStore", "StoredArtifact", "open_artifact_store"]


@dataclass(frozen=True, slots=True)
class StoredArtifact:
    """What storing a value produced: its digest, codec, kind, size and Python type."""

    digest: str
    codec: str
    kind: str
    size: int
    type_name: str


class ArtifactStore:
    """Stores values as bytes addressed by their sha256; not meant to be subclassed."""

    def __init__(
        self, blobs: BlobStorage, codecs: CodecRegistry | None = None, *, location: str = ""
    ) -> None:
        self.blobs = blobs
        self.codecs = codecs or default_codecs()
        self.location = location or type(blobs).__name__
        """Where the bytes are, for messages: the artifact root's folder or URL."""

    @staticmethod
    def key(digest: str) -> str:
        """The blob key of ``digest``: ``sha256/ab/abcdef...``."""
        return f"sha256/{digest[:2]}/{digest}"

    def put(self, value: Any, *, kind: str | None = None) -> StoredArtifact:
        """Encode ``value`` with the first codec that accepts it and store the bytes once.

        Raises:
            CodecError: no codec accepts the value.
        """
        codec = self.codecs.for_value(value)
        data = codec.encode(value)
        digest = self.put_bytes(data)
        return StoredArtifact(
            digest, codec.name, kind or codec.kind, len(data), _qualified_type(value)
        )

    def put_bytes(self, data: bytes) -> str:
        """Store raw bytes; returns their digest. Storing the same bytes twice writes once."""
        return self.put_all([data])[0]

    def put_all(self, datas: Sequence[bytes], digests: Sequence[str] | None = None) -> list[str]:
        """Store each of ``datas``; returns their digests (``digests``, when the caller
        hashed them already). Whether the store holds them is asked once for all, and only
        those it lacks are written."""
        digests = [sha256_hex(data) for data in datas] if digests is None else list(digests)
        held = self.held(digests)
        for digest, data in zip(digests, datas, strict=True):
            if digest not in held:
                self._write(digest, data)
                held.add(digest)
        return digests

    def _write(self, digest: str, data: bytes) -> None:
        try:
            self.blobs.write(self.key(digest), data)
        except OSError as exc:
            raise StoreError(
                f"cannot write artifact {digest[:12]} ({len(data)} bytes) to the artifact "
                f"store {self.location}: {exc.strerror or exc}",
                hint="free space on the disk that holds it (or fix its permissions), or "
                "move the artifact root with ASSAY_ARTIFACT_ROOT",
            ) from None

    def exists(self, digest: str) -> bool:
        """True when bytes for ``digest`` are held (they are not verified here)."""
        return self.blobs.exists(self.key(digest))

    def held(self, digests: Iterable[str]) -> set[str]:
        """Those of ``digests`` whose bytes are held (not verified here)."""
        keys = {self.key(d): d for d in digests}
        return {keys[k] for k in self.blobs.held(keys)}

    def actual_digest(self, digest: str) -> str | None:
        """What the bytes stored for ``digest`` hash to now (None: no bytes), without the
        side effects of a failed :meth:`get_bytes`; for checks that only report."""
        try:
            return sha256_hex(self.blobs.read(self.key(digest)))
        except KeyError:
            return None

    def intact_bytes(self, digest: str) -> bytes | None:
        """The bytes of ``digest`` if they are stored and still hash to it, else None;
        unlike :meth:`get_bytes`, nothing is moved aside (for checks that only report)."""
        try:
            data = self.blobs.read(self.key(digest))
        except KeyError:
            return None
        return data if sha256_hex(data) == digest else None

    def delete(self, digest: str) -> None:
        """Remove the bytes of ``digest``; callers check nothing still needs them."""
        self.blobs.delete(self.key(digest))

    def get_bytes(self, digest: str) -> bytes:
        """The bytes of ``digest``, after checking they still hash to it.

        Raises:
            ArtifactNotFoundError: nothing is stored under the digest.
            IntegrityError: the stored bytes were changed.
        """
        try:
            data = self.blobs.read(self.key(digest))
        except KeyError:
            raise ArtifactNotFoundError(
                f"artifact {digest[:12]} has no bytes in the artifact store",
                hint="check the artifact root setting, or rerun with --no-cache to recreate it",
            ) from None
        actual = sha256_hex(data)
        if actual != digest:
            # Moving the bad bytes aside keeps them for inspection and lets the step that
            # made them write them again: a cache lookup sees them missing and re-runs it.
            aside = f"quarantine/{digest}.{actual[:12]}"
            try:
                self.blobs.write(aside, data)
                self.blobs.delete(self.key(digest))
                moved = f"; they were moved to {aside} in the artifact store"
            except OSError:  # a read-only store: report the damage, leave the bytes
                moved = ""
            raise IntegrityError(
                f"artifact {digest[:12]} is corrupted: its bytes now hash to {actual[:12]}{moved}",
                hint="rerun the pipeline to recreate the artifact, or restore it from a backup",
            )
        return data

    @contextmanager
    def local_file(self, digest: str) -> Iterator[Path]:
        """A file on this machine holding the verified bytes of ``digest``, named by it, for
        code that reads paths (a pipeline's ``Path`` parameter): the stored file itself on a
        local folder, else a copy in a private temporary folder that is removed on exit.

        Raises:
            ArtifactNotFoundError: nothing is stored under the digest.
            IntegrityError: the stored bytes were changed.
        """
        data = self.get_bytes(digest)
        if isinstance(self.blobs, LocalBlobStorage):
            yield (self.blobs.root / self.key(digest)).absolute()
            return
        with tempfile.TemporaryDirectory(prefix="assay-") as folder:
            path = Path(folder) / digest
            path.write_bytes(data)
            yield path

    def get(self, digest: str, codec: str) -> Any:
        """Load and decode the value of ``digest`` with the codec it was stored with."""
        return self.codecs.get(codec).decode(self.get_bytes(digest))


def open_artifact_store(
    root: str, codecs: CodecRegistry | None = None, *, create: bool = False
) -> ArtifactStore:
    """An artifact store on a local folder (a plain path or ``file://``) or any fsspec URL.

    With ``create``, a local folder is made if missing (object stores need no folders).
    """
    if "://" not in root or root.startswith("file://"):
        folder = root.removeprefix("file://")
        return ArtifactStore(LocalBlobStorage(folder, create=create), codecs, location=folder)
    return ArtifactStore(FsspecBlobStorage(root), codecs, location=root)


def _qualified_type(value: Any) -> str:
    t = type(value)
    return f"{t.__module__}.{t.__qualname__}" if t.__module__ != "builtins" else t.__qualname__
