"""Reading a request's body: within its size and time limits, inflated when compressed,
parsed as JSON or as the binary tensor extension's JSON and tensors."""

from __future__ import annotations

import asyncio
import zlib
from typing import Any

from starlette.requests import Request

from assay.serving.binary import split_request
from assay.serving.protocol import BadRequest
from assay.serving.strictjson import parse_json

__all__ = ["ENCODINGS", "parse_body", "read_body"]

ENCODINGS = ("identity", "gzip", "deflate")


async def read_body(request: Request, limit: int, timeout_s: float) -> Any:
    """``request``'s body, parsed: at most ``limit`` bytes (inflated too) arriving within
    ``timeout_s`` seconds, inflated when gzip or deflate, JSON (or the binary tensor
    extension's JSON and tensors).

    Raises:
        BadRequest: 413 over the limit, 408 too slow, 415 another encoding, 400 not JSON.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BadRequest(f"the body is {declared} bytes; the limit is {limit}", 413)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ENCODINGS:
        raise BadRequest(
            f"the body's Content-Encoding is {encoding!r}; send it plain, gzip or deflate",
            415,
        )
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout_s):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BadRequest(f"the body is over the limit of {limit} bytes", 413)
                chunks.append(chunk)
    except TimeoutError:
        raise BadRequest(
            f"the body did not arrive within {timeout_s:g} s ({size} bytes came)", 408
        ) from None
    data = b"".join(chunks)
    if encoding != "identity":
        data = _inflate(data, encoding, limit)
    return parse_body(data, request.headers.get("inference-header-content-length"))


def parse_body(data: bytes, header_length: str | None) -> Any:
    """A request body as JSON, or as the binary tensor extension's JSON header and tensors
    when ``header_length`` (its ``Inference-Header-Content-Length``) is given; either way
    UTF-8, not nested past reading, and no text in it a lone surrogate."""
    if header_length is not None:
        return split_request(data, header_length)
    return parse_json(data)


def _inflate(data: bytes, encoding: str, limit: int) -> bytes:
    # Inflated a bounded amount at a time: a small body that inflates past the limit (a zip
    # bomb) is refused without ever being held whole.
    inflater = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise BadRequest(f"the body is not valid {encoding} data: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise BadRequest(f"the body inflates to over the limit of {limit} bytes", 413)
    if not inflater.eof:
        raise BadRequest(f"the {encoding} body is cut short")
    return out
