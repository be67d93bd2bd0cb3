"""Who is asking: a bearer token, a sign-on session, or, on a laptop server with no
authentication configured, its one local admin. Nothing else is taken on trust, ASSAY_USER
least of all."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from assay.chain import check_state
from assay.errors import AuthenticationError, ConfigError
from assay.governance import Principal, authenticate
from assay.server.api.sessions import SESSION_PREFIX, Sessions
from assay.serving.server import is_loopback
from assay.workspace import Workspace

__all__ = ["AUTH_MODES", "Authenticator", "check_exposure"]

AUTH_MODES = ("local", "token", "oidc")
"""``local``: on loopback only, a request with no credential acts as the server's own user
(one local admin), a request with one is checked; ``token``: every request needs a token;
``oidc``: every request needs a token or a session opened by signing on."""


@dataclass(frozen=True, slots=True)
class _Checked:
    head: tuple[int, str]


def check_exposure(host: str, auth: str) -> None:
    """Refuse to listen beyond loopback without authentication.

    Raises:
        ConfigError: an unknown mode, or ``local`` on an address others can reach.
    """
    if auth not in AUTH_MODES:
        raise ConfigError(
            f"unknown authentication {auth!r}", hint=f"use one of {', '.join(AUTH_MODES)}"
        )
    if auth == "local" and not is_loopback(host):
        raise ConfigError(
            f"the team server would listen on {host} with no authentication",
            hint="start it with --auth token (create tokens first: `assay tokens create --user "
            "NAME --role ROLE`) or --auth oidc (single sign-on), or listen on 127.0.0.1",
        )


class Authenticator:
    """Turns a request's ``Authorization`` header into a :class:`Principal`.

    Tokens are only believed while the tokens table is what the audit chain sealed: that is
    checked again whenever the chain's head has moved since the last check (so a token row
    written into the database behind assay's back is refused, not honoured).
    """

    def __init__(self, ws: Workspace, auth: str, sessions: Sessions | None = None) -> None:
        self.ws = ws
        self.auth = auth
        self.sessions = sessions
        self._lock = threading.Lock()
        self._checked: _Checked | None = None

    def principal(self, header: str | None) -> Principal:
        """Who ``header`` (the ``Authorization`` header's value, or None) stands for.

        Raises:
            AuthenticationError: no credential where one is needed, or a bad one.
        """
        if not header:
            if self.auth == "local":
                return Principal(self.ws.user, None, {"kind": "local"})
            raise AuthenticationError(
                "this server needs a credential",
                hint="send Authorization: Bearer <token> (`assay tokens create`, or `assay "
                "login --server URL` for the command line)",
            )
        scheme, _, credential = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise AuthenticationError(
                "the Authorization header is not a bearer token",
                hint="send Authorization: Bearer assay_<id>_<secret>",
            )
        credential = credential.strip()
        if credential.startswith(SESSION_PREFIX):
            if self.sessions is None:
                raise AuthenticationError(
                    "this server has no single sign-on, so no sessions",
                    hint="use an API token (`assay tokens create`)",
                )
            return self.sessions.principal(credential)
        self._check_tokens()
        return authenticate(self.ws, credential)

    def _check_tokens(self) -> None:
        head = self.ws.metadata.audit_head()
        with self._lock:
            if self._checked is not None and self._checked.head == head:
                return
            check_state(self.ws, ["api_tokens"])
            self._checked = _Checked(head)
