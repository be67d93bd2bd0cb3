"""Values as strict JSON, the way every ``--json`` of the CLI prints them: NaN and infinity
spelled out, moments as ISO text, NumPy scalars as Python numbers."""

from __future__ import annotations

import functools
import inspect
import json
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

__all__ = ["PlainJSONResponse", "PlainRoute", "plain"]


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
        # Most answers hold nothing strict JSON cannot: encoded as they are, without a walk
        # through every value first (a run's package list is hundreds of them); an answer
        # with a NaN (a ValueError) or a key or value JSON has no form for is walked.
        try:
            return json.dumps(
                content, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_leaf
            ).encode()
        except (ValueError, TypeError):
            return super().render(plain(content))


def _leaf(value: Any) -> Any:
    # What json.dumps meets that it has no form for: a moment or a NumPy scalar; a NumPy
    # float64 is a float and never comes here.
    if isinstance(value, datetime | date) or callable(getattr(value, "item", None)):
        return plain(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


class PlainRoute(APIRoute):
    """A route whose synchronous endpoint's answer is encoded, by :class:`PlainJSONResponse`
    with the route's status, on the worker thread that computed it.

    FastAPI would take the answer back to the event loop and hand it to a second worker
    thread to check it against the endpoint's declared type (a dict against
    ``dict[str, Any]``: nothing to find); that hop cost more than the run page's reads
    (measured). An endpoint answering with a ``Response`` of its own keeps it; the declared
    type still describes the answer in the OpenAPI schema.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _encoding(endpoint, kwargs.get("status_code") or 200)
        super().__init__(path, endpoint, **kwargs)


def _encoding(endpoint: Callable[..., Any], status: int) -> Callable[..., Any]:
    # functools.wraps: FastAPI reads the parameters, their annotations (in the endpoint's
    # module), the return type, name and docstring through __wrapped__.
    @functools.wraps(endpoint)
    def encoded(*args: Any, **kwargs: Any) -> Any:
        answer = endpoint(*args, **kwargs)
        return answer if isinstance(answer, Response) else PlainJSONResponse(answer, status)

    return encoded
