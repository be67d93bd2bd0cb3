"""Sign-on sessions: the credential a user gets after logging in through the identity
provider, and the logins under way (their state, PKCE verifier and nonce).

Both live in the server's memory: a restart signs everyone out, and nothing a session grants
is written to the store. A session is found by the sha256 of its secret, as tokens are."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from assay.errors import AuthenticationError
from assay.governance import Principal

__all__ = ["PENDING_KEPT", "PENDING_S", "SESSION_PREFIX", "Pending", "Sessions"]

SESSION_PREFIX = "assay_session_"
PENDING_S = 600.0
"""How long a login may wait at the identity provider before its state is forgotten."""
PENDING_KEPT = 1_000
"""Logins under way kept at once: anyone may start one, so the oldest make room."""


@dataclass(frozen=True, slots=True)
class Pending:
    """A login under way: what the callback must match, and where to send the session."""

    verifier: str
    nonce: str
    return_to: str | None
    started: float


@dataclass(frozen=True, slots=True)
class _Session:
    principal: Principal
    expires_at: float


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Sessions:
    """Sessions by the digest of their secret, and logins under way by their state."""

    def __init__(self, hours: float) -> None:
        self.hours = hours
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._pending: OrderedDict[str, Pending] = OrderedDict()

    def begin(self, return_to: str | None) -> tuple[str, Pending]:
        """A new login's state (sent to the provider and back) and what it must match."""
        state = secrets.token_urlsafe(24)
        pending = Pending(
            secrets.token_urlsafe(48), secrets.token_urlsafe(24), return_to, time.time()
        )
        with self._lock:
            self._pending[state] = pending
            while len(self._pending) > PENDING_KEPT:
                self._pending.popitem(last=False)
        return state, pending

    def finish(self, state: str) -> Pending:
        """The login ``state`` belongs to, forgotten now (a state is used once).

        Raises:
            AuthenticationError: no login under way has that state, or it waited too long.
        """
        with self._lock:
            pending = self._pending.pop(state, None)
        if pending is None or time.time() - pending.started > PENDING_S:
            raise AuthenticationError(
                "this sign-on answer matches no login under way (it was used already, "
                "waited too long, or was not started here)",
                hint="start again from /api/v1/auth/login or `assay login --server URL`",
            )
        return pending

    def open(self, principal: Principal) -> tuple[str, float]:
        """A new session for ``principal``: its credential (shown once) and expiry."""
        secret = SESSION_PREFIX + secrets.token_urlsafe(32)
        expires_at = time.time() + self.hours * 3600
        with self._lock:
            now = time.time()
            for key in [k for k, s in self._sessions.items() if s.expires_at <= now]:
                del self._sessions[key]
            self._sessions[_digest(secret)] = _Session(principal, expires_at)
        return secret, expires_at

    def principal(self, credential: str) -> Principal:
        """Who the session ``credential`` stands for.

        Raises:
            AuthenticationError: no such session, or it has expired.
        """
        with self._lock:
            found = self._sessions.get(_digest(credential))
        if found is None or found.expires_at <= time.time():
            raise AuthenticationError(
                "this sign-on session is unknown or has expired (sessions end when the "
                "server restarts)",
                hint="log in again: `assay login --server URL`",
            )
        return found.principal

    def close(self, credential: str) -> bool:
        """End the session ``credential``; False when there was none."""
        with self._lock:
            return self._sessions.pop(_digest(credential), None) is not None
