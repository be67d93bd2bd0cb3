"""What a request passes before any route of either server sees it: a loopback Host on a
loopback server, a JSON content type on every POST, a body within its size, and its headers
within their time."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from assay.serving.server import is_loopback

__all__ = ["GuardedConfig", "RequestGuard", "TimedHttpProtocol"]

_Scope = dict[str, Any]
_App = Any


class RequestGuard:
    """ASGI middleware refusing, before routing, what no route should see.

    On a server bound to loopback, a ``Host`` that is not a loopback name is a 400: a page
    on another site whose name was re-pointed at 127.0.0.1 (DNS rebinding) reaches the
    server with its own name there. A POST, PUT or PATCH must say its body is JSON
    (``application/json``), or binary tensors (``application/octet-stream``, with the
    ``Inference-Header-Content-Length`` header), or, from a client that is no browser (no
    ``Origin``), none: a browser sends ``text/plain`` and forms across sites without asking
    first, never those. With ``max_body``, the whole body must arrive within
    ``body_timeout_s`` (else a 408: a client trickling a body in holds no connection), and a
    body longer than that many bytes is a 413
    before it is read, and one without a ``Content-Length`` a 411.

    A PUT under ``uploads`` (a path prefix) is an upload of bytes: it must say so
    (``application/octet-stream``) and its length, at most ``max_upload``; its body is left
    for the route to read piece by piece, under deadlines of its own.
    """

    def __init__(
        self,
        app: _App,
        *,
        loopback_only: bool,
        max_body: int | None = None,
        body_timeout_s: float = 30.0,
        uploads: str | None = None,
        max_upload: int = 0,
    ) -> None:
        self.app = app
        self.loopback_only = loopback_only
        self.max_body = max_body
        self.body_timeout_s = body_timeout_s
        self.uploads = uploads
        self.max_upload = max_upload

    async def __call__(self, scope: _Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1")
        if self.loopback_only and not is_loopback(host):
            await _refuse(
                send,
                400,
                f"the Host header names {host!r}; this server listens on loopback and answers "
                "only requests addressed to localhost or 127.0.0.1",
            )
            return
        if self.uploads and scope["method"] == "PUT" and scope["path"].startswith(self.uploads):
            await self._upload(scope, headers, receive, send)
            return
        if scope["method"] in ("POST", "PUT", "PATCH"):
            problem = _content_type_problem(headers)
            if problem:
                await _refuse(send, 415, problem)
                return
        if self.max_body is None:
            await self.app(scope, receive, send)
        else:
            await self._bounded(scope, headers, receive, send, self.max_body)

    async def _bounded(
        self, scope: _Scope, headers: dict[bytes, bytes], receive: Any, send: Any, limit: int
    ) -> None:
        problem, status = _size_problem(headers, limit)
        if problem:
            await _refuse(send, status, problem)
            return
        if _has_body(headers):  # a GET has nothing to wait for
            try:
                body = await asyncio.wait_for(_whole_body(receive), self.body_timeout_s)
            except TimeoutError:
                await _refuse(
                    send, 408, f"the body did not arrive within {self.body_timeout_s:g} s"
                )
                return
            receive = _Replay(body, receive)
        await self.app(scope, receive, send)

    async def _upload(
        self, scope: _Scope, headers: dict[bytes, bytes], receive: Any, send: Any
    ) -> None:
        given = headers.get(b"content-type", b"").decode("latin-1")
        if given.split(";", 1)[0].strip().lower() != "application/octet-stream":
            shown = repr(given) if given else "none"
            await _refuse(
                send,
                415,
                f"the upload's Content-Type is {shown}; send the bytes as application/octet-stream",
            )
            return
        problem, status = _size_problem(headers, self.max_upload)
        if problem or b"content-length" not in headers:
            await _refuse(send, status if problem else 411, problem or "send a Content-Length")
            return
        await self.app(scope, receive, send)


def _has_body(headers: dict[bytes, bytes]) -> bool:
    # Its length was checked (a chunked body refused): no length, or 0, is no body.
    return headers.get(b"content-length", b"0").strip() not in (b"", b"0")


async def _whole_body(receive: Any) -> bytes:
    # Small by then (its length was checked): read before any route waits on it.
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts)
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


class _Replay:
    """``receive`` giving the app the body already read, then what the client sends next
    (its disconnect)."""

    def __init__(self, body: bytes, receive: Any) -> None:
        self.body: bytes | None = body
        self.receive = receive

    async def __call__(self) -> Any:
        if self.body is None:
            return await self.receive()
        body, self.body = self.body, None
        return {"type": "http.request", "body": body, "more_body": False}


def _size_problem(headers: dict[bytes, bytes], limit: int) -> tuple[str, int]:
    # A body must say its length, so that one too long is refused before it is read: JSON
    # clients (and browsers) always do; a chunked upload gets 411 Length Required.
    if b"transfer-encoding" in headers:
        return "send the body with a Content-Length, not chunked", 411
    length = headers.get(b"content-length", b"0").decode("latin-1").strip() or "0"
    if not length.isdigit() or int(length) > limit:
        return f"the body is larger than this server takes ({limit:,} bytes)", 413
    return "", 200


def _content_type_problem(headers: dict[bytes, bytes]) -> str:
    given = headers.get(b"content-type", b"").decode("latin-1")
    kind = given.split(";", 1)[0].strip().lower()
    if kind == "application/json":
        return ""
    if not given and b"origin" not in headers:
        # No type at all is what tritonclient sends; a browser's cross-site POST always
        # carries an Origin, so one without either is no page's doing.
        return ""
    if kind == "application/octet-stream" and b"inference-header-content-length" in headers:
        return ""
    shown = repr(given) if given else "none"
    return (
        f"the body's Content-Type is {shown}; send JSON with Content-Type: application/json "
        "(binary tensors: application/octet-stream with Inference-Header-Content-Length)"
    )


async def _refuse(send: Any, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class GuardedConfig(uvicorn.Config):
    """uvicorn's configuration with the header deadline :class:`TimedHttpProtocol` reads
    (a class of its own, so that it travels to worker processes with the rest)."""

    def __init__(self, app: Any, *, header_timeout_s: float, **options: Any) -> None:
        super().__init__(app, http=TimedHttpProtocol, **options)
        self.header_timeout_s = header_timeout_s


class TimedHttpProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request's headers: a client
    that opens a connection, or starts a request, and sends its headers slowly (or never)
    is disconnected after the config's ``header_timeout_s`` instead of holding the
    connection open. Bodies have their deadline where they are read (see the app)."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._header_timeout_s = float(getattr(config, "header_timeout_s", 10.0))
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self._header_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()
