"""Ed25519 keys that sign audit events, stored as PEM files apart from the store."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from assay.errors import AuditError

__all__ = ["PublicKey", "SigningKey"]


@dataclass(frozen=True, slots=True)
class PublicKey:
    """The public half: what ``assay audit verify`` checks signatures with."""

    key: Ed25519PublicKey

    @property
    def raw(self) -> bytes:
        """The 32 raw bytes of the key."""
        return self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        """A short, stable identifier: the first 16 hex digits of the key's sha256."""
        return hashlib.sha256(self.raw).hexdigest()[:16]

    def verify(self, data: bytes, signature: str) -> bool:
        """True when ``signature`` (base64) is this key's signature of ``data``."""
        try:
            self.key.verify(base64.b64decode(signature, validate=True), data)
        except (InvalidSignature, ValueError):
            return False
        return True

    @classmethod
    def load(cls, path: Path) -> PublicKey:
        """The public key of the private key at ``path``, or of ``path`` with ``.pub``.

        Raises:
            AuditError: neither file exists or can be read as an Ed25519 key.
        """
        public = path.with_suffix(".pub")
        if public.exists():
            loaded = _read(public, private=False)
            if isinstance(loaded, Ed25519PublicKey):
                return cls(loaded)
        if path.exists():
            return SigningKey.load(path).public
        raise AuditError(
            f"no audit signing key at {path} (nor its public half {public.name})",
            hint="point ASSAY_AUDIT_KEY (or ASSAY_AUDIT_DIR) at the key, or its .pub, "
            "that this store was signed with",
        )


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The private key; only processes that change the store need it."""

    key: Ed25519PrivateKey

    @property
    def public(self) -> PublicKey:
        """The matching public key."""
        return PublicKey(self.key.public_key())

    def sign(self, data: bytes) -> str:
        """Base64 Ed25519 signature of ``data``."""
        return base64.b64encode(self.key.sign(data)).decode()

    @classmethod
    def load(cls, path: Path) -> SigningKey:
        """Read the private key at ``path``.

        Raises:
            AuditError: the file is missing or is not an Ed25519 private key.
        """
        loaded = _read(path, private=True)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise AuditError(
                f"{path} is not an Ed25519 private key",
                hint="point ASSAY_AUDIT_KEY at the key this store is signed with",
            )
        return cls(loaded)

    @classmethod
    def generate(cls) -> SigningKey:
        """A new random key, held in memory until saved."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKey:
        """Read the key at ``path``, creating it (readable by its owner only) when missing.

        Processes creating it at once agree on one key: it is linked into place exclusively.
        """
        if path.exists():
            return cls.load(path)
        return cls.generate().save(path)

    def save(self, path: Path) -> SigningKey:
        """Write this key to ``path`` (owner-only) and its public half to ``path`` with
        ``.pub``, unless a key is there already; returns the key that is at ``path`` now.

        Raises:
            AuditError: the folder cannot be written.
        """
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public = self.public.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written whole under a private name, then linked into place: the link fails if
            # another process got there first, and nobody ever reads a half-written key.
            unique = uuid.uuid4().hex
            tmp = path.with_name(f".{path.name}.{unique}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
            pub_tmp = path.with_name(f".{path.name}.{unique}.pub.tmp")
            pub_tmp.write_bytes(public)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pub_tmp.unlink(missing_ok=True)
                return self.load(path)
            finally:
                tmp.unlink()
            pub_tmp.replace(path.with_suffix(".pub"))
        except OSError as exc:
            raise AuditError(
                f"cannot create the audit signing key {path}: {exc.strerror}",
                hint="set ASSAY_AUDIT_DIR or ASSAY_AUDIT_KEY to a writable folder or file",
            ) from None
        return self


def _read(path: Path, *, private: bool) -> object:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuditError(
            f"cannot read the audit key {path}: {exc.strerror}",
            hint="check the file's permissions, and ASSAY_AUDIT_KEY / ASSAY_AUDIT_DIR if set",
        ) from None
    try:
        if private:
            return serialization.load_pem_private_key(data, password=None)
        return serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise AuditError(
            f"{path} is not a PEM key file", hint="restore the key this store was signed with"
        ) from None
