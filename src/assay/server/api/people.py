"""People: who is asking, who holds which role, and their API tokens."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from assay.governance import (
    grant,
    issue_token,
    list_tokens,
    require,
    revoke,
    revoke_token,
    roles_of,
)
from assay.governance.tokens import DEFAULT_DAYS, MAX_DAYS
from assay.metadata.tokens import TokenRecord
from assay.server.api.deps import Who, Writer, Ws
from assay.server.api.plain import PlainRoute

__all__ = ["router", "token_json"]


class RoleAsked(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = Field(min_length=1, max_length=16)


class TokenAsked(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str | None = Field(default=None, min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=16)
    days: float = Field(default=DEFAULT_DAYS, gt=0, le=MAX_DAYS)
    note: str = Field(default="", max_length=1_000)


def token_json(token: TokenRecord) -> dict[str, Any]:
    """A token as listed: everything but the digest of its secret."""
    return {k: v for k, v in asdict(token).items() if k != "secret_sha256"}


router = APIRouter(route_class=PlainRoute, tags=["people"])


@router.get("/whoami")
def whoami(ws: Ws, principal: Who) -> dict[str, Any]:
    """Who the credential stands for, how it was established, and the roles held."""
    return {
        "user": principal.user,
        "role": principal.role,
        "via": principal.via,
        "roles": sorted(roles_of(ws, principal.user)),
    }


@router.get("/users")
def users(ws: Ws) -> dict[str, Any]:
    """Every role grant: who holds what, granted by whom and when."""
    require(ws, "viewer", "list users")
    return {"grants": [asdict(g) for g in ws.metadata.role_grants()]}


@router.post("/users/{user}/roles", status_code=201)
def grant_role(ws: Writer, user: str, body: RoleAsked) -> dict[str, Any]:
    """Grant a role (admins only)."""
    return {"user": user, "role": body.role, "granted": grant(ws, user, body.role)}


@router.delete("/users/{user}/roles/{role}")
def revoke_role(ws: Writer, user: str, role: str) -> dict[str, Any]:
    """Take a role away (admins only; never the last admin)."""
    return {"user": user, "role": role, "revoked": revoke(ws, user, role)}


@router.get("/tokens")
def tokens(ws: Ws, user: str | None = None, every: bool = False) -> dict[str, Any]:
    """Your tokens; an admin's: anyone's (``user``), or everyone's (``every``)."""
    found = list_tokens(ws, None if every else (user or ws.user))
    return {"tokens": [token_json(t) for t in found]}


@router.post("/tokens", status_code=201)
def create_token(ws: Writer, body: TokenAsked) -> dict[str, Any]:
    """A new token, shown this once (only a digest of it is kept)."""
    issued = issue_token(ws, body.user or ws.user, body.role, days=body.days, note=body.note)
    return {**token_json(issued.record), "token": issued.token}


@router.delete("/tokens/{token_id}")
def delete_token(ws: Writer, token_id: str) -> dict[str, Any]:
    """Revoke a token (yours, or anyone's as an admin)."""
    return token_json(revoke_token(ws, token_id))
