"""What the team server refuses before any route sees it: a page on another site reaching a
laptop server (a Host that is not loopback: DNS rebinding; a cross-site form's text/plain
POST), a body too long to read or without a length, and headers that never finish. Nothing
refused here changes the store."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import httpx

from assay.server.api.app import TeamOptions
from assay.server.api.http import BODY_TIMEOUT_S, HEADER_TIMEOUT_S, MAX_BODY, team_serving
from tests.server.api.conftest import Team


def test_a_page_elsewhere_cannot_act_as_the_local_admin(team: Team) -> None:
    with team_serving(team.ws, TeamOptions(auth="local")) as (url, _):
        head = team.ws.metadata.audit_head()
        rebound = httpx.post(
            f"{url}/api/v1/users/mallory/roles",
            json={"role": "admin"},
            headers={"Host": "attacker.example:5000"},
        )
        assert rebound.status_code == 400 and "Host header" in rebound.json()["error"]
        form = httpx.post(
            f"{url}/api/v1/users/mallory/roles",
            content=b'{"role": "admin"}',
            headers={"Content-Type": "text/plain", "Origin": "https://attacker.example"},
        )
        assert form.status_code == 415 and "application/json" in form.json()["error"]
        # A PATCH (a run's tags) is held to the same rule as a POST.
        patched = httpx.patch(
            f"{url}/api/v1/runs/{'0' * 32}",
            content=b'{"tags": {"a": "b"}}',
            headers={"Content-Type": "text/plain", "Origin": "https://attacker.example"},
        )
        assert patched.status_code == 415, patched.text
        assert team.ws.metadata.audit_head() == head
        assert "mallory" not in {g.user for g in team.ws.metadata.role_grants()}
        # The same request, as the CLI sends it, is the local admin's.
        granted = httpx.post(f"{url}/api/v1/users/mallory/roles", json={"role": "viewer"})
        assert granted.status_code == 201, granted.text


def test_a_body_too_long_or_without_a_length_is_refused_unread(team: Team) -> None:
    ann = team.client("ann")
    head = team.ws.metadata.audit_head()
    huge = ann.post(
        "/models/toy/promotions",
        content=b'{"version": 1, "comment": "' + b"x" * MAX_BODY + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and "larger than" in huge.json()["error"]

    def chunks() -> object:
        yield b'{"version": 1, '
        yield b'"comment": "ok"}'

    chunked = ann.post(
        "/models/toy/promotions", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert chunked.status_code == 411 and "Content-Length" in chunked.json()["error"]
    assert team.ws.metadata.audit_head() == head


def test_headers_that_never_finish_are_cut_off(team: Team) -> None:
    where = urlsplit(team.url)
    with socket.create_connection(
        (where.hostname, where.port), timeout=HEADER_TIMEOUT_S + 20
    ) as conn:
        conn.sendall(b"GET /api/v1/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and no more
        started = time.monotonic()
        assert conn.recv(1024) == b""  # the server closed the connection
        assert time.monotonic() - started < HEADER_TIMEOUT_S + 15


def test_a_body_that_never_finishes_is_cut_off(team: Team) -> None:
    where = urlsplit(team.url)
    head = team.ws.metadata.audit_head()
    with socket.create_connection(
        (where.hostname, where.port), timeout=BODY_TIMEOUT_S + 20
    ) as conn:
        conn.sendall(
            b"POST /api/v1/users/x/roles HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + f"Authorization: Bearer {team.tokens['ann']}\r\n".encode()
            + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        started = time.monotonic()
        answer = conn.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert time.monotonic() - started < BODY_TIMEOUT_S + 15
    assert team.ws.metadata.audit_head() == head
