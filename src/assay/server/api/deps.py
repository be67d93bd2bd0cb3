"""What every route is given: the workspace acting as whoever the request's credential
establishes, and that principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from assay.errors import PermissionDenied
from assay.governance import Principal, roles_of
from assay.workspace import Workspace

__all__ = ["Who", "Writer", "Ws", "acting", "changing", "whom"]


async def whom(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    """Who the request comes from (see ``Authenticator``)."""
    team = request.app.state.team
    if not authorization:  # the local admin, or a 401: nothing to read
        found: Principal = team.principal(None)
        return found
    # A token is checked against the store: on a worker thread, never the event loop.
    checked: Principal = await run_in_threadpool(team.principal, authorization)
    return checked


async def acting(request: Request, principal: Annotated[Principal, Depends(whom)]) -> Workspace:
    """The store, acting as ``principal``."""
    # On the event loop: it reads nothing, and FastAPI would hand a sync dependency to a
    # worker thread of its own (a hop that cost more than the run page's route, measured).
    ws: Workspace = request.app.state.team.ws
    return principal.workspace(ws)


def changing(ws: Annotated[Workspace, Depends(acting)]) -> Workspace:
    """The store, acting as the principal, for a route that changes something: refused
    at once (before anything about the request is looked at) for a credential or a user
    that only reads.

    Raises:
        PermissionDenied: the credential carries the viewer role, or the user holds no
            other role.
    """
    held = roles_of(ws, ws.user)
    if ws.ceiling == "viewer" or (held and held <= {"viewer"}):
        raise PermissionDenied(
            f"{ws.user} may only read here: "
            + (
                "this credential carries the viewer role"
                if ws.ceiling == "viewer"
                else "they hold the viewer role only"
            ),
            hint="a change needs a developer, approver or admin role, and a credential carrying it",
        )
    return ws


Ws = Annotated[Workspace, Depends(acting)]
Writer = Annotated[Workspace, Depends(changing)]
Who = Annotated[Principal, Depends(whom)]
