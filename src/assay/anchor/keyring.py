"""The keyring: signing keys filed by key id, so that a store finds its key wherever it is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from assay.anchor.keys import PublicKey, SigningKey
from assay.errors import AuditError

__all__ = ["Keyring"]


class Keyring:
    """Keys in ``folder`` as ``KEYID.key`` (private, owner-only) and ``KEYID.pub``.

    A chain names its key by id, so a store that is moved, copied or reached by another URL
    finds its key here on any machine that holds it. Keys that earlier versions of assay
    kept in one folder per database URL (``legacy/*/signing.key``) are found by id too.
    """

    def __init__(self, folder: Path, legacy: Path | None = None) -> None:
        self.folder = folder
        self.legacy = legacy

    def create(self) -> SigningKey:
        """A new key, filed under its id.

        Raises:
            AuditError: the keyring folder cannot be written.
        """
        key = SigningKey.generate()
        return key.save(self.folder / f"{key.public.key_id}.key")

    def signing_key(self, key_id: str) -> SigningKey:
        """The private key ``key_id``.

        Raises:
            AuditError: it is in none of the places looked (they are named), or only its
                public half is.
        """
        for path in self._private_paths(key_id):
            key = SigningKey.load(path)
            if key.public.key_id == key_id:
                return key
        self.public_key(key_id)  # names the places looked when there is no half at all
        raise AuditError(
            f"only the public half of the audit key {key_id} is on this machine; changing "
            "the store needs the private key",
            hint=f"copy {key_id}.key from the machine that holds it into {self.folder}",
        )

    def public_key(self, key_id: str) -> PublicKey:
        """The public half of key ``key_id`` (from its ``.pub``, else its private key).

        Raises:
            AuditError: it is in none of the places looked (they are named).
        """
        for path in self._public_paths(key_id):
            key = PublicKey.load(path)
            if key.key_id == key_id:
                return key
        raise AuditError(
            f"this store's audit log is signed with key {key_id}, which is not on this "
            f"machine; looked in {self.places(key_id)}",
            hint=f"copy {key_id}.key (or {key_id}.pub, enough to verify) from the machine "
            f"that holds it into {self.folder}, or set ASSAY_AUDIT_KEY to it",
        )

    def places(self, key_id: str) -> str:
        """Where a key with this id is looked for, for messages."""
        where = str(self.folder / f"{key_id}.key")
        if self.legacy is not None:
            where += f" and {self.legacy / '*' / 'signing.key'}"
        return where

    def _private_paths(self, key_id: str) -> list[Path]:
        filed = self.folder / f"{key_id}.key"
        found = [filed] if filed.exists() else []
        return found + [p for p in self._legacy_keys(key_id) if p.exists()]

    def _public_paths(self, key_id: str) -> list[Path]:
        # PublicKey.load reads KEY.pub, falling back to KEY itself.
        filed = self.folder / f"{key_id}.key"
        found = [filed] if filed.exists() or filed.with_suffix(".pub").exists() else []
        return found + list(self._legacy_keys(key_id))

    def _legacy_keys(self, key_id: str) -> Iterator[Path]:
        if self.legacy is None or not self.legacy.is_dir():
            return
        for folder in sorted(self.legacy.iterdir()):
            path = folder / "signing.key"
            if not (path.exists() or path.with_suffix(".pub").exists()):
                continue
            try:
                if PublicKey.load(path).key_id == key_id:
                    yield path
            except AuditError:
                continue  # an unreadable file in an old folder names no key
