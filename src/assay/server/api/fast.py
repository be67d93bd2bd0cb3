"""The team server's most frequent reads answered before FastAPI: health, runs newest first
or filtered, a run's page and a model's versions, and what a run recording through the
server asks at each step (the cache, which artifact bytes are held), by the same route
functions."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import Response

from assay.server.api import blobs, models, registry, runs, steps
from assay.server.api.plain import PlainJSONResponse

__all__ = ["FastReads"]

_Scope = dict[str, Any]
_Read = Callable[..., dict[str, Any]]

_RUN = re.compile(r"/runs/([^/]+)")
_CACHE = re.compile(r"/cache/([0-9a-f]{64})")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_NAME = 200  # the longest model or alias name the registry routes take
_LIMIT = re.compile(r"[0-9]{1,9}")
_RUN_QUERY = frozenset({"where", "order_by", "experiment", "pipeline", "limit", "cursor"})
_HEALTH = b'{"status":"ok"}'


class FastReads:
    """ASGI app answering a few GETs itself and handing every other request to ``app``
    (FastAPI).

    A read that a person or a dashboard makes most (a run's page, a model's versions, the
    newest runs) costs less in the store than FastAPI's routing, dependency solving and
    worker-thread hops around it (measured: over half of a run page's time). Here such a
    request is matched on its path, its query taken only when it is plain (each parameter
    once, ``limit`` digits), and answered in one hop to a worker thread that finds who asks
    (as ``deps.acting``), calls the route function FastAPI would call, and encodes the
    answer. Whatever is not plain, and any failure (an unknown run, a bad credential, a
    malformed filter), is FastAPI's to answer, as it always was: its errors are the one
    place refusals are made.
    """

    def __init__(self, app: Any, prefix: str) -> None:
        self.app = app
        self.prefix = prefix
        self.by_digests = {
            f"{prefix}/blobs": blobs.held,
            f"{prefix}/registry/versions": registry.versions_of_digests,
        }

    async def __call__(self, scope: _Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            found = self._match(scope)
            if found is not None:
                response = await self._answer(scope, *found)
                if response is not None:
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def _match(self, scope: _Scope) -> tuple[_Read | None, dict[str, Any]] | None:
        path: str = scope["path"]
        if not path.startswith(self.prefix):
            return None
        if path in self.by_digests:
            return _by_digests(self.by_digests[path], scope.get("query_string", b""))
        query = _plain_query(scope.get("query_string", b""))
        return None if query is None else _route(path[len(self.prefix) :], query)

    async def _answer(self, scope: _Scope, read: _Read | None, args: dict[str, Any]) -> Any:
        if read is None:
            return Response(_HEALTH, media_type="application/json")
        team, header = self.app.state.team, Headers(scope=scope).get("authorization")

        def answer() -> Response | None:
            try:
                ws = team.principal(header).workspace(team.ws)
                return PlainJSONResponse(read(ws, **args))
            except Exception:  # FastAPI answers it again, with its error handlers
                return None

        return await run_in_threadpool(answer)


def _route(path: str, query: dict[str, str]) -> tuple[_Read | None, dict[str, Any]] | None:
    """The route function a plain GET of ``path`` calls, and its arguments (None: the
    health check's fixed answer)."""
    if path == "/health" and not query:
        return None, {}
    # What the query leaves out takes the route function's default, as in FastAPI.
    if path == "/runs" and query.keys() <= _RUN_QUERY:
        limit = query.get("limit")
        if limit is None:
            return runs.list_runs, query
        if _LIMIT.fullmatch(limit):
            return runs.list_runs, query | {"limit": int(limit)}
    if (run := _RUN.fullmatch(path)) is not None and not query:
        return runs.get_run, {"run_id": run.group(1)}
    return _recording(path, query)


def _recording(path: str, query: dict[str, str]) -> tuple[_Read, dict[str, Any]] | None:
    """A model's versions, and what a run recording through the server asks of its cache
    and its registry."""
    if path == "/models" and query.keys() <= {"name"}:
        return models.list_models, dict(query)
    if (cache := _CACHE.fullmatch(path)) is not None and not query:
        return steps.find_cached, {"cache_key": cache.group(1)}
    return _registry(path, query)


def _registry(path: str, query: dict[str, str]) -> tuple[_Read, dict[str, Any]] | None:
    """What a gate step asks of the registry: where an alias points, a version, verdicts
    (names and numbers within the routes' bounds: FastAPI refuses the others)."""
    if not all(0 < len(query.get(k, "-")) <= _NAME for k in ("name", "alias")):
        return None
    if path == "/registry/alias" and query.keys() == {"name", "alias"}:
        return registry.alias_version, dict(query)
    read = {"/registry/version": registry.model_version, "/registry/verdicts": registry.verdicts}
    if path in read and "name" in query and query.keys() <= {"name", "version"}:
        version = query.get("version")
        if version is None:
            return read[path], dict(query)
        if _LIMIT.fullmatch(version) and int(version) >= 1:
            return read[path], {"name": query["name"], "version_": int(version)}
    return None


def _by_digests(read: _Read, raw: bytes) -> tuple[_Read, dict[str, Any]] | None:
    """``read`` and its digests, when the query names nothing but 1 to 200 digests."""
    try:
        pairs = parse_qsl(raw.decode("ascii"), strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    digests = [value for name, value in pairs if name == "digest" and _DIGEST.fullmatch(value)]
    if not 0 < len(digests) == len(pairs) <= registry.DIGESTS:
        return None
    return read, {"digest": digests}


def _plain_query(raw: bytes) -> dict[str, str] | None:
    """The query's parameters, or None when one is repeated or cannot be decoded."""
    if not raw:
        return {}
    try:
        pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    found = dict(pairs)
    return found if len(found) == len(pairs) else None
