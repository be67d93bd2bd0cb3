"""The HTTP face of a model server: KServe V1, Open Inference Protocol V2, late labels and
/metrics."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from assay.errors import DataError, SignatureError
from assay.server.guard import RequestGuard
from assay.server.model.body import read_body
from assay.server.model.openapi import LABELS_BODY, V1_BODY, V2_BODY
from assay.server.model.openapi import body as body_schema
from assay.serving.binary import binary_outputs
from assay.serving.explain import explain
from assay.serving.loaded import LoadedModel, Predictions
from assay.serving.protocol import (
    BadRequest,
    Parsed,
    parse_label_body,
    parse_v1,
    parse_v2,
    v1_response,
    v2_metadata,
    v2_response,
)
from assay.serving.server import ModelServer, is_loopback
from assay.serving.slots import ModelSlot
from assay.serving.tabular import (
    ParsedTable,
    parse_v1_table,
    parse_v2_table,
    table_metadata,
    v1_table_response,
    v2_table_response,
)

__all__ = ["create_app"]

log = logging.getLogger("assay.serving")

# What an error counts under when its URL names no served model: one series for them all,
# however many names clients make up.
UNKNOWN_MODEL = "_unknown"


def create_app(server: ModelServer) -> Any:
    """The ASGI application serving ``server``'s models, behind its :class:`RequestGuard`."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await server.start()
        try:
            yield
        finally:
            await server.stop()

    # No /docs page: FastAPI's loads its scripts from a CDN. /openapi.json lists the routes
    # this server has (the labels route only where labels are taken).
    app = FastAPI(title="assay model server", lifespan=lifespan, docs_url=None, redoc_url=None)
    calls = _Calls(server)
    _errors(app, calls)
    _v1_routes(app, calls)
    _labels_route(app, calls)
    _v2_routes(app, calls)

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(server.metrics.render(), media_type="text/plain; version=0.0.4")

    scoring = _ScoringRoutes(app, calls)
    return RequestGuard(scoring, loopback_only=is_loopback(server.options.host))


# The scoring routes, matched on the raw path (percent-decoded, as FastAPI matches it).
_V1_PREDICT = re.compile(r"/v1/models/([^/]+):predict")
_V2_INFER = re.compile(r"/v2/models/([^/]+)(?:/versions/([^/]+))?/infer")


class _ScoringRoutes:
    """The scoring routes, answered before FastAPI's routing, dependency solving and
    middleware, which cost more CPU than scoring a small request; every other route (and the
    OpenAPI schema, where these routes are described too) is FastAPI's. Both paths run the
    same handlers and the same error handling."""

    def __init__(self, app: FastAPI, calls: _Calls) -> None:
        self.app = app
        self.calls = calls

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            if (found := _V2_INFER.fullmatch(path)) is not None:
                name, version = found.group(1), found.group(2)
                handler = self.calls.v2_infer
            elif (found := _V1_PREDICT.fullmatch(path)) is not None:
                name, version = found.group(1), None
                handler = self.calls.v1_predict
            else:
                await self.app(scope, receive, send)
                return
            request = Request(scope, receive)
            try:
                response = await handler(request, name, version)
            except Exception as exc:  # every failure is answered, as by FastAPI's handlers
                response = self.calls.failed(request, exc, name)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class _Calls:
    """What every route does: find the model, read the body within its limit, answer."""

    def __init__(self, server: ModelServer) -> None:
        self.server = server

    def slot(self, name: str, version: str | None = None) -> ModelSlot:
        slot = self.server.slots.get(name)
        if slot is None:
            known = ", ".join(sorted(self.server.slots)) or "none"
            raise BadRequest(f"no model named {name!r} is served here (models: {known})", 404)
        if version is not None and version != str(slot.current.version):
            raise BadRequest(
                f"model {name!r} has no version {version!r} here; it serves version "
                f"{slot.current.version}",
                404,
            )
        return slot

    async def body(self, request: Request) -> Any:
        """The request's body, read within the server's limits and parsed."""
        options = self.server.options
        return await read_body(request, options.max_body_bytes, options.body_timeout_s)

    async def v1_predict(self, request: Request, name: str, version: str | None) -> Response:
        """KServe V1 ``:predict``: texts, or a tabular model's rows (V1 URLs name no
        version: ``version`` is None)."""
        started = time.perf_counter()
        current = self.slot(name).current
        body, header_id = await self.body(request), request.headers.get("x-request-id")
        if current.kind == "tabular":
            table = parse_v1_table(body, header_id, current)
            return await self.answer_table(current, table, "v1", started)
        return await self.answer(name, parse_v1(body, header_id), "v1", started)

    async def v2_infer(self, request: Request, name: str, version: str | None) -> Response:
        """Open Inference Protocol V2 ``infer``: a text tensor, or a tabular model's tensors."""
        started = time.perf_counter()
        current = self.slot(name, version).current
        body, header_id = await self.body(request), request.headers.get("x-request-id")
        if current.kind == "tabular":
            table = parse_v2_table(body, header_id, name, current)
            return await self.answer_table(current, table, "v2", started)
        return await self.answer(name, parse_v2(body, header_id, name), "v2", started)

    def count(self, name: str, status: int) -> None:
        """Count an answer that is not a 200 in /metrics, under its model's name (or one
        name for every name no model has, however many clients make up)."""
        label = name if not name or name in self.server.slots else UNKNOWN_MODEL
        self.server.metrics.errors.labels(label, str(status)).inc()

    def failed(self, request: Request, exc: Exception, name: str) -> Response:
        """The answer to ``exc``, raised while answering ``request`` for model ``name``,
        counted: a small JSON body naming the problem, never a trace or a server path."""
        if isinstance(exc, BadRequest):
            self.count(name, exc.status)
            # A body cut off or too slow leaves bytes unread: the connection is not reused.
            close = {"connection": "close"} if exc.status in (408, 413) else None
            return JSONResponse({"error": exc.message}, status_code=exc.status, headers=close)
        if isinstance(exc, ClientDisconnect):
            # The client left before its body came: nothing to answer, nothing to trace.
            log.info("%s %s: the client disconnected", request.method, request.url.path)
            self.count(name, 499)
            return Response(status_code=499)
        # A bug, not a client mistake: logged here in full, answered without details.
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        self.count(name, 500)
        return _json({"error": f"the server failed: {type(exc).__name__}"}, 500)

    async def answer(self, name: str, parsed: Parsed, protocol: str, started: float) -> Response:
        result = await self.server.score(name, parsed.texts)
        self.server.record(result.model, parsed.request_id, protocol, parsed.texts, started, result)
        if protocol == "v1":
            return _json(v1_response(result, parsed.request_id), 200)
        return _v2(v2_response(result, parsed.request_id, parsed.outputs), parsed.binary)

    async def answer_table(
        self, model: LoadedModel, parsed: ParsedTable, protocol: str, started: float
    ) -> Response:
        """Score a tabular request: its values checked against the version's signature
        (a 400 naming the column), then the table scored off the event loop."""
        try:
            if parsed.columns is not None:
                table = model.validate(parsed.columns)
            else:
                table = model.validate_rows(parsed.rows or [])
            # Batched with the tables of concurrent requests, as texts are.
            result = await self.server.score(model.name, table, table=True)
        except DataError as exc:  # SignatureError among them: the column is named
            raise BadRequest(exc.message, hint=exc.hint or "") from None
        model = result.model
        classes = model.classes if result.probabilities else ()
        answers = Predictions(result.labels, result.probabilities or None, classes)
        self.server.record(model, parsed.request_id, protocol, table, started, result)
        if protocol == "v1":
            return _json(v1_table_response(model, answers, parsed.request_id), 200)
        response = v2_table_response(model, answers, parsed.request_id, parsed.outputs)
        return _v2(response, parsed.binary)


def _v1_routes(app: FastAPI, calls: _Calls) -> None:
    @app.get("/")
    async def v1_live() -> dict[str, Any]:
        return {"status": "alive"}  # KServe's V1 liveness, which its SDK asks for

    @app.get("/v1/models")
    async def v1_models() -> dict[str, Any]:
        return {"models": sorted(calls.server.slots)}

    @app.get("/v1/models/{name}")
    async def v1_model(name: str) -> dict[str, Any]:
        version = calls.slot(name).current.version
        return {"name": name, "ready": calls.server.ready, "version": str(version)}

    @app.post("/v1/models/{name}:explain", openapi_extra=body_schema(V1_BODY))
    async def v1_explain(name: str, request: Request) -> dict[str, Any]:
        current = calls.slot(name).current
        parsed = parse_v1(await calls.body(request), request.headers.get("x-request-id"))
        method = request.query_params.get("method", "auto")
        found = await asyncio.to_thread(explain, current, parsed.texts, method)
        return {
            "id": parsed.request_id,
            "model_name": name,
            "model_version": str(current.version),
            "lineage_id": current.lineage_id,
            "explanations": found,
        }

    # Answered by _ScoringRoutes before FastAPI; declared here for the OpenAPI schema.
    @app.post("/v1/models/{name}:predict", openapi_extra=body_schema(V1_BODY))
    async def v1_predict(name: str, request: Request) -> Response:
        return await calls.v1_predict(request, name, None)


def _labels_route(app: FastAPI, calls: _Calls) -> None:
    token = calls.server.options.labels_token or ""
    expected = f"Bearer {token}".encode()
    # Who labelled, as the labels table records it: the credential, never the token itself.
    principal = f"labels-token:{hashlib.sha256(token.encode()).hexdigest()[:12]}"

    taken = calls.server.options.accept_labels

    # Off, the route answers only to say how to turn it on, and is not in the schema.
    @app.post(
        "/v1/models/{name}/labels",
        include_in_schema=taken,
        openapi_extra=body_schema(LABELS_BODY),
    )
    async def v1_labels(name: str, request: Request) -> Response:
        if not taken:
            raise BadRequest(
                "this server does not accept labels; start it with `assay serve "
                "--accept-labels` and ASSAY_LABELS_TOKEN set (or send them with `assay "
                "monitor label`)",
                403,
            )
        given = request.headers.get("authorization", "")
        if not token or not hmac.compare_digest(given.encode(), expected):
            raise BadRequest(
                "labels need the server's token: send Authorization: Bearer <the token in "
                "ASSAY_LABELS_TOKEN where the server started>",
                401,
            )
        calls.slot(name)
        labels = parse_label_body(await calls.body(request))
        try:
            added = await calls.server.add_labels(name, labels, user=principal)
        except SignatureError as exc:  # not answers the model gives: nothing was stored
            raise BadRequest(str(exc)) from None
        except DataError as exc:
            # Well-formed but about requests never logged: not the 404 of an unknown model.
            raise BadRequest(str(exc), 422) from None
        body = {"stored": added.stored, "replaced": added.replaced, "unknown": added.unknown}
        return _json(body, 200)


def _v2_routes(app: FastAPI, calls: _Calls) -> None:
    @app.get("/v2")
    async def v2_server() -> dict[str, Any]:
        return {"name": "assay", "version": _version(), "extensions": ["binary_tensor_data"]}

    @app.get("/v2/health/live")
    async def live() -> dict[str, Any]:
        return {"live": True}

    @app.get("/v2/health/ready")
    async def ready() -> Response:
        return _json({"ready": calls.server.ready}, 200 if calls.server.ready else 503)

    @app.get("/v2/models/{name}")
    @app.get("/v2/models/{name}/versions/{version}")
    async def v2_model(name: str, version: str | None = None) -> dict[str, Any]:
        current = calls.slot(name, version).current
        if current.kind == "tabular":
            return table_metadata(current)
        return v2_metadata(name, current.version, current.classes, current.platform)

    @app.get("/v2/models/{name}/ready")
    @app.get("/v2/models/{name}/versions/{version}/ready")
    async def v2_ready(name: str, version: str | None = None) -> dict[str, Any]:
        calls.slot(name, version)
        return {"name": name, "ready": calls.server.ready}

    # Answered by _ScoringRoutes before FastAPI; declared here for the OpenAPI schema.
    @app.post("/v2/models/{name}/infer", openapi_extra=body_schema(V2_BODY))
    @app.post("/v2/models/{name}/versions/{version}/infer", openapi_extra=body_schema(V2_BODY))
    async def v2_infer(name: str, request: Request, version: str | None = None) -> Response:
        return await calls.v2_infer(request, name, version)


def _v2(answer: dict[str, Any], binary: frozenset[str]) -> Response:
    if not binary:
        return _json(answer, 200)
    body, header = binary_outputs(answer, binary)
    return Response(
        body,
        media_type="application/octet-stream",
        headers={"inference-header-content-length": str(header)},
    )


def _json(value: dict[str, Any], status: int) -> Response:
    # A response made here skips FastAPI's validation and re-encoding of the returned value,
    # which costs more than the JSON itself for a batch of predictions.
    body = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
    return Response(body, status_code=status, media_type="application/json")


def _errors(app: FastAPI, calls: _Calls) -> None:
    """Every refusal is a small JSON body naming the problem; no trace, no server path; and
    every answer that is not a 200 is counted in /metrics."""

    def name(request: Request) -> str:
        return str(request.path_params.get("name", ""))

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest) -> Response:
        return calls.failed(request, exc, name(request))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = {404: f"no such route: {request.method} {request.url.path}"}.get(
            exc.status_code, str(exc.detail)
        )
        calls.count(name(request), exc.status_code)
        return _json({"error": message}, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        calls.count(name(request), 400)
        return _json({"error": f"{where}: {first.get('msg', 'invalid request')}"}, 400)

    @app.exception_handler(ClientDisconnect)
    async def gone(request: Request, exc: ClientDisconnect) -> Response:
        return calls.failed(request, exc, name(request))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        return calls.failed(request, exc, name(request))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("assay")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"
