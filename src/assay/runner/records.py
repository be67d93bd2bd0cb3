"""Small builders for the records a step execution writes."""

from __future__ import annotations

from collections.abc import Mapping

from assay.metadata import ArtifactRecord, EventRecord

__all__ = ["describe", "events_of"]


def events_of(
    execution_id: str,
    inputs: Mapping[str, ArtifactRecord],
    outputs: Mapping[str, ArtifactRecord],
) -> list[EventRecord]:
    """Input and output events of one execution, each with how its bytes are read."""
    return [
        *(
            EventRecord(execution_id, a.digest, "input", k, a.codec, a.kind, a.type_name)
            for k, a in inputs.items()
        ),
        *(
            EventRecord(execution_id, a.digest, "output", k, a.codec, a.kind, a.type_name)
            for k, a in outputs.items()
        ),
    ]


def describe(exc: BaseException) -> str:
    """``Type: first line of the message`` of an exception."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
