"""Content digests: sha256 over bytes and over canonical JSON."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

__all__ = ["canonical_json", "sha256_hex"]


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> str:
    """One stable JSON text per value: sorted keys, no spaces, NaN and inf spelled out.

    Raises:
        TypeError: the value holds something JSON cannot represent.
    """
    return json.dumps(_normalise(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _normalise(value: Any) -> Any:
    # NaN and inf are legal parameter values but not legal JSON; spell them as strings so
    # the hash stays defined and distinct from any ordinary number.
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")
