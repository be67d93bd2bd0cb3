"""Every refusal of the team server as a small JSON body with the status a client expects:
who failed to authenticate (401), who may not (403), what is not there (404), what the
state forbids (409), what is malformed (400); never a trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from assay.errors import (
    ArtifactNotFoundError,
    AssayError,
    AuthenticationError,
    ConfigError,
    DataError,
    GovernanceError,
    IntegrityError,
    ModelNotFoundError,
    PermissionDenied,
    RecordExistsError,
    RecordNotFoundError,
    StoreNotFoundError,
    TamperedError,
)

__all__ = ["ApiError", "install_error_handlers", "status_of"]

log = logging.getLogger("assay.server")

# Most specific first: PermissionDenied is a GovernanceError, TamperedError an AuditError.
_STATUS: tuple[tuple[type[AssayError], int], ...] = (
    (AuthenticationError, 401),
    (PermissionDenied, 403),
    (ModelNotFoundError, 404),
    (RecordNotFoundError, 404),
    (ArtifactNotFoundError, 404),
    (StoreNotFoundError, 404),
    (TamperedError, 409),
    (RecordExistsError, 409),
    (IntegrityError, 409),
    (GovernanceError, 409),
    (ConfigError, 400),
    (DataError, 400),
)


class ApiError(Exception):
    """A refusal the API makes itself (a bad cursor, an unknown route): ``status`` and a
    message naming the problem and the fix."""

    def __init__(self, status: int, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint


def status_of(error: AssayError) -> int:
    """The HTTP status of an assay error: see ``_STATUS``; 400 for any other."""
    return next((status for kind, status in _STATUS if isinstance(error, kind)), 400)


def _body(status: int, message: str, hint: str | None, kind: str = "") -> JSONResponse:
    body: dict[str, Any] = {"error": message, "status": status}
    if hint:
        body["hint"] = hint
    if kind:
        # The client raises the same error (and the CLI exits with the same code) as the
        # store would have locally.
        body["kind"] = kind
    headers = {"www-authenticate": 'Bearer realm="assay"'} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error as ``{"error", "status", "hint"?, "kind"?}`` (``kind``: the
    ``AssayError`` class refusing it)."""

    @app.exception_handler(AssayError)
    async def assay_error(_: Request, exc: AssayError) -> JSONResponse:
        return _body(status_of(exc), exc.message, exc.hint, type(exc).__name__)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _body(exc.status, exc.message, exc.hint)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return _body(404, f"no such route: {request.method} {request.url.path}", None)
        if exc.status_code == 405:
            return _body(405, f"{request.method} is not allowed on {request.url.path}", None)
        return _body(exc.status_code, str(exc.detail), None)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request"
        return _body(400, message, None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not a client mistake: logged in full here, answered without details.
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return _body(500, f"the server failed: {type(exc).__name__}", None)
