"""Alert delivery to a real HTTP receiver on 127.0.0.1: payload, signature, retries, bounds."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assay.errors import ConfigError
from assay.metadata import AlertDraft, AlertRecord, WindowRecord
from assay.monitoring import Webhook, deliver_pending
from assay.monitoring.webhook import MAX_WAIT_S
from assay.workspace import Workspace
from tests.cli.test_serve import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers POSTs from a script of (status, headers, body), then 200; records each."""

    url: str = ""
    script: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    on_request: Callable[[], None] = lambda: None

    def answer(self, status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        self.script.append((status, headers or {}, body))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(Received(self.path, dict(self.headers.items()), body))
            state.on_request()
            status, headers, reply = state.script.pop(0) if state.script else (200, {}, b"ok")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/assay"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


def raise_alert(ws: Workspace, fingerprint: str = "f" * 64, end: float = 100.0) -> AlertRecord:
    window = WindowRecord("m", 1, "drift", end - 60, end, 500, "drift", {"drifted": ["texts"]})
    draft = AlertDraft(
        "m", 1, "drift", fingerprint, "drift in texts", {"columns": ["texts"], "p": float("nan")}
    )
    _, alert, _ = ws.metadata.record_window(window, draft)
    assert alert is not None
    return alert


def stored(ws: Workspace, alert_id: int) -> AlertRecord:
    return next(a for a in ws.metadata.alerts() if a.id == alert_id)


def no_sleep(waits: list[float]) -> Callable[[float], None]:
    return waits.append


def test_a_delivered_alert_is_marked_and_not_sent_again(
    workspace: Workspace, receiver: Receiver
) -> None:
    alert = raise_alert(workspace)
    result = deliver_pending(workspace, Webhook(receiver.url))
    assert result.delivered == (alert.id,) and result.failed == {} and result.left == ()
    delivered = stored(workspace, alert.id)
    assert delivered.delivered_at is not None and delivered.delivery_error is None
    # A repeat counts on the delivered alert and is not sent again: once per alert.
    raise_alert(workspace, end=200.0)
    assert stored(workspace, alert.id).count == 2
    again = deliver_pending(workspace, Webhook(receiver.url))
    assert again.delivered == () and again.failed == {}
    assert len(receiver.received) == 1


def test_the_receiver_can_check_the_payload_and_the_signature(
    workspace: Workspace, receiver: Receiver
) -> None:
    alert = raise_alert(workspace)
    hook = Webhook(
        receiver.url,
        secret="s3cret",
        headers={"Authorization": "Bearer token", "content-type": "text/plain"},
    )
    deliver_pending(workspace, hook)
    (request,) = receiver.received
    assert request.path == "/hooks/assay"
    headers = {k.lower(): v for k, v in request.headers.items()}
    expected = hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-assay-signature"], f"sha256={expected}")
    assert headers["idempotency-key"] == f"{'f' * 64}:{alert.first_at!r}"
    assert headers["authorization"] == "Bearer token"
    assert headers["content-type"] == "application/json"  # ours wins over the user's
    payload = json.loads(request.body)
    assert payload == {
        "event": "assay.alert",
        "alert_id": alert.id,
        "fingerprint": "f" * 64,
        "model": "m",
        "version": 1,
        "kind": "drift",
        "status": "open",
        "summary": "drift in texts",
        "count": 1,
        "first_at": alert.first_at,
        "first_at_iso": payload["first_at_iso"],
        "last_at": alert.last_at,
        "last_at_iso": payload["last_at_iso"],
        "window_id": alert.window_id,
        "details": {"columns": ["texts"], "p": None},  # NaN is not JSON: sent as null
    }
    first = datetime.fromisoformat(payload["first_at_iso"])
    assert payload["first_at_iso"].endswith("Z") and first.utcoffset() is not None
    assert abs(first.timestamp() - alert.first_at) < 0.001


def test_an_unsigned_hook_sends_no_signature(workspace: Workspace, receiver: Receiver) -> None:
    raise_alert(workspace)
    deliver_pending(workspace, Webhook(receiver.url))
    assert "x-assay-signature" not in {k.lower() for k in receiver.received[0].headers}


def test_a_failing_receiver_is_retried_with_backoff_until_it_accepts(
    workspace: Workspace, receiver: Receiver
) -> None:
    alert = raise_alert(workspace)
    receiver.answer(503)
    receiver.answer(503)
    waits: list[float] = []
    result = deliver_pending(workspace, Webhook(receiver.url), sleep=no_sleep(waits))
    assert result.delivered == (alert.id,)
    assert waits == [0.5, 1.0] and len(receiver.received) == 3
    keys = {r.headers["Idempotency-Key"] for r in receiver.received}
    assert len(keys) == 1  # every attempt is the same alert to the receiver
    assert stored(workspace, alert.id).delivered_at is not None


def test_retry_after_is_honoured_and_a_long_one_waits_for_the_next_round(
    workspace: Workspace, receiver: Receiver
) -> None:
    first = raise_alert(workspace)
    second = raise_alert(workspace, "e" * 64, end=200.0)
    receiver.answer(429, {"Retry-After": "2"})
    receiver.answer(200)
    receiver.answer(503, {"Retry-After": str(int(MAX_WAIT_S) + 50)})
    waits: list[float] = []
    result = deliver_pending(workspace, Webhook(receiver.url), sleep=no_sleep(waits))
    assert result.delivered == (first.id,) and waits == [2.0]
    assert "HTTP 503" in result.failed[second.id] and "retry after 60 s" in result.failed[second.id]
    assert len(receiver.received) == 3


def test_retries_stop_after_the_last_attempt_and_the_error_is_stored(
    workspace: Workspace, receiver: Receiver
) -> None:
    alert = raise_alert(workspace)
    for _ in range(3):
        receiver.answer(500, body=b"boom")
    waits: list[float] = []
    result = deliver_pending(workspace, Webhook(receiver.url, retries=2), sleep=no_sleep(waits))
    assert result.failed == {alert.id: "HTTP 500: boom (attempt 3 of 3)"}
    assert waits == [0.5, 1.0] and len(receiver.received) == 3
    failed = stored(workspace, alert.id)
    assert failed.delivered_at is None and failed.delivery_error == result.failed[alert.id]


def test_a_refused_alert_is_not_retried_and_is_offered_again_next_round(
    workspace: Workspace, receiver: Receiver
) -> None:
    alert = raise_alert(workspace)
    receiver.answer(400, body=b"missing field\n\n  " + b"x" * 1000)
    waits: list[float] = []
    result = deliver_pending(workspace, Webhook(receiver.url), sleep=no_sleep(waits))
    error = result.failed[alert.id]
    assert error.startswith("HTTP 400: missing field xxx") and error.endswith("(attempt 1 of 4)")
    assert len(error) < 300 and waits == [] and len(receiver.received) == 1
    assert stored(workspace, alert.id).delivery_error == error
    # Fixed on the receiver's side: the next round delivers it and clears the error.
    assert deliver_pending(workspace, Webhook(receiver.url)).delivered == (alert.id,)
    assert stored(workspace, alert.id).delivery_error is None


def test_nothing_listening_is_recorded_without_raising(workspace: Workspace) -> None:
    alert = raise_alert(workspace)
    waits: list[float] = []
    hook = Webhook(f"http://127.0.0.1:{free_port()}/", retries=1)
    result = deliver_pending(workspace, hook, sleep=no_sleep(waits))
    assert result.failed[alert.id].startswith("ConnectError")
    assert waits == [0.5]
    assert stored(workspace, alert.id).delivery_error == result.failed[alert.id]


def test_a_receiver_that_never_answers_is_bounded_by_the_timeout_and_deadline(
    workspace: Workspace,
) -> None:
    alerts = [raise_alert(workspace, c * 64, end=100.0 * i) for i, c in enumerate("abcdef", 1)]
    # Accepts connections (the kernel's backlog) but never reads or answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        hook = Webhook(f"http://127.0.0.1:{silent.getsockname()[1]}/", timeout_s=0.2, retries=0)
        start = time.monotonic()
        result = deliver_pending(workspace, hook, deadline_s=0.5)
        elapsed = time.monotonic() - start
    assert elapsed < 1.5
    assert result.delivered == () and result.failed and result.left
    assert set(result.failed) | set(result.left) == {a.id for a in alerts}
    assert all(e.startswith("timed out after") for e in result.failed.values())
    untried = stored(workspace, result.left[0])
    assert untried.delivered_at is None and untried.delivery_error is None


def test_the_deadline_leaves_the_rest_for_the_next_round(
    workspace: Workspace, receiver: Receiver
) -> None:
    alerts = [raise_alert(workspace, c * 64, end=100.0 * i) for i, c in enumerate("abcd", 1)]
    now = [0.0]

    def one_second_per_request() -> None:
        now[0] += 1.0

    receiver.on_request = one_second_per_request
    hook = Webhook(receiver.url)
    result = deliver_pending(workspace, hook, deadline_s=2.5, clock=lambda: now[0])
    ids = [a.id for a in alerts]  # oldest first
    assert result.delivered == tuple(ids[:3]) and result.left == (ids[3],)
    assert stored(workspace, ids[3]).delivered_at is None
    assert deliver_pending(workspace, hook).delivered == (ids[3],)


def test_a_retry_is_not_started_when_its_wait_would_pass_the_deadline(
    workspace: Workspace, receiver: Receiver
) -> None:
    alert = raise_alert(workspace)
    receiver.answer(503)
    waits: list[float] = []
    result = deliver_pending(
        workspace, Webhook(receiver.url, backoff_s=5.0), deadline_s=2.0, sleep=no_sleep(waits)
    )
    assert waits == [] and result.failed == {alert.id: "HTTP 503 (attempt 1 of 4)"}


def test_nothing_pending_sends_nothing(workspace: Workspace, receiver: Receiver) -> None:
    assert deliver_pending(workspace, Webhook(receiver.url)).delivered == ()
    assert receiver.received == []


@pytest.mark.parametrize(
    "url", ["ftp://example.com/hook", "example.com/hook", "http://", "file:///etc/passwd", ""]
)
def test_a_url_that_is_not_http_is_a_config_error_with_a_hint(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Webhook(url)
    assert caught.value.hint is not None and "https://" in caught.value.hint


@pytest.mark.parametrize(
    "bad",
    [
        {"timeout_s": 0},
        {"retries": -1},
        {"backoff_s": -0.5},
        {"secret": ""},
        {"headers": {"X-Bad": "a\r\nInjected: yes"}},
    ],
)
def test_bad_webhook_settings_are_config_errors(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as caught:
        Webhook("https://alerts.example.com/hook", **bad)  # type: ignore[arg-type]
    assert caught.value.hint


def test_the_repr_shows_no_credentials() -> None:
    hook = Webhook(
        "https://hooks.example.com/services/T0/B0/tok3n",
        secret="s3cret",
        headers={"Authorization": "Bearer abc"},
    )
    text = repr(hook)
    assert "hooks.example.com" in text
    assert not any(s in text for s in ("tok3n", "s3cret", "abc"))


def test_a_model_given_delivers_only_its_alerts(workspace: Workspace, receiver: Receiver) -> None:
    mine = raise_alert(workspace)
    window = WindowRecord("other", 1, "drift", 0.0, 60.0, 500, "drift", {})
    _, theirs, _ = workspace.metadata.record_window(
        window, AlertDraft("other", 1, "drift", "e" * 64, "drift elsewhere", {})
    )
    assert theirs is not None
    done = deliver_pending(workspace, Webhook(receiver.url), model="m")
    assert done.delivered == (mine.id,)
    assert [json.loads(r.body)["model"] for r in receiver.received] == ["m"]
    assert stored(workspace, theirs.id).delivered_at is None
