"""Pages of a list the domain answers whole (experiments, windows, alerts, retrainings),
cut with the cursors of :mod:`assay.server.api.paging`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from assay.server.api.paging import decode_cursor, encode_cursor, limit_of

__all__ = ["page_of"]

T = TypeVar("T")


def page_of(
    items: Sequence[T], query: Mapping[str, Any], limit: int, cursor: str | None
) -> tuple[Sequence[T], str | None]:
    """The ``limit`` items of ``items`` from where ``cursor`` points (the start without
    one), and the cursor of the next page (None on the last).

    Raises:
        ApiError: (400) a page size out of range, or a cursor this server did not give
            for ``query``.
    """
    offset = decode_cursor(cursor, {**query, "limit": limit})
    shown = items[offset : offset + limit_of(limit)]
    more = len(items) > offset + len(shown)
    return shown, encode_cursor({**query, "limit": limit}, offset + len(shown)) if more else None
