"""The request and response bodies of KServe V1 and the Open Inference Protocol (V2).

Parsing is done here, by hand, so that every mistake in a body gets a 4xx naming the field
and the fix, never a validation dump or a server error.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assay.errors import DataError
from assay.metadata.late_labels import LateLabel, parse_labels
from assay.serving.answered import answer_rows
from assay.serving.batching import Batched

__all__ = [
    "INPUT_NAME",
    "OUTPUT_NAMES",
    "BadRequest",
    "Parsed",
    "parse_label_body",
    "parse_v1",
    "parse_v2",
    "model_named",
    "request_id",
    "requested_outputs",
    "top_level",
    "v1_response",
    "v2_metadata",
    "prediction_rows",
    "v2_response",
]

INPUT_NAME = "text"
OUTPUT_NAMES = ("label", "probabilities")
MAX_ID = 128
_V2_FIELDS = ("id", "inputs", "outputs", "parameters", "model_name", "model_version")


class BadRequest(Exception):
    """A client mistake: answered with ``status`` and a JSON error naming it (and the fix,
    in ``hint``, when there is one)."""

    def __init__(self, message: str, status: int = 400, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = f"{message} ({hint})" if hint else message
        self.status = status


@dataclass(frozen=True, slots=True)
class Parsed:
    """The texts to score and the request id to echo; for V2, the outputs asked for (None:
    all) and those to answer in binary (the binary tensor extension)."""

    texts: list[str]
    request_id: str
    outputs: tuple[str, ...] | None = None
    binary: frozenset[str] = frozenset()


def _texts(values: Any, where: str) -> list[str]:
    if not isinstance(values, list):
        raise BadRequest(f"{where} must be a list of texts, got {type(values).__name__}")
    if not values:
        raise BadRequest(f"{where} is empty: send at least one text")
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise BadRequest(f"{where}[{i}] must be a text (a JSON string), got {_kind(value)}")
    return list(values)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def request_id(body: dict[str, Any], header: str | None) -> str:
    """The id a request gives (in its body, else its header), or a new one."""
    given = body.get("id", header)
    if given is None:
        return uuid.uuid4().hex
    if not isinstance(given, str) or not given or len(given) > MAX_ID:
        raise BadRequest(f"id must be a non-empty string of at most {MAX_ID} characters")
    return given


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest(f"the body must be a JSON object, got {_kind(body)}")
    return body


def parse_v1(body: Any, header_id: str | None = None) -> Parsed:
    """``{"instances": [text, ...]}`` or ``{"inputs": [text, ...]}``."""
    body = _object(body)
    keys = [k for k in ("instances", "inputs") if k in body]
    if len(keys) != 1:
        raise BadRequest(
            'the body must have exactly one of "instances" or "inputs", a list of texts: '
            '{"instances": ["Profit rose."]}'
        )
    body = top_level(body, ("instances", "inputs", "id", "parameters"))
    return Parsed(_texts(body[keys[0]], keys[0]), request_id(body, header_id))


def parse_v2(body: Any, header_id: str | None = None, model: str | None = None) -> Parsed:
    """``{"id": ..., "inputs": [{"name": "text", "shape": [N], "datatype": "BYTES",
    "data": [text, ...]}], "outputs": [{"name": "label"}]}``; ``model_name`` and
    ``model_version`` in the body (as the kserve SDK sends them) must name the model of the
    URL, ``model``."""
    body = top_level(body, _V2_FIELDS)
    model_named(body, model)
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or len(inputs) != 1:
        raise BadRequest(
            f'"inputs" must be a list of exactly one tensor named "{INPUT_NAME}" '
            f"(datatype BYTES, shape [N])"
        )
    tensor = inputs[0]
    if not isinstance(tensor, dict):
        raise BadRequest(f"inputs[0] must be a tensor object, got {_kind(tensor)}")
    for key in ("name", "shape", "datatype", "data"):
        if key not in tensor:
            raise BadRequest(f"inputs[0] has no {key!r}")
    if tensor["name"] != INPUT_NAME:
        raise BadRequest(f'inputs[0].name is {tensor["name"]!r}; this model takes "{INPUT_NAME}"')
    if tensor["datatype"] != "BYTES":
        raise BadRequest(f'inputs[0].datatype is {tensor["datatype"]!r}; text is "BYTES"')
    texts = _texts(tensor["data"], "inputs[0].data")
    shape = tensor["shape"]
    if not (
        isinstance(shape, list)
        and len(shape) == 1
        and isinstance(shape[0], int)
        and not isinstance(shape[0], bool)
    ):
        raise BadRequest(f"inputs[0].shape must be [N], got {shape!r}")
    if shape[0] != len(texts):
        raise BadRequest(f"inputs[0].shape is [{shape[0]}] but data holds {len(texts)} texts")
    outputs, binary = requested_outputs(body, OUTPUT_NAMES)
    return Parsed(texts, request_id(body, header_id), outputs, binary)


def top_level(body: Any, fields: Sequence[str]) -> dict[str, Any]:
    """``body`` when it is an object of no fields but ``fields``.

    Raises:
        BadRequest: it is not an object, or has another field (the message names it).
    """
    found = _object(body)
    unknown = sorted(set(found) - set(fields))
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}; fields: {', '.join(fields)}")
    return found


def model_named(body: dict[str, Any], model: str | None) -> None:
    """Refuse a body whose ``model_name`` (as the kserve SDK sends it) is not ``model``."""
    named = body.get("model_name")
    if named is not None and model is not None and named != model:
        raise BadRequest(f"model_name is {named!r} but the URL names model {model!r}")


def requested_outputs(
    body: dict[str, Any], known: Sequence[str]
) -> tuple[tuple[str, ...] | None, frozenset[str]]:
    """The outputs a V2 request asks for, in order (None: all of ``known``), and those it
    wants in binary.

    Raises:
        BadRequest: it asks for an output the model does not have.
    """
    parameters = body.get("parameters")
    all_binary = isinstance(parameters, dict) and parameters.get("binary_data_output") is True
    asked = body.get("outputs")
    if asked is None:
        return None, frozenset(known) if all_binary else frozenset()
    if not isinstance(asked, list):
        raise BadRequest(f'"outputs" must be a list of {{"name": ...}}, got {_kind(asked)}')
    names: list[str] = []
    binary: set[str] = set()
    for i, item in enumerate(asked):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or name not in known:
            raise BadRequest(
                f"outputs[{i}] asks for {name!r}; this model's outputs are " + " and ".join(known)
            )
        options = item.get("parameters") or {}
        if not isinstance(options, dict):
            raise BadRequest(f"outputs[{i}].parameters must be an object")
        # An output's own choice overrides the request's binary_data_output.
        if options.get("binary_data", all_binary) is True:
            binary.add(name)
        if name not in names:
            names.append(name)
    return tuple(names), frozenset(binary)


def parse_label_body(body: Any) -> list[LateLabel]:
    """``{"labels": [{"request_id": ..., "label": ..., "row": 0}, ...]}`` (``row``: which
    text of the request, from 0; default 0).

    Raises:
        BadRequest: the body is not that shape; the message names the first wrong field.
    """
    body = _object(body)
    unknown = sorted(set(body) - {"labels"})
    if unknown:
        raise BadRequest(f'unknown field {unknown[0]!r}; the body holds only "labels"')
    items = body.get("labels")
    if not isinstance(items, list) or not items:
        raise BadRequest(
            '"labels" must be a non-empty list: '
            '{"labels": [{"request_id": "...", "label": "positive", "row": 0}]}'
        )
    for i, item in enumerate(items):
        _check_label(item, f"labels[{i}]")
    try:
        return parse_labels(items)
    except DataError as exc:  # a value too long to keep
        raise BadRequest(str(exc)) from None


def _check_label(item: Any, where: str) -> None:
    # Checked here, not only by parse_labels, to name the JSON path and the JSON type.
    if not isinstance(item, dict):
        raise BadRequest(f"{where} must be an object, got {_kind(item)}")
    extra = sorted(set(item) - {"request_id", "label", "row"})
    if extra:
        raise BadRequest(f"{where} has unknown field {extra[0]!r}; fields: request_id, label, row")
    for key in ("request_id", "label"):
        value = item.get(key)
        if not isinstance(value, str) or not value:
            got = "an empty string" if value == "" else _kind(value)
            raise BadRequest(f"{where}.{key} must be a non-empty string, got {got}")
    row = item.get("row", 0)
    if row is not None and (not isinstance(row, int) or isinstance(row, bool) or row < 0):
        raise BadRequest(f"{where}.row must be a whole number from 0, got {json.dumps(row)}")


def prediction_rows(result: Batched) -> list[dict[str, Any]]:
    """One ``{"label", "probabilities": {class: p}}`` per text: V1's predictions, and what
    the prediction log keeps whatever the protocol."""
    return answer_rows(result.labels, result.probabilities, result.model.classes)


def v1_response(
    result: Batched, request_id: str, rows: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """``{"predictions": [{"label", "probabilities"}], "model_version", "lineage_id", "id"}``;
    ``rows`` when ``prediction_rows`` was already called for this result."""
    return {
        "id": request_id,
        "model_name": result.model.name,
        "model_version": str(result.model.version),
        "lineage_id": result.model.lineage_id,
        "predictions": rows if rows is not None else prediction_rows(result),
    }


def v2_response(
    result: Batched, request_id: str, outputs: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """The inference response: a ``label`` BYTES tensor [N] and a ``probabilities`` FP64
    tensor [N, C] (columns in the order of ``parameters.classes``), or those of ``outputs``
    named, in that order."""
    n, classes = len(result.labels), list(result.model.classes)
    tensors: dict[str, Callable[[], dict[str, Any]]] = {
        "label": lambda: {
            "name": "label",
            "datatype": "BYTES",
            "shape": [n],
            "data": result.labels,
        },
        "probabilities": lambda: {
            "name": "probabilities",
            "datatype": "FP64",
            "shape": [n, len(classes)],
            "data": [p for row in result.probabilities for p in row],
        },
    }
    return {
        "model_name": result.model.name,
        "model_version": str(result.model.version),
        "id": request_id,
        "parameters": {"lineage_id": result.model.lineage_id, "classes": classes},
        "outputs": [tensors[name]() for name in (outputs or OUTPUT_NAMES)],
    }


def v2_metadata(name: str, version: int, classes: tuple[str, ...], platform: str) -> dict[str, Any]:
    """Model metadata: versions, platform, input and output tensors."""
    return {
        "name": name,
        "versions": [str(version)],
        "platform": platform,
        "inputs": [{"name": INPUT_NAME, "datatype": "BYTES", "shape": [-1]}],
        "outputs": [
            {"name": "label", "datatype": "BYTES", "shape": [-1]},
            {"name": "probabilities", "datatype": "FP64", "shape": [-1, len(classes)]},
        ],
        "parameters": {"classes": list(classes)},
    }
