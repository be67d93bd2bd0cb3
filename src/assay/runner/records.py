"""Small builders for the records a step execution writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assay.core import Node
from assay.metadata import ArtifactRecord, EventRecord, ExecutionRecord

__all__ = ["describe", "events_of", "execution_record"]


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


def execution_record(
    run_id: str,
    node: Node,
    execution_id: str,
    key: str,
    params: Mapping[str, Any],
    started: float,
    status: str,
    ended: float,
    cached_from: str | None = None,
    logged_params: dict[str, Any] | None = None,
) -> ExecutionRecord:
    """The record of one execution of ``node``."""
    func = node.step.func
    return ExecutionRecord(
        id=execution_id,
        run_id=run_id,
        step=node.name,
        function=f"{func.__module__}.{func.__qualname__}",
        fingerprint=node.step.fingerprint,
        cache_key=key,
        status=status,
        params=dict(params),
        started_at=started,
        ended_at=ended,
        cached_from=cached_from,
        logged_params=dict(logged_params or {}),
    )
