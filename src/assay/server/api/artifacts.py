"""Artifacts: what ``assay artifacts show`` shows of one, and its bytes, served only after
they were checked against their sha256 digest."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse

from assay.lineage import describe_artifact
from assay.server.api.deps import Ws
from assay.server.api.plain import PlainRoute, plain

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

router = APIRouter(route_class=PlainRoute, tags=["artifacts"])


@router.get("/artifacts/{digest}")
def show_artifact(ws: Ws, digest: Digest, verify: bool = False) -> dict[str, Any]:
    """An artifact's kind, codec, type, size, producer (execution, step, run), consumers
    and the model versions registered from it, as ``assay artifacts show --json`` prints
    them; with ``verify``, its stored bytes are first re-hashed (a 409 when they changed)."""
    shown: dict[str, Any] = plain(describe_artifact(ws, digest, verify=verify))
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
    data = ws.artifacts.get_bytes(art.digest)  # IntegrityError: a 409, nothing sent
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
