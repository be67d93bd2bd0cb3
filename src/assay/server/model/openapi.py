"""The bodies the model server's routes take, as JSON Schema for its /openapi.json: what a
client generator reads, and what schemathesis fuzzes the server with."""

from __future__ import annotations

from typing import Any

__all__ = ["LABELS_BODY", "V1_BODY", "V2_BODY", "body"]

_TEXTS: dict[str, Any] = {"type": "array", "items": {"type": "string"}, "minItems": 1}
_ID: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 128}

V1_BODY: dict[str, Any] = {
    "type": "object",
    "description": 'KServe V1: {"instances": [text, ...]} (or "inputs").',
    "properties": {"instances": _TEXTS, "inputs": _TEXTS, "id": _ID, "parameters": {}},
    "additionalProperties": False,
}

V2_BODY: dict[str, Any] = {
    "type": "object",
    "description": "Open Inference Protocol: one BYTES tensor named text, shape [N].",
    "properties": {
        "id": _ID,
        "model_name": {"type": "string"},
        "model_version": {"type": "string"},
        "parameters": {"type": "object"},
        "inputs": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "shape", "datatype", "data"],
                "properties": {
                    "name": {"type": "string", "enum": ["text"]},
                    "shape": {"type": "array", "items": {"type": "integer"}},
                    "datatype": {"type": "string", "enum": ["BYTES"]},
                    "data": _TEXTS,
                    "parameters": {"type": "object"},
                },
            },
        },
        "outputs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "enum": ["label", "probabilities"]},
                    "parameters": {"type": "object"},
                },
            },
        },
    },
    "required": ["inputs"],
    "additionalProperties": False,
}

LABELS_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "labels": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["request_id", "label"],
                "properties": {
                    "request_id": _ID,
                    "label": {"type": "string", "minLength": 1, "maxLength": 200},
                    "row": {"type": "integer", "minimum": 0},
                },
                "additionalProperties": False,
            },
        }
    },
    "required": ["labels"],
    "additionalProperties": False,
}


def body(schema: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` for a route whose JSON body follows ``schema`` (the routes read
    their bodies themselves, to answer every mistake with a 4xx naming it)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    }
