"""Array bundles: named NumPy arrays with a JSON header, stored without pickle or zip."""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from assay.errors import CodecError

__all__ = ["ArrayBundle", "BundleCodec"]

_MAGIC = b"ASSAYARR1\n"
# Plain numbers, booleans and fixed-width text only: an object array could hold anything.
_ALLOWED_KINDS = frozenset("biufU")


@dataclass(frozen=True, slots=True)
class ArrayBundle:
    """Named arrays plus JSON-able metadata: the stored form of a compiled model."""

    meta: dict[str, Any]
    arrays: Mapping[str, Any] = field(default_factory=dict)


class BundleCodec:
    """``ArrayBundle`` as a length-prefixed JSON header followed by each array's raw bytes.

    The bytes depend only on the content (``np.savez`` stamps zip entries with the time), and
    decoding maps the arrays onto the bytes read instead of copying them.
    """

    name = "arrays"
    kind = "arrays"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, ArrayBundle)

    def encode(self, value: Any) -> bytes:
        import numpy as np  # noqa: PLC0415

        index, chunks, offset = [], [], 0
        for name in sorted(value.arrays):
            array = np.ascontiguousarray(value.arrays[name])
            if array.dtype.kind not in _ALLOWED_KINDS:
                raise CodecError(
                    f"array {name!r} has dtype {array.dtype}, which a bundle cannot hold",
                    hint="use numeric, boolean or fixed-width text arrays",
                )
            array = array.astype(array.dtype.newbyteorder("<"), copy=False)
            raw = array.tobytes()
            index.append([name, array.dtype.str, list(array.shape), offset, len(raw)])
            chunks.append(raw)
            offset += len(raw)
        header = json.dumps(
            {"meta": value.meta, "arrays": index}, sort_keys=True, separators=(",", ":")
        ).encode()
        return b"".join([_MAGIC, struct.pack("<Q", len(header)), header, *chunks])

    def decode(self, data: bytes) -> Any:
        import numpy as np  # noqa: PLC0415

        start = len(_MAGIC) + 8
        if not data.startswith(_MAGIC) or len(data) < start:
            raise CodecError("not an array bundle", hint="the artifact was stored another way")
        (size,) = struct.unpack("<Q", data[len(_MAGIC) : start])
        try:
            header = json.loads(data[start : start + size])
            body = memoryview(data)[start + size :]
            arrays = {}
            for name, dtype, shape, offset, length in header["arrays"]:
                kind = np.dtype(dtype)
                if kind.kind not in _ALLOWED_KINDS or offset + length > len(body):
                    raise ValueError(f"array {name!r} is not a plain array inside the bundle")
                flat = np.frombuffer(body[offset : offset + length], dtype=kind)
                arrays[str(name)] = flat.reshape(shape)
        except (ValueError, TypeError, KeyError) as exc:
            raise CodecError(f"a damaged array bundle: {exc}") from None
        return ArrayBundle(dict(header["meta"]), arrays)
