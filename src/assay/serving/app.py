"""The HTTP face of a model server: KServe V1, Open Inference Protocol V2, late labels and
/metrics."""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from assay.errors import DataError
from assay.serving.explain import explain
from assay.serving.protocol import (
    BadRequest,
    Parsed,
    parse_label_body,
    parse_v1,
    parse_v2,
    prediction_rows,
    v1_response,
    v2_metadata,
    v2_response,
)
from assay.serving.server import ModelServer
from assay.serving.slots import ModelSlot

__all__ = ["create_app"]


def create_app(server: ModelServer) -> FastAPI:
    """The ASGI application serving ``server``'s models."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await server.start()
        try:
            yield
        finally:
            await server.stop()

    app = FastAPI(title="assay model server", lifespan=lifespan)
    _errors(app, server)
    calls = _Calls(server)
    _v1_routes(app, calls)
    _v2_routes(app, calls)

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(server.metrics.render(), media_type="text/plain; version=0.0.4")

    return app


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
        limit = self.server.options.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise BadRequest(f"the body is {declared} bytes; the limit is {limit}", 413)
        data = b""
        async for chunk in request.stream():
            data += chunk
            if len(data) > limit:
                raise BadRequest(f"the body is over the limit of {limit} bytes", 413)
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}".split("\n")[0]) from None

    async def answer(self, name: str, parsed: Parsed, protocol: str, started: float) -> Response:
        result = await self.server.score(name, parsed.texts)
        rows = prediction_rows(result)
        self.server.record(result, parsed.request_id, protocol, parsed.texts, started, rows)
        if protocol == "v1":
            return _json(v1_response(result, parsed.request_id, rows), 200)
        return _json(v2_response(result, parsed.request_id), 200)


def _v1_routes(app: FastAPI, calls: _Calls) -> None:
    @app.get("/v1/models")
    async def v1_models() -> dict[str, Any]:
        return {"models": sorted(calls.server.slots)}

    @app.get("/v1/models/{name}")
    async def v1_model(name: str) -> dict[str, Any]:
        version = calls.slot(name).current.version
        return {"name": name, "ready": calls.server.ready, "version": str(version)}

    @app.post("/v1/models/{name}:explain")
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

    @app.post("/v1/models/{name}/labels")
    async def v1_labels(name: str, request: Request) -> Response:
        options = calls.server.options
        if not options.accept_labels:
            raise BadRequest(
                "this server does not accept labels; start it with `assay serve "
                "--accept-labels` (or send them with `assay monitor label`)",
                403,
            )
        if options.labels_token is not None:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {options.labels_token}".encode()):
                raise BadRequest("labels need the server's token: Authorization: Bearer ...", 401)
        calls.slot(name)
        labels = parse_label_body(await calls.body(request))
        try:
            added = await calls.server.add_labels(name, labels)
        except DataError as exc:
            # Well-formed but about requests never logged: not the 404 of an unknown model.
            raise BadRequest(str(exc), 422) from None
        body = {"stored": added.stored, "replaced": added.replaced, "unknown": added.unknown}
        return _json(body, 200)

    @app.post("/v1/models/{name}:predict")
    async def v1_predict(name: str, request: Request) -> Response:
        started = time.perf_counter()
        calls.slot(name)
        parsed = parse_v1(await calls.body(request), request.headers.get("x-request-id"))
        return await calls.answer(name, parsed, "v1", started)


def _v2_routes(app: FastAPI, calls: _Calls) -> None:
    @app.get("/v2")
    async def v2_server() -> dict[str, Any]:
        return {"name": "assay", "version": _version(), "extensions": []}

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
        return v2_metadata(name, current.version, current.classes, current.platform)

    @app.get("/v2/models/{name}/ready")
    @app.get("/v2/models/{name}/versions/{version}/ready")
    async def v2_ready(name: str, version: str | None = None) -> dict[str, Any]:
        calls.slot(name, version)
        return {"name": name, "ready": calls.server.ready}

    @app.post("/v2/models/{name}/infer")
    @app.post("/v2/models/{name}/versions/{version}/infer")
    async def v2_infer(name: str, request: Request, version: str | None = None) -> Response:
        started = time.perf_counter()
        calls.slot(name, version)
        parsed = parse_v2(await calls.body(request), request.headers.get("x-request-id"))
        return await calls.answer(name, parsed, "v2", started)


def _json(value: dict[str, Any], status: int) -> JSONResponse:
    # A response made here skips FastAPI's validation and re-encoding of the returned value,
    # which costs more than the JSON itself for a batch of predictions.
    return JSONResponse(value, status_code=status)


def _errors(app: FastAPI, server: ModelServer) -> None:
    """Every refusal is a small JSON body naming the problem; no trace, no server path."""

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest) -> JSONResponse:
        name = request.path_params.get("name", "")
        server.metrics.errors.labels(str(name), str(exc.status)).inc()
        return _json({"error": exc.message}, exc.status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = {404: f"no such route: {request.method} {request.url.path}"}.get(
            exc.status_code, str(exc.detail)
        )
        return _json({"error": message}, exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _json({"error": f"{where}: {first.get('msg', 'invalid request')}"}, 400)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        # A bug, not a client mistake: logged here in full, answered without details.
        import logging  # noqa: PLC0415

        logging.getLogger("assay.serving").exception("request failed")
        return _json({"error": f"the server failed: {type(exc).__name__}"}, 500)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("assay")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"
