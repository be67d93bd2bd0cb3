"""The binary tensor data extension of the Open Inference Protocol (V2) over REST."""

from __future__ import annotations

import json
import struct
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

from assay.serving.protocol import BadRequest
from assay.serving.strictjson import parse_json

__all__ = [
    "DATATYPES",
    "HEADER",
    "binary_outputs",
    "decode_tensor",
    "encode_tensor",
    "split_request",
]

# A body in this form is its JSON part, then the bytes of the tensors that name a
# `parameters.binary_data_size`, in their order; the HTTP header
# Inference-Header-Content-Length gives the length of the JSON part. Numbers are
# little-endian, row-major, unpadded; a BOOL is one byte, 0 or 1; each element of a BYTES
# tensor is its length (4 bytes, little-endian, unsigned), then its bytes (UTF-8 text here).
# Nothing here knows HTTP: the routes pass the bytes and the header's value in.

HEADER = "inference-header-content-length"

# Each fixed-size datatype: the little-endian numpy dtype its bytes are read as.
_NUMERIC: dict[str, str] = {
    "BOOL": "u1",
    "UINT8": "u1",
    "UINT16": "<u2",
    "UINT32": "<u4",
    "UINT64": "<u8",
    "INT8": "i1",
    "INT16": "<i2",
    "INT32": "<i4",
    "INT64": "<i8",
    "FP16": "<f2",
    "BF16": "<u2",  # the upper half of an FP32: numpy has no bfloat16
    "FP32": "<f4",
    "FP64": "<f8",
}
DATATYPES = (*_NUMERIC, "BYTES")
_LENGTH = struct.Struct("<I")
_MAX_HEADER_DIGITS = 18


def split_request(body: bytes, header_length: str | None) -> dict[str, Any]:
    """A V2 inference request as one JSON object: with ``header_length`` (the value of
    ``Inference-Header-Content-Length``), the tensors after the JSON part become the
    ``data`` of the inputs that name a ``parameters.binary_data_size`` (BYTES as a list of
    texts, numbers as a flat list), and that parameter is dropped; without it, the body is
    JSON, and no input may name one.

    Raises:
        BadRequest: (400) the header is not a length within the body; the JSON is not an
            object of inputs; an input's binary data does not fit its datatype and shape, is
            not UTF-8 text where BYTES, or the sizes do not add up to the bytes after the
            JSON. The message names the input and the problem.
    """
    if header_length is None:
        request = _object(parse_json(body), "the body")
        for where, _, parameters in _tensors(request):
            if "binary_data_size" in parameters:
                raise BadRequest(
                    f"{where} has parameters.binary_data_size, but the request has no "
                    "Inference-Header-Content-Length header giving the length of its JSON part"
                )
        return request
    size = _header_size(header_length, len(body))
    request = _object(parse_json(body[:size]), "the JSON header")
    rest = memoryview(body)[size:]
    offset = 0
    for where, tensor, parameters in _tensors(request):
        if "binary_data_size" not in parameters:
            continue
        length = parameters["binary_data_size"]
        if not isinstance(length, int) or isinstance(length, bool) or length < 0:
            raise BadRequest(
                f"{where}.parameters.binary_data_size must be a whole number of bytes, "
                f"got {json.dumps(length)[:40]}"
            )
        if "data" in tensor:
            raise BadRequest(f"{where} has both data and binary data; send one of them")
        if length > len(rest) - offset:
            raise BadRequest(
                f"{where}.parameters.binary_data_size is {length}, but only "
                f"{len(rest) - offset} bytes of binary data are left in the body"
            )
        raw = rest[offset : offset + length]
        tensor["data"] = decode_tensor(raw, tensor.get("datatype"), tensor.get("shape"), where)
        del parameters["binary_data_size"]
        if not parameters:
            del tensor["parameters"]
        offset += length
    if offset != len(rest):
        raise BadRequest(
            f"{len(rest) - offset} bytes after the JSON header belong to no input: the inputs' "
            f"binary_data_size add up to {offset} of the {len(rest)} bytes there"
        )
    return request


def _header_size(value: str, body_size: int) -> int:
    digits = value.strip()
    if not (digits.isascii() and digits.isdigit()):
        raise BadRequest(
            "Inference-Header-Content-Length must be the length of the JSON part in bytes, "
            f"got {value[:40]!r}"
        )
    if len(digits) > _MAX_HEADER_DIGITS or int(digits) > body_size:
        raise BadRequest(
            f"Inference-Header-Content-Length is {digits[:40]}, but the body has only "
            f"{body_size} bytes"
        )
    return int(digits)


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        kind = "null" if value is None else type(value).__name__
        raise BadRequest(f"{what} must be a JSON object, got {kind}")
    return value


def _tensors(request: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Each input as (where, tensor, parameters), parameters an empty dict when absent."""
    inputs = request.get("inputs", [])
    if not isinstance(inputs, list):
        raise BadRequest('"inputs" must be a list of tensors')
    found = []
    for i, tensor in enumerate(inputs):
        if not isinstance(tensor, dict):
            raise BadRequest(f"inputs[{i}] must be a tensor object")
        name = tensor.get("name")
        where = f"inputs[{i}] ({name!r})" if isinstance(name, str) else f"inputs[{i}]"
        parameters = tensor.get("parameters", {})
        if not isinstance(parameters, dict):
            raise BadRequest(f"{where}.parameters must be an object")
        if "shared_memory_region" in parameters:
            raise BadRequest(f"{where} names a shared memory region; this server takes none")
        found.append((where, tensor, parameters))
    return found


def decode_tensor(raw: bytes | memoryview, datatype: Any, shape: Any, where: str) -> list[Any]:
    """The elements of a tensor from its binary form, as a flat list: texts for BYTES,
    Python numbers (or bools) otherwise.

    Raises:
        BadRequest: (400) the datatype or shape is not one, or the bytes do not fit them.
    """
    count = _elements(shape, where)
    if datatype == "BYTES":
        return _decode_texts(raw, count, shape, where)
    dtype = _NUMERIC.get(datatype) if isinstance(datatype, str) else None
    if dtype is None:
        raise BadRequest(
            f"{where}.datatype is {json.dumps(datatype)[:40]}; binary data is one of "
            + ", ".join(DATATYPES)
        )
    need = count * np.dtype(dtype).itemsize
    if len(raw) != need:
        raise BadRequest(
            f"{where}.parameters.binary_data_size is {len(raw)}, but shape {shape} of "
            f"{datatype} takes {need} bytes"
        )
    values = np.frombuffer(raw, dtype=dtype)
    if datatype == "BOOL":
        if values.size and values.max() > 1:
            raise BadRequest(f"{where} is BOOL, whose bytes are 0 or 1; one is {values.max()}")
        return values.astype(bool).tolist()  # type: ignore[no-any-return]
    if datatype == "BF16":
        values = (values.astype("<u4") << 16).view("<f4")
    return values.tolist()  # type: ignore[no-any-return]


def _elements(shape: Any, where: str) -> int:
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise BadRequest(
            f"{where}.shape must be a list of sizes from 0, got {json.dumps(shape)[:40]}"
        )
    count = 1
    for dimension in shape:
        count *= dimension
    return count


def _decode_texts(raw: bytes | memoryview, count: int, shape: Any, where: str) -> list[Any]:
    if count * _LENGTH.size > len(raw):
        raise BadRequest(
            f"{where}: shape {shape} holds {count} texts, which take at least "
            f"{count * _LENGTH.size} bytes, but its binary_data_size is {len(raw)}"
        )
    texts: list[Any] = []
    offset = 0
    for k in range(count):
        if offset + _LENGTH.size > len(raw):
            raise BadRequest(f"{where}: element {k} has no 4-byte length; its data ends first")
        (length,) = _LENGTH.unpack_from(raw, offset)
        offset += _LENGTH.size
        if length > len(raw) - offset:
            raise BadRequest(
                f"{where}: element {k} is {length} bytes long, but only {len(raw) - offset} "
                "bytes of its data are left"
            )
        try:
            texts.append(str(raw[offset : offset + length], "utf-8"))
        except UnicodeDecodeError as exc:
            raise BadRequest(
                f"{where}: element {k} is not UTF-8 text (at its byte {exc.start}); "
                "BYTES inputs here are texts in UTF-8"
            ) from None
        offset += length
    if offset != len(raw):
        raise BadRequest(
            f"{where}: {len(raw) - offset} bytes are left after its {count} elements; "
            "binary_data_size and shape disagree"
        )
    return texts


def encode_tensor(data: Sequence[Any], datatype: str) -> bytes:
    """The binary form of a tensor's flat ``data`` (texts or bytes for BYTES).

    Raises:
        ValueError: ``datatype`` is not one of ``DATATYPES`` (a server bug, not a client's).
    """
    if datatype == "BYTES":
        parts: list[bytes] = []
        for item in data:
            element = item if isinstance(item, bytes) else str(item).encode("utf-8")
            parts += (_LENGTH.pack(len(element)), element)
        return b"".join(parts)
    dtype = _NUMERIC.get(datatype)
    if dtype is None:
        raise ValueError(f"no binary form for datatype {datatype!r}")
    if datatype == "BOOL":
        return np.asarray(data, dtype=bool).astype("u1").tobytes()
    if datatype == "BF16":
        return _bf16(np.asarray(data, dtype="<f4"))
    return np.asarray(data, dtype=dtype).tobytes()


def _bf16(values: np.ndarray[Any, Any]) -> bytes:
    # Rounded to nearest, ties to even, as hardware does; NaN stays a (quiet) NaN.
    bits = values.view("<u4").astype("<u8")
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    rounded[np.isnan(values)] = 0x7FC0
    return bytes(rounded.astype("<u2").tobytes())


def binary_outputs(
    response: dict[str, Any], wanted: Collection[str] | None, all_binary: bool = False
) -> tuple[bytes, int]:
    """A V2 response body with the outputs named in ``wanted`` (every output when
    ``all_binary``) as binary data: each loses ``data`` and gains
    ``parameters.binary_data_size``, and its bytes follow the JSON. Returns the body and
    the length of its JSON part, the value of ``Inference-Header-Content-Length``.
    ``response`` is left as it was; a name in ``wanted`` that it lacks is no output.

    Raises:
        ValueError: an output's datatype has no binary form, or its data is not that type.
    """
    outputs: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for output in response.get("outputs", []):
        if not (all_binary or (wanted is not None and output["name"] in wanted)):
            outputs.append(output)
            continue
        raw = encode_tensor(output["data"], output["datatype"])
        parameters = {**(output.get("parameters") or {}), "binary_data_size": len(raw)}
        outputs.append(
            {**{k: v for k, v in output.items() if k != "data"}, "parameters": parameters}
        )
        chunks.append(raw)
    header = json.dumps(
        {**response, "outputs": outputs}, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode("utf-8")
    return header + b"".join(chunks), len(header)
