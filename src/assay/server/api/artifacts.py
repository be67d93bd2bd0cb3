"""Artifacts: what ``assay artifacts show`` shows of one, and its bytes, served only after
they were checked against their sha256 digest."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse

from assay.errors import IntegrityError
from assay.server.api.deps import Ws
from assay.server.api.errors import ApiError
from assay.server.api.plain import plain
from assay.workspace import Workspace

__all__ = ["CHUNK", "router"]

CHUNK = 1 << 20
"""Bytes sent per piece of a download."""

Digest = Annotated[
    str,
    Path(
        min_length=1,
        max_length=71,
        description="the sha256 digest (``sha256:`` in front allowed), or its first characters",
    ),
]

FullDigest = Annotated[
    str,
    Path(
        pattern=r"^(sha256:)?[0-9a-fA-F]{64}$",
        description="the whole sha256 digest (``sha256:`` in front allowed): bytes are "
        "served by the name they are checked against, not a prefix that may grow ambiguous",
    ),
]

router = APIRouter(tags=["artifacts"])


def _verified(ws: Workspace, digest: str) -> bytes:
    """The stored bytes of ``digest``, which hash to it.

    Raises:
        ArtifactNotFoundError: (404) no bytes are stored for it (deleted, or moved aside).
        ApiError: (409) the stored bytes hash to something else: they were changed behind
            the store's back (the store moves them aside, so the next read is a 404).
    """
    try:
        return ws.artifacts.get_bytes(digest)
    except IntegrityError as exc:
        raise ApiError(409, exc.message, exc.hint or "") from None


@router.get("/artifacts/{digest}")
def show_artifact(ws: Ws, digest: Digest, verify: bool = False) -> dict[str, Any]:
    """An artifact's kind, codec, type, size, producer (execution, step, run), consumers
    and the model versions registered from it, as ``assay artifacts show --json`` prints
    them; with ``verify``, its stored bytes are first re-hashed (a 409 when they changed)."""
    art = ws.metadata.get_artifact(digest)
    producer = ws.metadata.get_execution(art.producer) if art.producer else None
    consumers = [
        ws.metadata.get_execution(e.execution_id)
        for e in ws.metadata.events_for(art.digest, "input")
    ]
    versions = ws.metadata.versions_of_digests([art.digest])
    if verify:
        _verified(ws, art.digest)
    shown: dict[str, Any] = plain(
        {
            **asdict(art),
            "verified": verify,
            "producer": None
            if producer is None
            else {"execution": producer.id, "step": producer.step, "run": producer.run_id},
            "consumers": [
                {"execution": c.id, "step": c.step, "run": c.run_id, "status": c.status}
                for c in consumers
            ],
            "models": [f"{v.name}@{v.version}" for v in versions],
        }
    )
    return shown


@router.get(
    "/artifacts/{digest}/content",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/octet-stream": {}},
            "description": "the bytes, which hash to the digest",
        }
    },
)
def download(ws: Ws, digest: FullDigest) -> StreamingResponse:
    """The artifact's bytes, checked against their sha256 before the first one is sent (a
    409 instead when they changed, and nothing of them), with ``Content-Length``, an
    ``ETag`` of the digest and a ``Digest: sha-256=`` (base64) header to check them by."""
    art = ws.metadata.get_artifact(digest)
    data = _verified(ws, art.digest)
    checksum = base64.b64encode(bytes.fromhex(art.digest)).decode()
    headers = {
        "Content-Length": str(len(data)),
        "ETag": f'"sha256:{art.digest}"',
        "Digest": f"sha-256={checksum}",
        "Content-Disposition": f'attachment; filename="{art.digest}"',
    }
    return StreamingResponse(_pieces(data), media_type="application/octet-stream", headers=headers)


def _pieces(data: bytes) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(view), CHUNK):
        yield bytes(view[start : start + CHUNK])
