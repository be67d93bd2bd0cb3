"""Delivering alerts to a webhook: signed JSON POSTs, retried with backoff, bounded in time.

``deliver_pending`` is called by ``assay monitor run`` after each round of checks, never by
serving, so a slow receiver cannot hold up a prediction. It POSTs every stored alert that
was never delivered, oldest first, one request per alert::

    POST <url>
    Content-Type: application/json
    Idempotency-Key: <fingerprint>:<first_at>
    X-Assay-Event: assay.alert
    X-Assay-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>   (with a secret)

    {"event": "assay.alert", "alert_id": 7, "fingerprint": "...", "model": "sesame",
     "version": 3, "kind": "drift", "status": "open", "summary": "...", "count": 1,
     "first_at": 1718000000.25, "first_at_iso": "2024-06-10T06:13:20.250Z",
     "last_at": ..., "last_at_iso": ..., "window_id": 12, "details": {...}}

An alert is delivered once, when first raised: repeats of it (a growing ``count``) are not
sent again. A 2xx response marks it delivered. A 408, 429, 5xx, timeout or connection error
is retried after ``backoff_s``, doubling up to ``MAX_WAIT_S``, or after the receiver's
``Retry-After`` seconds on a 429 or 503. Any other status is the receiver refusing the
alert and is not retried. The last error is stored on the alert, and an undelivered alert
is offered again the next round. Since a receiver can therefore see an alert twice (a 2xx
lost on the way back, two loops), the ``Idempotency-Key`` names the alert for it to drop
repeats.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import httpx

from assay.errors import ConfigError
from assay.metadata import AlertRecord
from assay.workspace import Workspace

__all__ = ["MAX_WAIT_S", "Delivery", "Webhook", "deliver_pending"]

log = logging.getLogger("assay.monitoring")

MAX_WAIT_S = 10.0
"""The longest wait between two attempts. A receiver asking for more (``Retry-After``) is
left alone until the next round instead."""

_RETRIED = frozenset({408, 429})
_RETRY_AFTER = frozenset({429, 503})
_SNIPPET = 200  # characters of a refusing receiver's body kept in the stored error


@dataclass(frozen=True, slots=True, repr=False)
class Webhook:
    """Where and how to deliver alerts.

    Attributes:
        url: An ``http://`` or ``https://`` URL to POST each alert to.
        timeout_s: The limit on each phase of one attempt (connecting, sending, waiting
            for the response), in seconds.
        retries: Attempts after the first for a retryable failure.
        backoff_s: The wait before the first retry; it doubles each retry, up to
            ``MAX_WAIT_S``.
        secret: When set, each body is signed with it (``X-Assay-Signature``).
        headers: Extra headers sent with each request, such as ``Authorization``.

    Raises:
        ConfigError: If the URL is not http(s), a number is out of range, the secret is
            empty or a header cannot be sent.
    """

    url: str
    timeout_s: float = 5.0
    retries: int = 3
    backoff_s: float = 0.5
    secret: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            parsed = httpx.URL(self.url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise ConfigError(
                "the webhook URL cannot be parsed",
                hint="give a full URL such as https://alerts.example.com/assay",
            ) from exc
        if parsed.scheme not in {"http", "https"} or not parsed.host:
            # Only the scheme is shown: webhook URLs often carry a token in their path.
            raise ConfigError(
                f"the webhook URL must be http or https with a host (got {parsed.scheme!r})",
                hint="give a full URL such as https://alerts.example.com/assay",
            )
        if not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            raise ConfigError(
                f"the webhook timeout must be a positive number of seconds, not {self.timeout_s}",
                hint="use for example timeout_s=5",
            )
        if self.retries < 0 or not (math.isfinite(self.backoff_s) and self.backoff_s >= 0):
            raise ConfigError(
                f"webhook retries ({self.retries}) and backoff ({self.backoff_s} s) must "
                "not be negative",
                hint="use retries=0 to try each alert once",
            )
        if self.secret == "":
            raise ConfigError(
                "the webhook secret is empty, so it would sign nothing",
                hint="give a long random secret, or none to send unsigned requests",
            )
        for name, value in self.headers.items():
            if not name or any(c in name + value for c in "\r\n"):
                raise ConfigError(
                    f"the webhook header {name!r} is empty or spans lines",
                    hint="give each header as one name and one single-line value",
                )
        # A copy: the caller's dict changing later must not change a frozen hook.
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))

    def __repr__(self) -> str:
        # The URL's path and query, the secret and the headers are credentials.
        host = httpx.URL(self.url).host
        return f"Webhook(host={host!r}, timeout_s={self.timeout_s}, retries={self.retries})"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one call of ``deliver_pending`` did.

    Attributes:
        delivered: Ids of the alerts the receiver accepted.
        failed: The last error of each alert it did not accept, by alert id.
        left: Ids of the alerts not tried before the deadline, for the next round.
    """

    delivered: tuple[int, ...] = ()
    failed: Mapping[int, str] = field(default_factory=dict)
    left: tuple[int, ...] = ()


def deliver_pending(
    ws: Workspace,
    hook: Webhook,
    *,
    model: str | None = None,
    deadline_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    client: httpx.Client | None = None,
) -> Delivery:
    """POST each never-delivered alert (of ``model`` only, when given: each monitoring
    policy delivers its own model's) to ``hook`` and record the outcome on the alert.

    A network problem or a refusing receiver is recorded (``mark_delivered(id, error=...)``)
    and the next alert is tried. No attempt starts after ``deadline_s`` seconds, and none
    is given longer than what is left, so the call returns after about ``deadline_s`` at
    most; the alerts not reached are left for the next call.

    Args:
        ws: The workspace whose alerts to deliver.
        hook: Where and how to deliver them.
        deadline_s: The time budget of the whole call, in seconds.
        sleep: Waits between attempts (injected by tests).
        clock: A monotonic clock in seconds, read for the deadline.
        client: An HTTP client to send with (proxies, TLS settings); by default one is
            made for the call and closed after it.

    Returns:
        The ids delivered, the errors of those not delivered and the ids left untried.

    Raises:
        MetadataError: If the alerts cannot be read or the outcome cannot be stored.
    """
    deadline = clock() + deadline_s
    pending = sorted(
        (a for a in ws.metadata.alerts(model) if a.delivered_at is None),
        key=lambda a: (a.first_at, a.id),
    )
    if not pending:
        return Delivery()
    delivered: list[int] = []
    failed: dict[int, str] = {}
    left: tuple[int, ...] = ()
    http = client if client is not None else httpx.Client()
    try:
        for i, alert in enumerate(pending):
            if clock() >= deadline:
                left = tuple(a.id for a in pending[i:])
                break
            error = _deliver_one(http, hook, alert, deadline, sleep, clock)
            if error is None:
                ws.metadata.mark_delivered(alert.id)
                delivered.append(alert.id)
            else:
                ws.metadata.mark_delivered(alert.id, error=error)
                failed[alert.id] = error
                log.warning("alert %d not delivered to the webhook: %s", alert.id, error)
    finally:
        if client is None:
            http.close()
    return Delivery(tuple(delivered), failed, left)


def _deliver_one(
    http: httpx.Client,
    hook: Webhook,
    alert: AlertRecord,
    deadline: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> str | None:
    """Attempt one alert until it is accepted, refused, out of retries or out of time.
    Returns None when accepted, else the last attempt's error."""
    body = json.dumps(
        _finite(_payload(alert)), sort_keys=True, separators=(",", ":"), default=str
    ).encode()
    headers = httpx.Headers(dict(hook.headers))
    # Set after the user's headers, so that these are never overridden by them.
    headers["Content-Type"] = "application/json"
    headers["Idempotency-Key"] = f"{alert.fingerprint}:{alert.first_at!r}"
    headers["X-Assay-Event"] = "assay.alert"
    if hook.secret is not None:
        digest = hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Assay-Signature"] = f"sha256={digest}"
    attempts = hook.retries + 1
    for attempt in range(1, attempts + 1):
        # Never past the deadline, but a sliver of time is still a real attempt.
        timeout = max(min(hook.timeout_s, deadline - clock()), 0.01)
        error, retry, asked = _attempt(http, hook.url, body, headers, timeout)
        if error is None:
            return None
        error = f"{error} (attempt {attempt} of {attempts})"
        if not retry or attempt == attempts:
            return error
        if asked is not None and asked > MAX_WAIT_S:
            return f"{error}; the receiver asked to retry after {asked:g} s"
        wait = asked if asked is not None else min(hook.backoff_s * 2 ** (attempt - 1), MAX_WAIT_S)
        if clock() + wait >= deadline:
            return error
        sleep(wait)
    raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover


def _attempt(
    http: httpx.Client, url: str, body: bytes, headers: httpx.Headers, timeout: float
) -> tuple[str | None, bool, float | None]:
    """One POST. Returns the error (None when accepted), whether it is worth retrying, and
    the receiver's ``Retry-After`` in seconds if it gave one."""
    try:
        # Streamed, so that a refusing receiver's body is read only as far as is kept.
        with http.stream("POST", url, content=body, headers=headers, timeout=timeout) as r:
            if r.is_success:
                return None, False, None
            retry = r.status_code in _RETRIED or r.status_code >= 500
            asked = _retry_after(r.headers.get("Retry-After"), r.status_code)
            snippet = _snippet(r)
            if r.is_redirect:
                snippet = "redirects are not followed; give the final URL"
            return f"HTTP {r.status_code}" + (f": {snippet}" if snippet else ""), retry, asked
    except httpx.TimeoutException as exc:
        return f"timed out after {timeout:.3g} s ({type(exc).__name__})", True, None
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[: _SNIPPET + 40], True, None


def _retry_after(value: str | None, status: int) -> float | None:
    if value is None or status not in _RETRY_AFTER:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # the HTTP-date form: plain backoff is good enough
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _snippet(response: httpx.Response) -> str:
    read = b""
    try:
        for chunk in response.iter_bytes():
            read += chunk
            if len(read) >= _SNIPPET:
                break
    except httpx.HTTPError:
        pass  # the status already says the receiver refused; the body is a courtesy
    return " ".join(read.decode("utf-8", "replace").split())[:_SNIPPET]


def _payload(alert: AlertRecord) -> dict[str, Any]:
    return {
        "event": "assay.alert",
        "alert_id": alert.id,
        "fingerprint": alert.fingerprint,
        "model": alert.model,
        "version": alert.version,
        "kind": alert.kind,
        "status": alert.status,
        "summary": alert.summary,
        "count": alert.count,
        "first_at": alert.first_at,
        "first_at_iso": _iso(alert.first_at),
        "last_at": alert.last_at,
        "last_at_iso": _iso(alert.last_at),
        "window_id": alert.window_id,
        "details": alert.details,
    }


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, tz=UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity, and a stored p-value can be NaN: send them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
