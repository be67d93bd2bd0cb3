"""Content digests: sha256 over bytes and over canonical JSON."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

__all__ = ["canonical_json", "dumps_json", "loads_json", "restored", "sha256_hex", "spelled_out"]


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> str:
    """One stable JSON text per value: sorted keys, no spaces, NaN and inf spelled out.

    Raises:
        TypeError: the value holds something JSON cannot represent.
    """
    return json.dumps(
        _normalise(value, strict=True), sort_keys=True, separators=(",", ":"), allow_nan=False
    )


def dumps_json(value: Any) -> str:
    """JSON text for a record: NaN and inf spelled ``{"__float__": "nan"}`` (strict JSON has
    none), and any value JSON cannot hold written as its ``str()``."""
    try:  # most records hold plain JSON: no need to walk them first
        return json.dumps(value, allow_nan=False)
    except (ValueError, TypeError):
        return json.dumps(_normalise(value, strict=False), allow_nan=False)


def loads_json(text: str | bytes) -> Any:
    """The value of JSON written by :func:`dumps_json`, with NaN and inf restored."""
    # The hook runs for every object decoded; most texts spell no NaN or inf for it to
    # restore (a quarter of reading a model's versions went to it, measured).
    if ("__float__" not in text) if isinstance(text, str) else (b"__float__" not in text):
        return json.loads(text)
    return json.loads(text, object_hook=_restore)


def spelled_out(value: Any) -> Any:
    """``value`` as strict JSON holds it, NaN and inf spelled as :func:`dumps_json` spells
    them (``{"__float__": "nan"}``), anything else JSON has no form for as its ``str()``."""
    return _normalise(value, strict=False)


def restored(value: Any) -> Any:
    """What :func:`spelled_out` spelled, with NaN and inf restored."""
    if isinstance(value, dict):
        found = {k: restored(v) for k, v in value.items()}
        return _restore(found)
    if isinstance(value, list):
        return [restored(v) for v in value]
    return value


def _restore(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and isinstance(obj.get("__float__"), str):
        return float(obj["__float__"])
    return obj


def _normalise(value: Any, *, strict: bool) -> Any:
    # NaN and inf are legal parameter values but not legal JSON; spell them as strings so
    # the hash stays defined and distinct from any ordinary number.
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    if isinstance(value, dict):
        return {str(k): _normalise(v, strict=strict) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v, strict=strict) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if strict:
        raise TypeError(f"{type(value).__name__} is not JSON-serialisable")
    return str(value)
