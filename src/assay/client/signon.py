"""``assay login`` through the team server's single sign-on: a one-shot listener on
127.0.0.1 receives the session the server hands back after the browser has been to the
identity provider (the way cloud CLIs log in)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from assay.errors import AuthenticationError
from assay.remote.credentials import Credential

__all__ = ["WAIT_S", "sign_on"]

WAIT_S = 300.0
"""How long ``assay login`` waits for the browser to come back."""

_DONE = (
    b"<!doctype html><title>assay</title><p>Signed on to assay. "
    b"You may close this tab and go back to the terminal.</p>"
)


class _Listener(HTTPServer):
    path_expected: str
    found: dict[str, str] | None = None


class _Handler(BaseHTTPRequestHandler):
    server: _Listener

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path != self.server.path_expected or "token" not in query:
            self.send_error(404)
            return
        self.server.found = query
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(_DONE)))
        self.end_headers()
        self.wfile.write(_DONE)

    def log_message(self, *_: object) -> None:  # the terminal is the user's, not a log
        return


def sign_on(server: str, show: Callable[[str], None], *, wait_s: float = WAIT_S) -> Credential:
    """Sign on at ``server`` through its identity provider: ``show`` is given the address
    to open in a browser; the session comes back to a listener on 127.0.0.1.

    Raises:
        AuthenticationError: nothing came back within ``wait_s`` seconds.
    """
    listener = _Listener(("127.0.0.1", 0), _Handler)
    listener.path_expected = "/" + secrets.token_urlsafe(16)
    listener.timeout = 0.5
    port = listener.server_address[1]
    return_to = f"http://127.0.0.1:{port}{listener.path_expected}"
    url = f"{server}/api/v1/auth/login?" + urlencode({"return_to": return_to})
    stop = threading.Event()
    timer = threading.Timer(wait_s, stop.set)
    timer.start()
    try:
        show(url)
        while listener.found is None and not stop.is_set():
            listener.handle_request()
    finally:
        timer.cancel()
        listener.server_close()
    found = listener.found
    if found is None:
        raise AuthenticationError(
            f"no sign-on came back within {wait_s:g} s",
            hint="open the address shown in a browser and log in; or use `assay login "
            "--token` with an API token",
        )
    try:
        expires: float | None = float(found["expires_at"])
    except (KeyError, ValueError):
        expires = None
    return Credential(server, found["token"], found.get("user", ""), expires)
