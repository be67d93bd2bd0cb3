"""The team server's application: its routes under ``/api/v1``, each answered for the
principal the request's credential establishes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from assay.errors import ConfigError
from assay.governance import Principal
from assay.server.api import (
    artifacts,
    audit,
    blobs,
    cards,
    experiments,
    lineage,
    models,
    monitoring,
    people,
    recording,
    registry,
    reports,
    runs,
    signon,
    steps,
)
from assay.server.api.auth import Authenticator, check_exposure
from assay.server.api.errors import install_error_handlers
from assay.server.api.oidc import OidcSettings, Provider
from assay.server.api.plain import PlainJSONResponse, PlainRoute
from assay.server.api.sessions import Sessions
from assay.workspace import Workspace

__all__ = ["TeamServer", "TeamOptions", "create_app"]

PREFIX = "/api/v1"


@dataclass(frozen=True, slots=True)
class TeamOptions:
    """How the team server listens and whom it believes (see ``auth.AUTH_MODES``; ``oidc``
    is the single sign-on's settings, needed with ``auth="oidc"``), and the largest
    artifact it takes (``max_upload_bytes``), each piece of which must come within
    ``upload_idle_s`` of the last; a run left ``running`` that nothing was heard of for
    ``reap_after_s`` seconds is marked ``killed`` (0: never)."""

    host: str = "127.0.0.1"
    port: int = 5000
    auth: str = "local"
    oidc: OidcSettings | None = None
    max_upload_bytes: int = 64 << 30
    upload_idle_s: float = 30.0
    reap_after_s: float = 24 * 3600.0


class TeamServer:
    """The store the server acts on, and who is asking."""

    def __init__(self, ws: Workspace, options: TeamOptions) -> None:
        check_exposure(options.host, options.auth)
        if (options.auth == "oidc") != (options.oidc is not None):
            raise ConfigError(
                "single sign-on needs --auth oidc and its settings together",
                hint="give --oidc-issuer, --oidc-client-id and --public-url with --auth oidc",
            )
        self.ws = ws
        self.options = options
        self.provider = Provider(options.oidc) if options.oidc is not None else None
        self.sessions = Sessions(options.oidc.session_hours) if options.oidc else None
        self.authenticator = Authenticator(ws, options.auth, self.sessions)

    def principal(self, authorization: str | None) -> Principal:
        """Who the request with that ``Authorization`` header comes from."""
        return self.authenticator.principal(authorization)


def create_app(server: TeamServer) -> FastAPI:
    """The ASGI application of ``server``."""
    # No /docs page: FastAPI's loads its scripts from a CDN. The schema is at /api/v1/openapi.json.
    app = FastAPI(
        title="assay team server",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url=f"{PREFIX}/openapi.json",
        default_response_class=PlainJSONResponse,
    )
    app.router.route_class = PlainRoute
    install_error_handlers(app)
    app.state.team = server
    for module in (
        runs,
        recording,
        steps,
        blobs,
        registry,
        experiments,
        artifacts,
        lineage,
        models,
        cards,
        reports,
        monitoring,
        people,
        audit,
        signon,
    ):
        app.include_router(module.router, prefix=PREFIX)

    @app.get(f"{PREFIX}/health", include_in_schema=False)
    def health() -> dict[str, Any]:
        return {"status": "ok"}

    return app
