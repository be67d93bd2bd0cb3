"""Requests and answers of tabular models: named columns as V2 tensors (one per column, as
MLServer's pandas codec sends them, or one 2-D tensor of them all) or V1 instances (rows as
lists in the signature's order, or as objects), checked against the version's signature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assay.registry.signature import InputColumn
from assay.serving.batching import Batched
from assay.serving.loaded import LoadedModel, Predictions
from assay.serving.protocol import (
    OUTPUT_NAMES,
    BadRequest,
    model_named,
    request_id,
    requested_outputs,
    top_level,
    v1_response,
    v2_response,
)

__all__ = [
    "REGRESSION_OUTPUTS",
    "ParsedTable",
    "output_names",
    "parse_v1_table",
    "parse_v2_table",
    "table_metadata",
    "v1_table_response",
    "v2_table_response",
]

REGRESSION_OUTPUTS = ("value",)

# The V2 datatype a column's values travel as, and those it also takes.
_DATATYPE = {"float64": "FP64", "int64": "INT64", "bool": "BOOL", "string": "BYTES"}
_INTEGERS = ("INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")
_TAKES = {
    "float64": ("FP16", "FP32", "FP64", "BF16", *_INTEGERS),
    "int64": _INTEGERS,
    "bool": ("BOOL",),
    "string": ("BYTES",),
    "category": ("BYTES",),
}


@dataclass(frozen=True, slots=True)
class ParsedTable:
    """A tabular request: its values by column (``columns``) or its rows as objects
    (``rows``), the request id to echo, and for V2 the outputs asked for and those to
    answer in binary."""

    request_id: str
    columns: dict[str, list[Any]] | None = None
    rows: list[dict[str, Any]] | None = None
    outputs: tuple[str, ...] | None = None
    binary: frozenset[str] = frozenset()


def output_names(model: LoadedModel) -> tuple[str, ...]:
    """What ``model`` answers with: ``label`` and ``probabilities``, or ``value``."""
    return REGRESSION_OUTPUTS if model.task == "regression" else OUTPUT_NAMES


def datatype(column: InputColumn) -> str:
    """The V2 datatype ``column`` travels as."""
    return _DATATYPE.get(column.type, "BYTES")


def parse_v1_table(body: Any, header_id: str | None, model: LoadedModel) -> ParsedTable:
    """``{"instances": [[v, ...], ...]}`` (values in the signature's column order) or
    ``{"instances": [{"column": v, ...}, ...]}`` (or ``"inputs"``)."""
    body = top_level(body, ("instances", "inputs", "id", "parameters"))
    keys = [k for k in ("instances", "inputs") if k in body]
    names = [c.name for c in model.inputs]
    if len(keys) != 1 or not isinstance(body[keys[0]], list) or not body[keys[0]]:
        raise BadRequest(
            'the body must have one of "instances" or "inputs", a non-empty list of rows: '
            f'{{"instances": [[{", ".join(names)}], ...]}} or objects of those columns'
        )
    rows = body[keys[0]]
    ident = request_id(body, header_id)
    if all(isinstance(r, dict) for r in rows):
        return ParsedTable(ident, rows=rows)
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise BadRequest(
                f"{keys[0]}[{i}] must be a list of {len(names)} values ({', '.join(names)}) "
                "or an object of them, like every other row"
            )
        if len(row) != len(names):
            raise BadRequest(
                f"{keys[0]}[{i}] holds {len(row)} values; the model takes {len(names)}: "
                + ", ".join(names)
            )
    return ParsedTable(ident, columns={n: [r[j] for r in rows] for j, n in enumerate(names)})


def parse_v2_table(body: Any, header_id: str | None, name: str, model: LoadedModel) -> ParsedTable:
    """One tensor per column, named after it, of shape ``[N]`` or ``[N, 1]`` and a
    datatype that fits its type; or one 2-D tensor ``[N, C]`` holding every column in
    the signature's order (numeric columns only)."""
    body = top_level(body, ("id", "inputs", "outputs", "parameters", "model_name", "model_version"))
    model_named(body, name)
    tensors = body.get("inputs")
    columns = {c.name: c for c in model.inputs}
    if not isinstance(tensors, list) or not tensors:
        raise BadRequest(
            '"inputs" must be a list of tensors, one per column: ' + ", ".join(columns)
        )
    for i, tensor in enumerate(tensors):
        if not isinstance(tensor, dict):
            raise BadRequest(f"inputs[{i}] must be a tensor object")
        for key in ("name", "shape", "datatype", "data"):
            if key not in tensor:
                raise BadRequest(f"inputs[{i}] has no {key!r}")
    outputs, binary = requested_outputs(body, output_names(model))
    ident = request_id(body, header_id)
    if len(tensors) == 1 and tensors[0]["name"] not in columns:
        return ParsedTable(ident, _matrix(tensors[0], model), None, outputs, binary)
    found: dict[str, list[Any]] = {}
    for i, tensor in enumerate(tensors):
        column = columns.get(tensor["name"]) if isinstance(tensor["name"], str) else None
        if column is None:
            raise BadRequest(
                f"inputs[{i}] is named {tensor['name']!r}; the model takes the columns "
                + ", ".join(columns)
            )
        if tensor["datatype"] not in _TAKES[column.type]:
            raise BadRequest(
                f"inputs[{i}] ({column.name}) is {tensor['datatype']!r}; column "
                f"{column.name!r} is {column.type}, sent as {datatype(column)}"
            )
        found[column.name] = _flat(tensor, i, column.name)
    return ParsedTable(ident, found, None, outputs, binary)


def _flat(tensor: dict[str, Any], i: int, column: str) -> list[Any]:
    shape, data = tensor["shape"], tensor["data"]
    if not isinstance(data, list):
        raise BadRequest(f"inputs[{i}] ({column}).data must be a list")
    if not _ints(shape) or len(shape) not in (1, 2) or (len(shape) == 2 and shape[1] != 1):
        raise BadRequest(f"inputs[{i}] ({column}).shape must be [N] or [N, 1], got {shape!r}")
    flat = [v for row in data for v in row] if data and isinstance(data[0], list) else data
    if len(flat) != shape[0]:
        raise BadRequest(f"inputs[{i}] ({column}).shape is {shape} but data holds {len(flat)}")
    return flat


def _matrix(tensor: dict[str, Any], model: LoadedModel) -> dict[str, list[Any]]:
    names = [c.name for c in model.inputs]
    shape, data = tensor["shape"], tensor["data"]
    if not _ints(shape) or len(shape) != 2 or shape[1] != len(names):
        raise BadRequest(
            f"inputs[0] is named {tensor['name']!r}, no column of the model: as one tensor of "
            f"every column its shape must be [N, {len(names)}] ({', '.join(names)}); got "
            f"{shape!r}"
        )
    if any(c.type not in ("float64", "int64", "bool") for c in model.inputs):
        raise BadRequest(
            "one tensor of every column takes numbers only; this model has text columns: "
            "send one tensor per column, named after it"
        )
    if not isinstance(data, list):
        raise BadRequest("inputs[0].data must be a list")
    flat = [v for row in data for v in row] if data and isinstance(data[0], list) else data
    if len(flat) != shape[0] * shape[1]:
        raise BadRequest(f"inputs[0].shape is {shape} but data holds {len(flat)} values")
    width = len(names)
    return {n: flat[j::width] for j, n in enumerate(names)}


def _ints(shape: Any) -> bool:
    return isinstance(shape, list) and all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    )


def as_batched(model: LoadedModel, answers: Predictions) -> Batched:
    """A classifier's answers in the form the text protocol's responses take."""
    return Batched(model, list(answers.predictions), answers.probabilities or [], 0)


def v1_table_response(model: LoadedModel, answers: Predictions, request_id: str) -> dict[str, Any]:
    """A classifier's answers as a text model's (``label`` and ``probabilities`` a row); a
    regressor's as KServe's scikit-learn server gives them: ``{"predictions": [x, ...]}``."""
    if answers.probabilities is not None:
        return v1_response(as_batched(model, answers), request_id, answers.rows())
    return {
        "id": request_id,
        "model_name": model.name,
        "model_version": str(model.version),
        "lineage_id": model.lineage_id,
        "predictions": list(answers.predictions),
    }


def v2_table_response(
    model: LoadedModel, answers: Predictions, request_id: str, outputs: tuple[str, ...] | None
) -> dict[str, Any]:
    """A classifier's ``label`` and ``probabilities`` tensors; a regressor's ``value``, FP64
    ``[N]``."""
    if answers.probabilities is not None:
        return v2_response(as_batched(model, answers), request_id, outputs)
    return {
        "model_name": model.name,
        "model_version": str(model.version),
        "id": request_id,
        "parameters": {"lineage_id": model.lineage_id},
        "outputs": [
            {
                "name": "value",
                "datatype": "FP64",
                "shape": [len(answers.predictions)],
                "data": list(answers.predictions),
            }
        ],
    }


def table_metadata(model: LoadedModel) -> dict[str, Any]:
    """V2 model metadata of a tabular model: a tensor per column, and what it answers."""
    inputs = [{"name": c.name, "datatype": datatype(c), "shape": [-1]} for c in model.inputs]
    if model.task == "regression":
        outputs = [{"name": "value", "datatype": "FP64", "shape": [-1]}]
        parameters: dict[str, Any] = {"task": "regression"}
    else:
        outputs = [
            {"name": "label", "datatype": "BYTES", "shape": [-1]},
            {"name": "probabilities", "datatype": "FP64", "shape": [-1, len(model.classes)]},
        ]
        parameters = {"task": "classification", "classes": list(model.classes)}
    return {
        "name": model.name,
        "versions": [str(model.version)],
        "platform": model.platform,
        "inputs": inputs,
        "outputs": outputs,
        "parameters": {**parameters, "columns": {c.name: c.type for c in model.inputs}},
    }
