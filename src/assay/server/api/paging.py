"""Cursors for paged lists: opaque to clients, tied to the query they page through."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from assay.server.api.errors import ApiError

__all__ = ["MAX_LIMIT", "decode_cursor", "encode_cursor", "limit_of"]

MAX_LIMIT = 1_000


def _query_digest(query: Mapping[str, Any]) -> str:
    text = json.dumps(dict(query), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_cursor(query: Mapping[str, Any], offset: int) -> str:
    """A cursor for the page of ``query`` (the filters, not the cursor) from ``offset``."""
    raw = json.dumps({"q": _query_digest(query), "o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, query: Mapping[str, Any]) -> int:
    """The offset ``cursor`` stands for in ``query`` (0 with no cursor).

    Raises:
        ApiError: (400) a cursor that is not one of ours, or one made for another query.
    """
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found = json.loads(raw)
        offset = found["o"]
        digest = found["q"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ApiError(
            400, "the cursor is not one this server gave", "start again without it"
        ) from None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ApiError(400, "the cursor is not one this server gave", "start again without it")
    if digest != _query_digest(query):
        raise ApiError(
            400,
            "the cursor belongs to another query (its filter or order changed)",
            "start again without a cursor",
        )
    return offset


def limit_of(limit: int) -> int:
    """``limit``, when it is a page size this server gives.

    Raises:
        ApiError: (400) below 1 or above ``MAX_LIMIT``.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ApiError(400, f"limit must be from 1 to {MAX_LIMIT}, got {limit}")
    return limit
