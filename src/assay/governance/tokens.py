"""API tokens: issued to a user with one role and an expiry, shown once, revoked by an admin
or by their holder; and who a presented token stands for."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from assay.errors import AuthenticationError, GovernanceError, PermissionDenied
from assay.governance.roles import allowed_by, check_role, require, roles_of
from assay.metadata.tokens import TokenRecord
from assay.workspace import Workspace

__all__ = [
    "DEFAULT_DAYS",
    "MAX_DAYS",
    "IssuedToken",
    "Principal",
    "authenticate",
    "issue_token",
    "list_tokens",
    "revoke_token",
]

DEFAULT_DAYS = 90
MAX_DAYS = 366
_PREFIX = "assay_"
# assay_<id>_<secret>: the id finds the row; only the secret's sha256 is stored.
_TOKEN = re.compile(r"^assay_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: its record, and the token itself (shown once, never stored)."""

    record: TokenRecord
    token: str


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting, as a credential established it: the user, the one role the credential
    may act with (None: every role the user holds), and how they were identified
    (``{"kind": "token", "id": ...}``, ``{"kind": "oidc", "issuer": ..., "subject": ...}``,
    or ``{"kind": "local"}`` for the single local admin of a laptop server)."""

    user: str
    role: str | None
    via: dict[str, str]
    granted: frozenset[str] | None = None
    """Roles the identity provider vouched for at sign-on (see ``Workspace.granted``)."""

    def workspace(self, ws: Workspace) -> Workspace:
        """``ws``, acting as this principal."""
        return ws.acting(self.user, self.via, self.role, self.granted)


def _changes(ws: Workspace, action: str) -> None:
    # A credential that only reads changes nothing, its own credentials included.
    if ws.ceiling == "viewer":
        raise PermissionDenied(
            f"{ws.user} may not {action} with this credential: it carries the viewer role, "
            "which only reads",
            hint="use a credential carrying another role",
        )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    ws: Workspace, user: str, role: str, *, days: float = DEFAULT_DAYS, note: str = ""
) -> IssuedToken:
    """A new token for ``user`` acting with ``role``, valid ``days`` days. An admin issues
    tokens to anyone; a user, to themselves, for a role they hold.

    Raises:
        GovernanceError: an unknown role, a blank user, or days out of range.
        PermissionDenied: the acting user may not issue it.
    """
    check_role(role)
    name = user.strip()
    if not name:
        raise GovernanceError("empty user name", hint="name the user the token is for")
    if not 0 < days <= MAX_DAYS:
        raise GovernanceError(
            f"a token lasts from a moment to {MAX_DAYS} days, not {days:g}",
            hint=f"for example --days {DEFAULT_DAYS}",
        )
    _changes(ws, "issue tokens")
    if not allowed_by(ws.ceiling, role):
        raise PermissionDenied(
            f"a credential carrying the {ws.ceiling} role may not issue one carrying {role}",
            hint=f"issue it with a {role} or admin token, or on the store itself",
        )
    if name != ws.user:
        require(ws, "admin", f"issue tokens for {name}")
    else:
        require(ws, "viewer", "issue tokens")
        held = roles_of(ws, name)
        if role not in held and "admin" not in held:
            raise PermissionDenied(
                f"{name} does not hold the {role} role, so no token of theirs may carry it",
                hint=f"held: {', '.join(sorted(held)) or 'none'}; an admin grants roles with "
                f"`assay users grant {name} {role}`",
            )
    secret = secrets.token_urlsafe(32)
    token_id = secrets.token_hex(6)
    now = time.time()
    record = TokenRecord(
        id=token_id,
        user=name,
        role=role,
        secret_sha256=_digest(secret),
        note=note.strip(),
        created_by=ws.user,
        created_at=now,
        expires_at=now + days * 86_400,
    )
    ws.metadata.add_token(record)
    return IssuedToken(record, f"{_PREFIX}{token_id}_{secret}")


def list_tokens(ws: Workspace, user: str | None = None) -> list[TokenRecord]:
    """The tokens of ``user`` (an admin: anyone's, or everyone's with None; anyone else:
    their own), newest first. Digests are never shown past this point.

    Raises:
        PermissionDenied: someone else's tokens, asked by a non-admin.
    """
    if user is None or user != ws.user:
        require(ws, "admin", "list other users' tokens", reads=("api_tokens",))
    else:
        require(ws, "viewer", "list tokens", reads=("api_tokens",))
    return ws.metadata.tokens(user)


def revoke_token(ws: Workspace, token_id: str) -> TokenRecord:
    """Revoke token ``token_id`` (an admin's, or its holder's doing); revoking it again
    changes nothing.

    Raises:
        GovernanceError: there is no such token.
        PermissionDenied: the acting user is neither an admin nor its holder.
    """
    found = ws.metadata.token(token_id)
    if found is None:
        raise GovernanceError(
            f"no token {token_id!r}", hint="`assay tokens list` shows the tokens and their ids"
        )
    _changes(ws, "revoke tokens")
    if found.user == ws.user:
        require(ws, "viewer", "revoke their tokens", reads=("api_tokens",))
    else:
        require(ws, "admin", f"revoke {found.user}'s tokens", reads=("api_tokens",))
    revoked = ws.metadata.revoke_token(token_id, ws.user, time.time())
    assert revoked is not None
    return revoked


def authenticate(ws: Workspace, presented: str, *, now: float | None = None) -> Principal:
    """Who ``presented`` (an ``assay_...`` token) stands for. Assumes the tokens table was
    checked against the audit chain (the server does so whenever the chain moves).

    Raises:
        AuthenticationError: malformed, unknown, wrong secret, expired or revoked.
    """
    matched = _TOKEN.match(presented.strip())
    if matched is None:
        raise AuthenticationError(
            "the credential is not an assay token",
            hint="send Authorization: Bearer assay_<id>_<secret>, as `assay tokens create` "
            "printed it",
        )
    token_id, secret = matched.groups()
    found = ws.metadata.token(token_id)
    if found is None or not hmac.compare_digest(found.secret_sha256, _digest(secret)):
        raise AuthenticationError(
            "the token is not known here", hint="create one with `assay tokens create`"
        )
    at = time.time() if now is None else now
    if found.revoked_at is not None:
        raise AuthenticationError(
            f"token {token_id} was revoked by {found.revoked_by}",
            hint="create a new one with `assay tokens create`",
        )
    if at >= found.expires_at:
        raise AuthenticationError(
            f"token {token_id} expired", hint="create a new one with `assay tokens create`"
        )
    return Principal(found.user, found.role, {"kind": "token", "id": token_id})
