"""One connection to a team server: each call one request under ``/api/v1`` with the
user's credential, each refusal raised as the ``AssayError`` the store would have raised
locally, each answer parsed into the store's own records."""

from __future__ import annotations

import contextlib
import functools
import math
import ssl
from collections.abc import Iterator
from typing import IO, Any, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError

from assay import errors
from assay.errors import AssayError, AuthenticationError, UnreachableError
from assay.remote.credentials import load
from assay.settings import Settings

__all__ = ["Connection", "connect", "number", "parsed", "spelled", "token_for"]

T = TypeVar("T")

_BY_STATUS: dict[int, type[AssayError]] = {
    401: AuthenticationError,
    403: errors.PermissionDenied,
    404: errors.RecordNotFoundError,
    409: errors.GovernanceError,
}
_BYTES = {"Content-Type": "application/octet-stream"}
_NOT_NUMBERS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def number(value: Any) -> Any:
    """A metric as the store holds it: the server spells out what strict JSON cannot hold."""
    return _NOT_NUMBERS[value] if isinstance(value, str) and value in _NOT_NUMBERS else value


def spelled(value: float) -> float | str:
    """A metric as strict JSON carries it: NaN and the infinities spelled out."""
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def parsed(kind: type[T], value: Any) -> T:
    """``value`` (JSON) as a ``kind``.

    Raises:
        AssayError: the answer does not hold one (the server runs another assay version).
    """
    try:
        adapter: TypeAdapter[T] = _adapter(kind)  # type: ignore[arg-type]  # a class hashes
        found = adapter.validate_python(value)
    except ValidationError as exc:
        raise AssayError(
            f"the server's answer is not a {kind.__name__}: {exc.errors()[0]['msg']}",
            hint="the server and this client may be different assay versions",
        ) from exc
    return found


@functools.cache
def _adapter(kind: type[Any]) -> TypeAdapter[Any]:
    # Building one costs milliseconds (measured: a third of a cached run through a server).
    return TypeAdapter(kind)


def _error(answer: httpx.Response) -> AssayError:
    try:
        body = answer.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    message = str(body.get("error") or f"the server answered {answer.status_code}")
    hint = body.get("hint")
    kind = getattr(errors, str(body.get("kind", "")), None)
    if (
        not (isinstance(kind, type) and issubclass(kind, AssayError))
        or kind is errors.StepFailedError
    ):
        kind = _BY_STATUS.get(answer.status_code, AssayError)
    return kind(message, hint=str(hint) if hint else None)


@functools.cache
def _tls() -> ssl.SSLContext:
    """The certificates every https connection of this process checks against, loaded once
    (httpx's: certifi's, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``)."""
    return httpx.create_ssl_context(trust_env=True)


class Connection:
    """The team server at ``url``, called with ``token`` (None: no credential, which only a
    laptop server with local authentication accepts)."""

    def __init__(self, url: str, token: str | None, *, timeout: float = 60.0) -> None:
        self.url = url
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # Plain HTTP has no certificates to check, and loading them for nothing took 23 ms,
        # more than recording a run (measured): only an https URL gets the (shared) context.
        verify = _tls() if url.lower().startswith("https:") else False
        self._http = httpx.Client(
            base_url=f"{url}/api/v1", headers=headers, timeout=timeout, verify=verify
        )

    def close(self) -> None:
        """Close the connection."""
        self._http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        """The JSON answer to ``method path``.

        Raises:
            AssayError: the server refused (as the class it named), or could not be reached.
        """
        return self.answer(method, path, params, body).json()

    def answer(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        *,
        content: bytes | IO[bytes] | None = None,
    ) -> httpx.Response:
        """The server's answer to ``method path`` (with ``body`` as JSON, or ``content``
        as bytes), a success.

        Raises:
            AssayError: the server refused (as the class it named), or could not be reached.
        """
        with self._reaching():
            answer = self._http.request(
                method,
                path,
                params={k: v for k, v in (params or {}).items() if v is not None},
                json=body,
                content=content,
                headers=_BYTES if content is not None else None,
            )
        if answer.status_code >= 400:
            raise _error(answer)
        return answer

    def download(self, path: str, into: IO[bytes]) -> int:
        """Write the bytes ``GET path`` answers with into ``into`` as they arrive (never
        all in memory); returns how many came.

        Raises:
            AssayError: the server refused (as the class it named), or could not be reached.
        """
        size = 0
        with self._reaching(), self._http.stream("GET", path) as answer:
            if answer.status_code >= 400:
                answer.read()
                raise _error(answer)
            for piece in answer.iter_bytes(1 << 20):
                into.write(piece)
                size += len(piece)
        return size

    @contextlib.contextmanager
    def _reaching(self) -> Iterator[None]:
        try:
            yield
        except httpx.HTTPError as exc:
            raise UnreachableError(
                f"the team server at {self.url} cannot be reached: {exc}",
                hint="check --server / ASSAY_SERVER_URL and that `assay server` runs there",
            ) from exc


def token_for(settings: Settings) -> str | None:
    """The credential to present to ``settings.server_url``: ``ASSAY_TOKEN``, else the one
    ``assay login`` kept for it (None: none, which only a laptop server's local
    authentication answers).

    Raises:
        AuthenticationError: the kept credential has expired.
    """
    if settings.server_token:
        return settings.server_token
    kept = load(settings.config_home, settings.server_url)
    if kept is not None and kept.expired():
        raise AuthenticationError(
            f"your credential for {settings.server_url} has expired",
            hint=f"log in again: `assay login --server {settings.server_url}`",
        )
    return kept.token if kept is not None and kept.token else None


def connect(settings: Settings) -> Connection:
    """The server ``settings.server_url`` names, with the credential :func:`token_for`
    finds.

    Raises:
        AuthenticationError: the kept credential has expired.
    """
    return Connection(settings.server_url, token_for(settings))
