"""A real OpenID provider for the sign-on tests: ``oidc-provider-mock`` in a process of its
own on a free loopback port, with the people a test names (their claims, groups included)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from tests.waiting import wait_until

__all__ = ["free_port", "identity_provider", "log_in"]


def free_port() -> int:
    """A TCP port nothing listens on at this moment."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/.well-known/openid-configuration", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def identity_provider(people: Mapping[str, Mapping[str, Any]]) -> Iterator[str]:
    """The provider's issuer URL while the block runs; ``people``: subject -> claims."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oidc_provider_mock",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--require-nonce",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(url), timeout=60, message=f"no OpenID provider at {url}")
        for sub, claims in people.items():
            httpx.put(f"{url}/users/{sub}", json=dict(claims), timeout=10).raise_for_status()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def log_in(authorize_url: str, sub: str) -> str:
    """Sign ``sub`` on at the provider's login page, as a person clicking through it does;
    returns where the provider sends the browser back (the callback, with code and state)."""
    back = httpx.post(authorize_url, data={"sub": sub}, follow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text
    return str(back.headers["location"])
