"""Logging in through the identity provider: ``/auth/login`` sends the browser there,
``/auth/callback`` takes it back, checks what the provider vouched for and opens a session;
``DELETE /auth/session`` ends one."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from assay.errors import AuthenticationError, ConfigError
from assay.server.api.deps import Who
from assay.server.api.errors import ApiError
from assay.server.api.plain import PlainRoute
from assay.serving.server import is_loopback

__all__ = ["router"]

router = APIRouter(route_class=PlainRoute, tags=["sign-on"], prefix="/auth")


def _team_oidc(request: Request) -> Any:
    team = request.app.state.team
    if team.provider is None:
        raise ApiError(
            404,
            "this server has no single sign-on configured",
            "use an API token, or start the server with --auth oidc",
        )
    return team


def _checked_return(return_to: str | None) -> str | None:
    # Only a listener on this machine (the CLI's) may receive a session: never a site a
    # link could name.
    if return_to is None:
        return None
    parts = urlsplit(return_to)
    if parts.scheme != "http" or not parts.hostname or not is_loopback(parts.hostname):
        raise ConfigError(
            f"return_to {return_to!r} is not a loopback address",
            hint="only http://127.0.0.1:PORT/... (the command line's listener) may receive a "
            "session",
        )
    return return_to


@router.get("/login", status_code=302, response_class=RedirectResponse)
def login(request: Request, return_to: str | None = None) -> RedirectResponse:
    """Send the browser to the identity provider; afterwards ``/auth/callback`` answers the
    session (to ``return_to``, a loopback listener, when given)."""
    team = _team_oidc(request)
    state, pending = team.sessions.begin(_checked_return(return_to))
    return RedirectResponse(team.provider.authorization_url(state, pending), status_code=302)


@router.get("/callback", response_model=None)
def callback(
    request: Request,
    state: str = "",
    code: str = "",
    error: str = "",
    error_description: str = "",
) -> Response:
    """Where the provider sends the browser back: the code is exchanged, the ID token checked
    and a session opened for the user it names, with the roles its claims map to."""
    team = _team_oidc(request)
    pending = team.sessions.finish(state)
    if error or not code:
        raise AuthenticationError(
            f"the identity provider did not sign you on: {error or 'no code'}"
            + (f" ({error_description})" if error_description else ""),
            hint="log in again",
        )
    principal = team.provider.principal(team.provider.exchange(code, pending))
    if not principal.user:
        raise AuthenticationError(
            "the identity provider named no user",
            hint=f"have it send the {team.provider.settings.user_claim!r} claim",
        )
    secret, expires_at = team.sessions.open(principal)
    answer = {
        "user": principal.user,
        "via": principal.via,
        "roles": sorted(principal.granted or ()),
        "token": secret,
        "expires_at": expires_at,
    }
    if pending.return_to is not None:
        query = urlencode({"token": secret, "user": principal.user, "expires_at": expires_at})
        sep = "&" if "?" in pending.return_to else "?"
        return RedirectResponse(pending.return_to + sep + query, status_code=302)
    return JSONResponse(answer, headers={"cache-control": "no-store"})


@router.delete("/session")
def logout(
    request: Request, _: Who, authorization: Annotated[str | None, Header()] = None
) -> dict[str, Any]:
    """End the sign-on session the request carries (``closed`` is false for a credential
    that is no session, such as an API token: `assay tokens revoke` ends those)."""
    team = _team_oidc(request)
    credential = (authorization or "").partition(" ")[2].strip()
    return {"closed": bool(credential) and team.sessions.close(credential)}
