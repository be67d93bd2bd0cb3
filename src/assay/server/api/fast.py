"""The team server's most frequent reads answered before FastAPI: health, runs newest first
or filtered, a run's page and a model's versions, by the same route functions."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import Response

from assay.server.api import models, runs
from assay.server.api.plain import PlainJSONResponse

__all__ = ["FastReads"]

_Scope = dict[str, Any]
_Read = Callable[..., dict[str, Any]]

_RUN = re.compile(r"/runs/([^/]+)")
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
        query = _plain_query(scope.get("query_string", b""))
        if not path.startswith(self.prefix) or query is None:
            return None
        return _route(path[len(self.prefix) :], query)

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
    if path == "/models" and query.keys() <= {"name"}:
        return models.list_models, dict(query)
    return None


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
