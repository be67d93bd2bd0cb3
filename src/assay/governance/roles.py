"""Roles: who may run pipelines, approve promotions and administer the store."""

from __future__ import annotations

from collections.abc import Sequence

from assay.chain import check_state
from assay.errors import GovernanceError, PermissionDenied
from assay.metadata import RoleGrant
from assay.workspace import Workspace

__all__ = ["ROLES", "allowed_by", "check_role", "grant", "require", "revoke", "roles_of"]

ROLES = ("viewer", "developer", "approver", "admin")
"""viewer reads; developer runs pipelines, registers and requests promotions; approver
reviews promotions; admin may do everything, including granting roles."""


def roles_of(ws: Workspace, user: str) -> set[str]:
    """The roles ``user`` holds: granted in the store, and, for the acting user, those an
    identity provider vouches for in this session."""
    held = {g.role for g in ws.metadata.role_grants(user)}
    if ws.granted is not None and user == ws.user:
        held |= ws.granted
    return held


def require(
    ws: Workspace, role: str, action: str, *, reads: Sequence[str] = ("role_grants",)
) -> None:
    """Refuse ``action`` unless the acting user holds ``role`` (or admin).

    Every decision starts here, so here the governance tables it ``reads`` (the grants, at
    least) are first checked against the state the audit chain seals: a grant, verdict,
    request or alias written behind assay's back is refused, named, instead of honoured.

    A store nobody holds a role in yet is claimed by its first user, who becomes its admin
    (recorded in the audit log), the way a new project's creator owns it.

    Raises:
        PermissionDenied: the user lacks the role.
        TamperedError: a governance table differs from what the audit chain sealed.
    """
    check_state(ws, sorted({"role_grants", *reads}))
    held = roles_of(ws, ws.user)
    # Only a user who declared themselves on their own store claims it: never a credential
    # (a token, a sign-on) presented to a server.
    if not held and ws.ceiling is None and ws.granted is None:
        if ws.metadata.grant_role(ws.user, "admin", ws.user, only_if_first=True):
            return
        held = roles_of(ws, ws.user)  # another process may have claimed it for this user
    # Every role reads: viewer is what any role allows.
    holds = "admin" in held or role in held or (role == "viewer" and bool(held))
    if holds and allowed_by(ws.ceiling, role):
        return
    if ws.ceiling is not None and not allowed_by(ws.ceiling, role):
        raise PermissionDenied(
            f"{ws.user} may not {action} with this credential: it carries the {ws.ceiling} "
            f"role, and that needs the {role} role",
            hint=f"use a token that carries the {role} role (`assay tokens create --role {role}`)",
        )
    admins = sorted(g.user for g in ws.metadata.role_grants() if g.role == "admin")
    raise PermissionDenied(
        f"{ws.user} may not {action}: that needs the {role} role"
        + (f" (held: {', '.join(sorted(held))})" if held else " (no role held)"),
        hint=f"an admin ({', '.join(admins) or 'none'}) grants it with "
        f"`assay users grant {ws.user} {role}`",
    )


def allowed_by(ceiling: str | None, role: str) -> bool:
    """Whether a credential carrying ``ceiling`` (None: no limit) may act with ``role``:
    its own role, reading, or anything when it carries admin."""
    return ceiling is None or ceiling == "admin" or role in (ceiling, "viewer")


def check_role(role: str) -> str:
    """``role``, when it is one of ``ROLES``.

    Raises:
        GovernanceError: it is not.
    """
    if role not in ROLES:
        raise GovernanceError(f"unknown role {role!r}", hint=f"roles: {', '.join(ROLES)}")
    return role


def grant(ws: Workspace, user: str, role: str) -> bool:
    """Grant ``role`` to ``user`` (admins only); False when they already hold it."""
    check_role(role)
    if not user.strip():
        raise GovernanceError("empty user name", hint="name the user to grant the role to")
    require(ws, "admin", "grant roles")
    return ws.metadata.grant_role(user.strip(), role, ws.user)


def revoke(ws: Workspace, user: str, role: str) -> bool:
    """Take ``role`` from ``user`` (admins only). The last admin cannot be removed."""
    check_role(role)
    require(ws, "admin", "revoke roles")
    grants: list[RoleGrant] = ws.metadata.role_grants()
    admins = {g.user for g in grants if g.role == "admin"}
    if role == "admin" and admins == {user}:
        raise GovernanceError(f"{user} is the last admin", hint="grant admin to someone else first")
    return ws.metadata.revoke_role(user, role, ws.user)
