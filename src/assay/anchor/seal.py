"""The sealer the metadata store calls: signs event hashes, checkpoints the head."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assay.anchor.checkpoints import Checkpoint, CheckpointLog, checkpoint_message
from assay.anchor.keys import PublicKey, SigningKey
from assay.errors import AuditError

__all__ = ["Anchor", "FileSealer", "MemorySealer"]


class Anchor(Protocol):
    """What the store is sealed with and what ``audit verify`` checks against."""

    @property
    def key_id(self) -> str: ...

    def prepare(self, expected_key_id: str | None) -> None: ...

    def sign(self, digest: str) -> str: ...

    def checkpoint(self, seq: int, digest: str) -> None: ...

    def public_key(self) -> PublicKey:
        """The key signatures must verify with (never created by asking)."""
        ...

    def checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint written so far."""
        ...


class FileSealer:
    """Signs with the key at ``key_path`` (created on first use) and appends checkpoints.

    The key is read only when the first event is signed, so commands that only read the
    store never need it.
    """

    def __init__(self, key_path: str | Path, checkpoints: str) -> None:
        self.key_path = Path(key_path)
        self.log = CheckpointLog(checkpoints)
        self._key: SigningKey | None = None
        self._key_id = ""
        self._lock = threading.Lock()

    @property
    def signing_key(self) -> SigningKey:
        """The private key, loaded (or created) once."""
        with self._lock:
            if self._key is None:
                self._key = SigningKey.load_or_create(self.key_path)
                self._key_id = self._key.public.key_id
            return self._key

    @property
    def key_id(self) -> str:
        return self._key_id or self.signing_key.public.key_id

    def prepare(self, expected_key_id: str | None) -> None:
        with self._lock:
            if self._key is None:
                if expected_key_id and not self.key_path.exists():
                    # A new key now would make every earlier signature unverifiable.
                    raise AuditError(
                        f"this store's audit log is signed with key {expected_key_id}, and "
                        f"there is no key at {self.key_path}",
                        hint="set ASSAY_AUDIT_DIR (or ASSAY_AUDIT_KEY) to where that key is kept",
                    )
                self._key = SigningKey.load_or_create(self.key_path)
                self._key_id = self._key.public.key_id
        if expected_key_id and self._key_id != expected_key_id:
            raise AuditError(
                f"the audit key at {self.key_path} is {self._key_id}, but this store's audit "
                f"log is signed with {expected_key_id}",
                hint="set ASSAY_AUDIT_DIR (or ASSAY_AUDIT_KEY) to where the store's key is kept",
            )

    def sign(self, digest: str) -> str:
        return self.signing_key.sign(digest.encode())

    def checkpoint(self, seq: int, digest: str) -> None:
        self.log.append(_signed_checkpoint(self.signing_key, seq, digest))

    def public_key(self) -> PublicKey:
        with self._lock:
            if self._key is not None:
                return self._key.public
        return PublicKey.load(self.key_path)

    def checkpoints(self) -> list[Checkpoint]:
        return self.log.read()


class MemorySealer:
    """An anchor held in memory, for tests and the in-memory workspace."""

    def __init__(self) -> None:
        self.key = SigningKey(Ed25519PrivateKey.generate())
        self.written: list[Checkpoint] = []

    @property
    def key_id(self) -> str:
        return self.key.public.key_id

    def prepare(self, expected_key_id: str | None) -> None:
        if expected_key_id and expected_key_id != self.key_id:
            raise AuditError(f"this store's audit log is signed with key {expected_key_id}")

    def sign(self, digest: str) -> str:
        return self.key.sign(digest.encode())

    def checkpoint(self, seq: int, digest: str) -> None:
        self.written.append(_signed_checkpoint(self.key, seq, digest))

    def public_key(self) -> PublicKey:
        return self.key.public

    def checkpoints(self) -> list[Checkpoint]:
        return list(self.written)


def _signed_checkpoint(key: SigningKey, seq: int, digest: str) -> Checkpoint:
    return Checkpoint(
        seq=seq,
        hash=digest,
        at=time.time(),
        key_id=key.public.key_id,
        signature=key.sign(checkpoint_message(seq, digest)),
    )
