"""Artifact bytes by their sha256 digest, for clients that record runs through the server:
asked after, uploaded (streamed to disk, checked against the digest, kept once) and
downloaded (checked before the first byte is sent), never held whole in memory."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path as FilePath
from typing import IO, Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from assay.errors import ArtifactNotFoundError, DataError, IntegrityError
from assay.governance import require
from assay.server.api.deps import Writer, Ws
from assay.server.api.plain import PlainRoute
from assay.server.api.registry import DIGESTS
from assay.store import ArtifactStore
from assay.workspace import Workspace

__all__ = ["CHUNK", "PREFIX", "router"]

PREFIX = "/blobs/"
"""Where uploads go, under the API's prefix: the request guard leaves their bodies to
the route."""
CHUNK = 1 << 20
"""Bytes written, hashed or sent per piece."""

Digest = Annotated[
    str, Path(pattern=r"^[0-9a-f]{64}$", description="the sha256 digest of the bytes, in hex")
]

router = APIRouter(route_class=PlainRoute, tags=["artifacts"])


@router.get("/blobs")
def held(
    ws: Ws,
    digest: Annotated[
        list[Annotated[str, Query(pattern=r"^[0-9a-f]{64}$")]], Query(max_length=DIGESTS)
    ],
) -> dict[str, Any]:
    """Which of the digests named (``digest``, repeated, 200 at most) have their bytes
    held: what a client asks before it uploads several."""
    return {"held": sorted(ws.artifacts.held(digest))}


@router.head("/blobs/{digest}", responses={404: {"description": "no bytes are held"}})
def has_blob(ws: Ws, digest: Digest) -> Response:
    """Whether the bytes of ``digest`` are held: a 200 or a 404, with no body (what a
    client asks before it uploads)."""
    if not ws.artifacts.exists(digest):
        raise ArtifactNotFoundError(f"no bytes of {digest[:12]} are held")
    return Response(status_code=200)


@router.put(
    "/blobs/{digest}",
    status_code=201,
    openapi_extra={"requestBody": {"required": True, "content": {"application/octet-stream": {}}}},
)
async def upload(ws: Writer, digest: Digest, request: Request) -> dict[str, Any]:
    """Store the request's bytes under ``digest`` (developers and admins), after checking
    that they hash to it (a 409 and nothing kept when they do not). Bytes held already are
    not read again (``stored`` false); two clients uploading the same bytes at once both
    succeed, and one copy is kept. Each piece must arrive within the server's idle time."""
    await run_in_threadpool(require, ws, "developer", "upload artifacts")
    if await run_in_threadpool(ws.artifacts.exists, digest):
        return {"digest": digest, "stored": False}
    idle_s: float = request.app.state.team.options.upload_idle_s
    spool = await run_in_threadpool(_Spool)
    try:
        async for piece in _pieces(request.stream(), idle_s):
            await spool.add(piece)
        await spool.end()
        await run_in_threadpool(spool.file.close)
        if spool.digest() != digest:
            raise IntegrityError(
                f"the bytes sent hash to {spool.digest()[:12]}, not to {digest[:12]} that the "
                "URL names: nothing was stored",
                hint="upload the bytes of the digest named, whole (an interrupted upload can "
                "be sent again)",
            )
        key = ArtifactStore.key(digest)
        await run_in_threadpool(ws.artifacts.blobs.write_file, key, spool.path)
    finally:
        await run_in_threadpool(spool.discard)
    return {"digest": digest, "stored": True, "size": spool.size}


@router.get(
    "/blobs/{digest}",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download(ws: Ws, digest: Digest) -> StreamingResponse:
    """The bytes of ``digest``, after checking that they still hash to it (a 409 and
    nothing of them when they do not), with their ``Content-Length``."""
    blobs, key = ws.artifacts.blobs, ArtifactStore.key(digest)
    try:
        opened = blobs.open(key)
    except KeyError:
        raise ArtifactNotFoundError(f"no bytes of {digest[:12]} are held") from None
    with opened:
        hashed, size = hashlib.sha256(), 0
        while piece := opened.read(CHUNK):
            hashed.update(piece)
            size += len(piece)
    if hashed.hexdigest() != digest:
        ws.artifacts.get_bytes(digest)  # moves the changed bytes aside and raises
    headers = {"Content-Length": str(size), "ETag": f'"sha256:{digest}"'}
    return StreamingResponse(_sent(ws, key), media_type="application/octet-stream", headers=headers)


def _sent(ws: Workspace, key: str) -> Iterator[bytes]:
    with ws.artifacts.blobs.open(key) as opened:
        while piece := opened.read(CHUNK):
            yield piece


async def _pieces(stream: AsyncIterator[bytes], idle_s: float) -> AsyncIterator[bytes]:
    """The pieces of a body, each of which must come within ``idle_s`` of the last."""
    while True:
        try:
            async with asyncio.timeout(idle_s):
                piece = await anext(stream)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise DataError(
                f"the upload stopped: nothing came for {idle_s:g} s", hint="upload it again"
            ) from None
        yield piece


class _Spool:
    """A temporary file the upload is written to and hashed on the way, in pieces of at
    least CHUNK bytes on a worker thread (never on the event loop)."""

    def __init__(self) -> None:
        fd, name = tempfile.mkstemp(prefix="assay-upload-")
        self.path = FilePath(name)
        self.file: IO[bytes] = os.fdopen(fd, "wb")
        self.hashed = hashlib.sha256()
        self.size = 0
        self.waiting: list[bytes] = []
        self.held = 0

    async def add(self, piece: bytes) -> None:
        self.waiting.append(piece)
        self.held += len(piece)
        if self.held >= CHUNK:
            await self.end()

    async def end(self) -> None:
        data, self.waiting, self.held = b"".join(self.waiting), [], 0
        if data:
            await run_in_threadpool(self._write, data)

    def _write(self, data: bytes) -> None:
        self.hashed.update(data)
        self.file.write(data)
        self.size += len(data)

    def digest(self) -> str:
        return self.hashed.hexdigest()

    def discard(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)
