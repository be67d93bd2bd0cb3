"""The reads answered before FastAPI: the same answers as FastAPI's routes give, byte for
byte, for who asks; everything not plain, and every failure, left to FastAPI."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

import assay
from assay.governance import issue_token
from assay.server.api.app import PREFIX, TeamOptions, TeamServer, create_app
from assay.server.api.fast import FastReads
from tests.server.api.conftest import Team

_PLAIN = [
    "/health",
    "/runs",
    "/runs?limit=3",
    "/runs?limit=2&order_by=-metrics.score&where=metrics.score%20%3E%200.1",
    "/runs?experiment=sweep&limit=1",
    "/runs?where=",
    "/models?name=toy",
    "/models",
    "/cache/{key}",
    "/cache/" + "0" * 64,
    "/blobs?digest={held}&digest=" + "0" * 64,
    "/registry/versions?digest={model}&digest=" + "0" * 64,
    "/registry/alias?name=toy&alias=production",
    "/registry/alias?name=toy&alias=nowhere",
    "/registry/version?name=toy",
    "/registry/version?name=toy&version=1",
    "/registry/version?name=nosuch&version=3",
    "/registry/verdicts?name=toy&version=1",
    "/registry/verdicts?name=toy",
]
_LEFT_TO_FASTAPI = [
    "/runs?limit=two",  # not digits: FastAPI's 422
    "/runs?limit=1&limit=2",  # repeated
    "/runs?limit=0",  # out of range: the route's 400, raised in the fast path too
    "/runs?where=metrics.score%20%3E",  # malformed filter
    "/runs?cursor=garbage",
    "/runs?colour=blue",  # a parameter the route does not take
    "/runs/nope",  # unknown run
    "/runs/{run}?full=true",
    "/models?name=nosuch",
    "/models?name=toy&archived=true",
    "/health?x=1",
    "/cache/ABC",
    "/cache/{key}?x=1",
    "/blobs",
    "/blobs?digest=nothex",
    "/blobs?digest={held}&x=1",
    "/registry/version?name=toy&version=0",
    "/registry/version?name=toy&version=x",
    "/registry/alias?name=toy",
    "/registry/alias?name=" + "t" * 201 + "&alias=production",
    "/registry/verdicts?name=&version=1",
]


class _Counting:
    """The FastAPI app, counting the requests that reach it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state
        self.calls = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        await self.app(scope, receive, send)


def _answers(app: Any, paths: list[str], token: str | None) -> list[httpx.Response]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def get_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url=f"http://127.0.0.1{PREFIX}", headers=headers
        ) as client:
            return [await client.get(p) for p in paths]

    return asyncio.run(get_all())


def _filled(team: Team) -> dict[str, str]:
    """A cache key the store holds an execution of, and a digest whose bytes it holds."""
    (run,) = [r for r in team.ws.metadata.list_runs() if r.pipeline == "toy"]
    key = next(e.cache_key for e in team.ws.metadata.executions(run.id) if e.step == "fit")
    assert team.ws.metadata.find_cached(key) is not None
    model = team.ws.metadata.model_version("toy", 1)
    assert model is not None
    return {
        "key": key,
        "held": team.ws.artifacts.put_bytes(b"held bytes"),
        "model": model.digest,
    }


@pytest.fixture
def swept(team: Team) -> str:
    for i in range(4):
        with assay.start_run("sweep", params={"c": i}, workspace=team.ws) as run:
            assay.log_metrics({"score": i / 10}, step=0)
    return run.run_id


@pytest.mark.parametrize("who", ["ann", "dave", None])
def test_plain_reads_answer_as_fastapi_does_without_reaching_it(
    team: Team, swept: str, who: str | None
) -> None:
    server = TeamServer(team.ws, TeamOptions(auth="local"))
    paths = [p.format(**_filled(team)) for p in _PLAIN] + [f"/runs/{swept}", f"/runs/{swept[:8]}"]
    fastapi = _Counting(create_app(server))
    fast = FastReads(fastapi, PREFIX)
    token = team.tokens[who] if who else None
    expected = _answers(create_app(server), paths, token)
    got = _answers(fast, paths, token)
    assert fastapi.calls == 0
    for path, want, have in zip(paths, expected, got, strict=True):
        assert want.status_code == 200, (path, want.text)
        assert (have.status_code, have.content) == (want.status_code, want.content), path
        assert have.headers["content-type"] == want.headers["content-type"]


def test_what_is_not_plain_or_fails_is_answered_by_fastapi(team: Team, swept: str) -> None:
    server = TeamServer(team.ws, TeamOptions(auth="local"))
    paths = [p.format(run=swept, **_filled(team)) for p in _LEFT_TO_FASTAPI]
    expected = _answers(create_app(server), paths, None)
    refused = [r.status_code for r, p in zip(expected, paths, strict=True) if "nope" in p]
    assert refused == [404]
    fastapi = _Counting(create_app(server))
    got = _answers(FastReads(fastapi, PREFIX), paths, None)
    assert fastapi.calls == len(paths)
    for path, want, have in zip(paths, expected, got, strict=True):
        assert (have.status_code, have.content) == (want.status_code, want.content), path


@pytest.mark.parametrize("credential", ["bad", "expired", "none-on-a-token-server"])
def test_a_refused_credential_is_refused_by_fastapi_with_its_401(
    team: Team, credential: str
) -> None:
    server = TeamServer(team.ws, TeamOptions(auth="token"))
    token = {
        "bad": "assay_nope_nope",
        "expired": issue_token(team.ws, "bob", "viewer", days=0.00001).token,
        "none-on-a-token-server": None,
    }[credential]
    time.sleep(1.0)  # the expiring token's second
    fastapi = _Counting(create_app(server))
    (answer,) = _answers(FastReads(fastapi, PREFIX), ["/runs"], token)
    assert answer.status_code == 401 and "error" in answer.json()
    assert fastapi.calls == 1


def test_the_running_server_answers_its_reads_before_fastapi(team: Team, swept: str) -> None:
    # team_serving puts FastReads in front: the page over a socket is the route's answer.
    page = team.client("dave").get(f"/runs/{swept}")
    assert page.status_code == 200
    assert page.json()["id"] == swept and "packages" not in page.json()
    assert team.client("dave").get(f"/runs/{swept}?full=true").json()["packages"]
