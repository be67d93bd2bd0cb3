"""The model server against hostile clients on 127.0.0.1: a poisoned row fails alone, slow
and half-sent requests are cut off, deep nesting and disconnects are one line, made-up
model names share one metric series, browsers' cross-site tricks are refused, and what a
request asks of V2 (outputs, gzip, the kserve SDK's body) is honoured."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import socket
import time
from typing import Any

import httpx
import pytest

from assay.server.model.http import serving
from assay.serving.server import ServeOptions
from assay.workspace import Workspace
from tests.waiting import wait_until

PROFIT = "profit rose strongly again"


def v2(texts: list[str], **more: Any) -> dict[str, Any]:
    tensor = {"name": "text", "shape": [len(texts)], "datatype": "BYTES", "data": texts}
    return {"inputs": [tensor], **more}


def raw(url: str, data: bytes, *, pause_s: float = 0.0, read: bool = True) -> bytes:
    """Send ``data`` on a plain socket (its halves ``pause_s`` apart) and read the answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        half = len(data) // 2
        conn.sendall(data[:half])
        time.sleep(pause_s)
        try:
            conn.sendall(data[half:])
        except OSError:
            return b""
        if not read:
            return b""
        chunks = []
        while True:
            try:
                chunk = conn.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


# ---- 1. a poisoned row fails alone ------------------------------------------------------


def test_a_lone_surrogate_is_a_400_alone_and_every_good_request_beside_it_is_answered(
    served: Workspace,
) -> None:
    poisoned = json.dumps(v2(["\ud800 profit"])).encode()  # valid JSON, not valid text
    assert b"\\ud800" in poisoned
    options = ServeOptions(max_wait_ms=50)  # a long wait: all 41 land in one batch

    async def go(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            good = [
                client.post("/v2/models/tiny/infer", json=v2([f"{PROFIT} {i}"])) for i in range(40)
            ]
            bad = client.post(
                "/v2/models/tiny/infer",
                content=poisoned,
                headers={"content-type": "application/json"},
            )
            return list(await asyncio.gather(*good[:20], bad, *good[20:]))

    with serving(served, ["tiny@live"], options) as (url, _):
        answers = asyncio.run(go(url))
        codes = [a.status_code for a in answers]
        assert codes[20] == 400 and "lone surrogate" in answers[20].json()["error"]
        assert codes[:20] + codes[21:] == [200] * 40
        metrics = httpx.get(f"{url}/metrics").text
        assert 'assay_request_errors_total{code="400",model="tiny"} 1.0' in metrics


def test_a_batch_that_still_fails_is_retried_one_by_one_and_5xx_are_counted(
    served: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A row the checks let through but the model fails on: only its request gets the 500.
    with serving(served, ["tiny@live"], ServeOptions(max_wait_ms=50)) as (url, server):
        model = server.slots["tiny"].current
        real = type(model).predict

        def fragile(self: Any, texts: Any) -> Any:
            if any("kaboom" in t for t in texts):
                raise ValueError("the featuriser broke")
            return real(self, texts)

        monkeypatch.setattr(type(model), "predict", fragile)

        async def go() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                bodies = [v2([f"{PROFIT} {i}"]) for i in range(10)] + [v2(["kaboom"])]
                return list(
                    await asyncio.gather(
                        *(client.post("/v2/models/tiny/infer", json=b) for b in bodies)
                    )
                )

        codes = [a.status_code for a in asyncio.run(go())]
        assert codes == [200] * 10 + [500]
        metrics = httpx.get(f"{url}/metrics").text
        assert 'assay_request_errors_total{code="500",model="tiny"} 1.0' in metrics


# ---- 3. slow clients ----------------------------------------------------------------------


def test_a_slow_body_is_cut_off_with_a_408(served: Workspace) -> None:
    body = json.dumps({"instances": [PROFIT]}).encode()
    head = (
        f"POST /v1/models/tiny:predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body) + 50}\r\n\r\n"
    ).encode()
    options = ServeOptions(body_timeout_s=0.5)
    with serving(served, ["tiny@live"], options) as (url, _):
        started = time.monotonic()
        answer = raw(url, head + body)  # 50 bytes short of what it declared: never ends
        assert time.monotonic() - started < 5
        assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive within 0.5 s" in answer
        # the server is still there for the next client
        ok = httpx.post(f"{url}/v1/models/tiny:predict", json={"instances": [PROFIT]})
        assert ok.status_code == 200


def test_headers_sent_too_slowly_lose_the_connection(served: Workspace) -> None:
    options = ServeOptions(header_timeout_s=0.5)
    with serving(served, ["tiny@live"], options) as (url, _):
        host, port = url.removeprefix("http://").split(":")
        held = []
        for _ in range(20):  # connections that never finish their headers
            conn = socket.create_connection((host, int(port)), timeout=10)
            conn.sendall(b"POST /v1/models/tiny:predict HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            held.append(conn)
        try:
            started = time.monotonic()
            for conn in held:
                assert conn.recv(1024) == b""  # closed by the server
            assert time.monotonic() - started < 5
        finally:
            for conn in held:
                conn.close()
        assert httpx.get(f"{url}/v2/health/ready").status_code == 200


def test_beyond_max_connections_requests_are_answered_503(served: Workspace) -> None:
    options = ServeOptions(max_connections=4, header_timeout_s=30)
    with serving(served, ["tiny@live"], options) as (url, _):
        host, port = url.removeprefix("http://").split(":")
        held = [socket.create_connection((host, int(port)), timeout=10) for _ in range(4)]
        try:
            time.sleep(0.2)  # accepted by the server
            refused = httpx.get(f"{url}/v2/health/live")
            assert refused.status_code == 503
        finally:
            for conn in held:
                conn.close()
        wait_until(
            lambda: httpx.get(f"{url}/v2/health/live").status_code == 200,
            message="the server answers again once the connections are gone",
        )


# ---- 4. deep nesting, disconnects ---------------------------------------------------------


def test_deep_nesting_is_a_400_without_a_trace(
    served: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    deep = b'{"instances": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with (
        caplog.at_level(logging.INFO, logger="assay.serving"),
        serving(served, ["tiny@live"], ServeOptions(max_body_bytes=1_000_000)) as (url, _),
    ):
        answer = httpx.post(
            f"{url}/v1/models/tiny:predict",
            content=deep,
            headers={"content-type": "application/json"},
        )
        assert answer.status_code == 400 and "nests deeper than" in answer.json()["error"]
    assert not [r for r in caplog.records if r.exc_info]


def test_a_client_that_leaves_mid_body_is_one_line_in_the_log(
    served: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    head = (
        b"POST /v1/models/tiny:predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    with (
        caplog.at_level(logging.INFO, logger="assay.serving"),
        serving(served, ["tiny@live"], ServeOptions()) as (url, _),
    ):
        for _ in range(5):
            raw(url, head + b'{"instances": ["pro', read=False)
        wait_until(
            lambda: len([r for r in caplog.records if "disconnected" in r.getMessage()]) >= 5,
            message="five disconnects logged",
        )
    assert not [r for r in caplog.records if r.exc_info]


# ---- 5. metric series ---------------------------------------------------------------------


def test_made_up_model_names_share_one_metric_series(served: Workspace) -> None:
    with serving(served, ["tiny@live"], ServeOptions()) as (url, _), httpx.Client() as client:
        for i in range(200):
            assert client.get(f"{url}/v2/models/made-up-{i}").status_code == 404
        metrics = client.get(f"{url}/metrics").text
    assert "made-up" not in metrics
    assert 'assay_request_errors_total{code="404",model="_unknown"} 200.0' in metrics


# ---- 2 and 6. what a browser may not do ---------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]
)
def test_a_post_that_does_not_say_json_is_a_415(served: Workspace, content_type: str) -> None:
    body = json.dumps({"instances": [PROFIT]}).encode()
    # What a page on another site can send without the browser asking first (a Blob body
    # has no type at all): the browser always says where the page came from.
    headers = {"origin": "https://evil.example"}
    if content_type:
        headers["content-type"] = content_type
    with serving(served, ["tiny@live"], ServeOptions()) as (url, _):
        answer = httpx.post(f"{url}/v1/models/tiny:predict", content=body, headers=headers)
        assert answer.status_code == 415 and "application/json" in answer.json()["error"]
        charset = {"content-type": "application/json; charset=utf-8"}
        ok = httpx.post(f"{url}/v1/models/tiny:predict", content=body, headers=charset)
        assert ok.status_code == 200
        untyped = httpx.post(f"{url}/v1/models/tiny:predict", content=body)  # tritonclient's
        assert untyped.status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.evil.example", "10.0.0.8:8080"])
def test_a_loopback_server_refuses_a_host_that_is_not_loopback(
    served: Workspace, host: str
) -> None:
    with serving(served, ["tiny@live"], ServeOptions()) as (url, _):
        answer = httpx.get(f"{url}/v1/models", headers={"host": host})
        assert answer.status_code == 400 and "Host header" in answer.json()["error"]
        for fine in ("localhost:8080", "127.0.0.1", "[::1]:80", "127.9.9.9"):
            assert httpx.get(f"{url}/v1/models", headers={"host": fine}).status_code == 200


def test_the_start_says_what_is_reachable_and_what_is_protected() -> None:
    from assay.serving.server import exposure

    local = exposure(ServeOptions())
    assert local[0].startswith("reachable from this machine only")
    assert local[1].startswith("late labels: off")
    wide = exposure(ServeOptions(host="0.0.0.0", accept_labels=True, labels_token="t" * 20))
    assert wide[0].startswith("reachable from the network on 0.0.0.0: anyone")
    assert "ASSAY_LABELS_TOKEN bearer token" in wide[1]


# ---- 7. the API page ----------------------------------------------------------------------


def test_no_cdn_page_and_the_schema_lists_only_routes_that_exist(served: Workspace) -> None:
    with serving(served, ["tiny@live"], ServeOptions()) as (url, _):
        assert httpx.get(f"{url}/docs").status_code == 404
        paths = httpx.get(f"{url}/openapi.json").json()["paths"]
    assert "/v2/models/{name}/infer" in paths
    assert not [p for p in paths if p.endswith("/labels")]


def test_a_huge_text_is_logged_cut_with_the_whole_texts_length_and_digest(
    served: Workspace,
) -> None:
    import hashlib

    huge = "profit " * 150_000  # about 1 MB
    options = ServeOptions(max_body_bytes=4_000_000, log_max_chars=1_000)
    with serving(served, ["tiny@live"], options) as (url, server):
        answer = httpx.post(
            f"{url}/v1/models/tiny:predict", json={"id": "big", "instances": [huge, PROFIT]}
        )
        assert answer.status_code == 200
        assert server.log is not None
        server.log.flush()
    (logged,) = [r for r in served.metadata.predictions("tiny") if r.request_id == "big"]
    assert logged.inputs == [huge[:1_000], PROFIT]
    assert logged.outputs[0]["input_chars"] == len(huge)
    assert logged.outputs[0]["input_sha256"] == hashlib.sha256(huge.encode()).hexdigest()
    assert "input_chars" not in logged.outputs[1]


# ---- 9, 10, 11. what V2 clients send -------------------------------------------------------


def test_only_the_outputs_asked_for_come_back_and_an_unknown_one_is_a_400(
    served: Workspace,
) -> None:
    with serving(served, ["tiny@live"], ServeOptions()) as (url, _):
        only = httpx.post(
            f"{url}/v2/models/tiny/infer", json=v2([PROFIT], outputs=[{"name": "label"}])
        ).json()
        assert [o["name"] for o in only["outputs"]] == ["label"]
        made_up = httpx.post(
            f"{url}/v2/models/tiny/infer", json=v2([PROFIT], outputs=[{"name": "scores"}])
        )
        assert made_up.status_code == 400
        assert "'scores'" in made_up.json()["error"] and "probabilities" in made_up.json()["error"]


def test_model_name_in_the_body_is_taken_when_it_matches_the_url(served: Workspace) -> None:
    with serving(served, ["tiny@live"], ServeOptions()) as (url, _):
        same = httpx.post(f"{url}/v2/models/tiny/infer", json=v2([PROFIT], model_name="tiny"))
        assert same.status_code == 200
        other = httpx.post(f"{url}/v2/models/tiny/infer", json=v2([PROFIT], model_name="big"))
        assert other.status_code == 400 and "'big'" in other.json()["error"]
        assert httpx.get(f"{url}/").json() == {"status": "alive"}


def test_gzip_and_deflate_bodies_are_read_and_a_bomb_is_a_413(served: Workspace) -> None:
    import zlib

    body = json.dumps(v2([PROFIT])).encode()
    options = ServeOptions(max_body_bytes=100_000)
    with serving(served, ["tiny@live"], options) as (url, _):
        for encoding, packed in (("gzip", gzip.compress(body)), ("deflate", zlib.compress(body))):
            answer = httpx.post(
                f"{url}/v2/models/tiny/infer",
                content=packed,
                headers={"content-type": "application/json", "content-encoding": encoding},
            )
            assert answer.status_code == 200, answer.text
        bomb = gzip.compress(b" " * 50_000_000)
        assert len(bomb) < 100_000
        answer = httpx.post(
            f"{url}/v2/models/tiny/infer",
            content=bomb,
            headers={"content-type": "application/json", "content-encoding": "gzip"},
        )
        assert answer.status_code == 413 and "inflates" in answer.json()["error"]
        broken = httpx.post(
            f"{url}/v2/models/tiny/infer",
            content=b"not gzip",
            headers={"content-type": "application/json", "content-encoding": "gzip"},
        )
        assert broken.status_code == 400
        other = httpx.post(
            f"{url}/v2/models/tiny/infer",
            content=body,
            headers={"content-type": "application/json", "content-encoding": "br"},
        )
        assert other.status_code == 415
