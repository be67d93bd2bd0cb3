"""The sealer the metadata store calls: signs event hashes, checkpoints the head."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from assay.anchor.checkpoints import Checkpoint, CheckpointLogs, checkpoint_message
from assay.anchor.keyring import Keyring
from assay.anchor.keys import PublicKey, SigningKey
from assay.errors import AuditError

__all__ = ["Anchor", "FileSealer", "MemorySealer"]


class Anchor(Protocol):
    """What the store is sealed with and what ``audit verify`` checks against."""

    @property
    def key_id(self) -> str: ...

    def prepare(self, expected_key_id: str | None) -> None: ...

    def sign(self, digest: str) -> str: ...

    def verify(self, digest: str, signature: str) -> bool: ...

    def begin_chain(self) -> None:
        """Before event 1 of a chain is written (see the workspace's guard)."""
        ...

    def check_chain(self, first: str) -> None:
        """Before anything is written after the head of the chain whose event 1 is
        ``first`` (see the workspace's guard)."""
        ...

    def checkpoint(self, seq: int, digest: str, first: str) -> None: ...

    def public_key(self, key_id: str) -> PublicKey:
        """The key the chain signed by ``key_id`` must verify with (never created by asking).

        Raises:
            AuditError: it cannot be found; the message names the key id and where it looked.
        """
        ...

    def checkpoints(self, key_id: str, first: str) -> list[Checkpoint]:
        """The checkpoints that the chain signed by ``key_id`` whose event 1 has hash
        ``first`` may own, and those of other chains that its key must not have signed
        (see :meth:`CheckpointLogs.read`)."""
        ...

    def latest_checkpoint(self, key_id: str, first: str) -> Checkpoint | None:
        """The newest checkpoint of that chain, read cheaply (from the end of its log), for
        decisions that check the chain has not been cut short; None when there is none.

        Raises:
            AuditError: the log cannot be read.
        """
        ...

    def checkpoint_location(self, key_id: str, first: str) -> str:
        """Where that chain's checkpoints are written, for messages."""
        ...


class FileSealer:
    """Signs with a key kept in files and appends checkpoints to logs, all outside the store.

    ``key`` is one explicit key file (created on first use when missing), or empty: then
    each chain's key is found by its id in the keyring under ``home`` and a new chain gets a
    new key. ``checkpoints`` is one explicit log, or empty: then each chain has its own log
    under ``home``. The key is read only when the first event is signed, so commands that
    only read the store never need it.
    """

    def __init__(self, key: str | Path, checkpoints: str, home: str | Path) -> None:
        root = Path(home)
        self.key_path = Path(key) if key else None
        # Earlier versions kept a key and a log per database URL in home/audit/ID/.
        self.keyring = Keyring(root / "keys", legacy=root / "audit")
        self.logs = CheckpointLogs(checkpoints, root / "checkpoints", legacy=root / "audit")
        self._key: SigningKey | None = None
        self._key_id = ""
        # Whether the key has signed a committed chain: a new chain then needs a new key.
        self._committed = False
        self._lock = threading.Lock()

    @property
    def signing_key(self) -> SigningKey:
        """The private key, loaded (or created) once."""
        with self._lock:
            key = self._key or self._use(self._fresh_key(), committed=False)
            return key

    @property
    def key_id(self) -> str:
        return self._key_id or self.signing_key.public.key_id

    def prepare(self, expected_key_id: str | None) -> None:
        with self._lock:
            if self.key_path is not None:
                self._prepare_file(self.key_path, expected_key_id)
            elif expected_key_id:
                if self._key_id != expected_key_id:
                    self._use(self.keyring.signing_key(expected_key_id), committed=True)
            elif self._key is None or self._committed:
                self._use(self._fresh_key(), committed=False)

    def _prepare_file(self, path: Path, expected_key_id: str | None) -> None:
        if self._key is None:
            if expected_key_id and not path.exists():
                # A new key now would make every earlier signature unverifiable.
                raise AuditError(
                    f"this store's audit log is signed with key {expected_key_id}, and there "
                    f"is no key at {path} (set by ASSAY_AUDIT_KEY or ASSAY_AUDIT_DIR)",
                    hint=f"point ASSAY_AUDIT_KEY (or ASSAY_AUDIT_DIR) at key {expected_key_id}, "
                    "or unset them to find it by its id in the keyring",
                )
            self._use(SigningKey.load_or_create(path), committed=bool(expected_key_id))
        if expected_key_id and self._key_id != expected_key_id:
            raise AuditError(
                f"the audit key at {path} is {self._key_id}, but this store's audit log "
                f"is signed with {expected_key_id}",
                hint=f"point ASSAY_AUDIT_KEY (or ASSAY_AUDIT_DIR) at key {expected_key_id}, "
                "or unset them to find it by its id in the keyring",
            )

    def _fresh_key(self) -> SigningKey:
        if self.key_path is not None:
            return SigningKey.load_or_create(self.key_path)
        return self.keyring.create()

    def _use(self, key: SigningKey, *, committed: bool) -> SigningKey:
        self._key, self._key_id, self._committed = key, key.public.key_id, committed
        return key

    def sign(self, digest: str) -> str:
        return self.signing_key.sign(digest.encode())

    def verify(self, digest: str, signature: str) -> bool:
        return self.signing_key.public.verify(digest.encode(), signature)

    def begin_chain(self) -> None:
        return None  # which chain a store's artifacts belong to is the workspace's to say

    def check_chain(self, first: str) -> None:
        return None

    def checkpoint(self, seq: int, digest: str, first: str) -> None:
        key = self.signing_key
        self._committed = True
        self.logs.log(key.public.key_id, first).append(_signed_checkpoint(key, seq, digest, first))

    def public_key(self, key_id: str) -> PublicKey:
        with self._lock:
            if self._key is not None and self._key_id == key_id:
                return self._key.public
        if self.key_path is None:
            return self.keyring.public_key(key_id)
        try:
            return PublicKey.load(self.key_path)
        except AuditError as exc:
            raise AuditError(
                f"this store's audit log is signed with key {key_id or '(none named)'}, and "
                f"{exc.message}",
                hint=f"point ASSAY_AUDIT_KEY (or ASSAY_AUDIT_DIR) at key {key_id} or its "
                ".pub, or unset them to find it by its id in the keyring",
            ) from None

    def checkpoints(self, key_id: str, first: str) -> list[Checkpoint]:
        # A keyring key is made for one chain: another chain signed with it is a rewrite.
        # An explicit key may sign several stores, so only this chain's log is read.
        return self.logs.read(key_id, first, other_chains=self.key_path is None)

    def latest_checkpoint(self, key_id: str, first: str) -> Checkpoint | None:
        found = self.logs.latest(key_id, first)
        if found is None and self.logs.legacy is not None:
            # A chain begun by an earlier version may have its checkpoints in its old log.
            legacy = [cp for cp in self.checkpoints(key_id, first) if cp.chain in ("", first)]
            found = max(legacy, key=lambda cp: cp.seq, default=None)
        return found

    def checkpoint_location(self, key_id: str, first: str) -> str:
        return self.logs.log(key_id, first).location


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

    def verify(self, digest: str, signature: str) -> bool:
        return self.key.public.verify(digest.encode(), signature)

    def begin_chain(self) -> None:
        return None

    def check_chain(self, first: str) -> None:
        return None

    def checkpoint(self, seq: int, digest: str, first: str) -> None:
        self.written.append(_signed_checkpoint(self.key, seq, digest, first))

    def public_key(self, key_id: str) -> PublicKey:
        return self.key.public

    def checkpoints(self, key_id: str, first: str) -> list[Checkpoint]:
        return list(self.written)

    def latest_checkpoint(self, key_id: str, first: str) -> Checkpoint | None:
        return max(self.written, key=lambda cp: cp.seq, default=None)

    def checkpoint_location(self, key_id: str, first: str) -> str:
        return "memory"


def _signed_checkpoint(key: SigningKey, seq: int, digest: str, first: str) -> Checkpoint:
    return Checkpoint(
        seq=seq,
        hash=digest,
        at=time.time(),
        key_id=key.public.key_id,
        signature=key.sign(checkpoint_message(seq, digest, first)),
        chain=first,
    )
