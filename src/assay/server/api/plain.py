"""Values as strict JSON, the way every ``--json`` of the CLI prints them: NaN and infinity
spelled out, moments as ISO text, NumPy scalars as Python numbers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from fastapi.responses import JSONResponse

__all__ = ["PlainJSONResponse", "plain"]


def plain(value: Any) -> Any:
    """``value`` with every float strict JSON can hold (``"NaN"``, ``"Infinity"`` and
    ``"-Infinity"`` for those it cannot), every datetime (a pandas ``Timestamp`` too) as ISO
    text and every NumPy scalar as the Python number it holds; containers walked through."""
    if isinstance(value, float):
        return _number(value)
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    item = getattr(value, "item", None)  # a NumPy scalar (np.float64, np.int64, np.bool_)
    return plain(item()) if callable(item) else str(value)


def _number(value: float) -> float | str:
    if math.isfinite(value):
        return float(value)
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


class PlainJSONResponse(JSONResponse):
    """Every answer of the team server as :func:`plain` makes it: a metric that is not a
    number (which PostgreSQL keeps) is ``"NaN"``, as the CLI's ``--json`` prints it, never
    a failure to encode."""

    def render(self, content: Any) -> bytes:
        return super().render(plain(content))
