"""API tokens of the team server: issued, listed and revoked, each change in the audit chain
(the digest of each secret sealed with it, the secret itself never stored)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import sqlalchemy as sa

from assay.metadata import schema as t
from assay.metadata.audit import AuditEntry, Sealer
from assay.metadata.state import lock_state

__all__ = ["TokenRecord", "TokenRecords"]


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """One API token: whose, the role it acts with, until when, and the sha256 of its
    secret."""

    id: str
    user: str
    role: str
    secret_sha256: str
    note: str
    created_by: str
    created_at: float
    expires_at: float
    revoked_by: str | None = None
    revoked_at: float | None = None

    def usable(self, now: float) -> bool:
        """Neither revoked nor expired at ``now``."""
        return self.revoked_at is None and now < self.expires_at


class TokenRecords:
    """The API-token part of the metadata store (mixed into ``MetadataStore``)."""

    _read: Callable[[], AbstractContextManager[sa.Connection]]
    _write: Callable[[], AbstractContextManager[sa.Connection]]
    sealer: Sealer | None
    audit: Callable[..., None]

    def add_token(self, token: TokenRecord) -> None:
        """Store a new token, audited (``token.created``) as made by ``token.created_by``."""
        with self._write() as conn:
            lock_state(conn, ["api_tokens"], self.sealer)
            conn.execute(
                t.api_tokens.insert().values(
                    id=token.id,
                    user=token.user,
                    role=token.role,
                    secret_sha256=token.secret_sha256,
                    note=token.note,
                    created_by=token.created_by,
                    created_at=token.created_at,
                    expires_at=token.expires_at,
                )
            )
            payload = {
                "user": token.user,
                "role": token.role,
                "secret_sha256": token.secret_sha256,
                "note": token.note,
                "created_at": token.created_at,
                "expires_at": token.expires_at,
            }
            self.audit(
                conn, [AuditEntry("token.created", f"token:{token.id}", payload)], token.created_by
            )

    def token(self, token_id: str) -> TokenRecord | None:
        """The token with id ``token_id``, or None."""
        k = t.api_tokens
        with self._read() as conn:
            row = conn.execute(sa.select(k).where(k.c.id == token_id)).mappings().first()
        return None if row is None else TokenRecord(**dict(row))

    def tokens(self, user: str | None = None) -> list[TokenRecord]:
        """Every token (of ``user`` only, if given), newest first."""
        k = t.api_tokens
        q = sa.select(k).order_by(k.c.created_at.desc(), k.c.id)
        if user is not None:
            q = q.where(k.c.user == user)
        with self._read() as conn:
            return [TokenRecord(**dict(r)) for r in conn.execute(q).mappings()]

    def revoke_token(self, token_id: str, by: str, at: float) -> TokenRecord | None:
        """Revoke token ``token_id`` (audited ``token.revoked``); the token as it now is, or
        None when there is no such token. A token revoked already stays as it was."""
        k = t.api_tokens
        with self._write() as conn:
            lock_state(conn, ["api_tokens"], self.sealer)
            found = conn.execute(sa.select(k).where(k.c.id == token_id)).mappings().first()
            if found is None:
                return None
            row = dict(found)
            if row["revoked_at"] is None:
                conn.execute(
                    k.update().where(k.c.id == token_id).values(revoked_by=by, revoked_at=at)
                )
                entry = AuditEntry("token.revoked", f"token:{token_id}", {"revoked_at": at})
                self.audit(conn, [entry], by)
                row |= {"revoked_by": by, "revoked_at": at}
        return TokenRecord(**row)
