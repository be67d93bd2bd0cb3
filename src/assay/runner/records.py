"""Small builders for the records a step execution writes."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from assay.core import Node
from assay.errors import DefinitionError
from assay.metadata import ArtifactRecord, EventRecord, ExecutionRecord
from assay.store import ArtifactStore

__all__ = ["describe", "events_of", "execution_record", "named_outputs", "stored_outputs"]


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


def named_outputs(
    node: Node, result: Any, side: Mapping[str, tuple[Any, str | None]]
) -> list[tuple[str, str | None, Any]]:
    """Name, kind and value of every output of a step that returned ``result`` and added
    ``side`` outputs (``add_output``).

    Raises:
        DefinitionError: the result does not match the declared outputs, or an added output
            takes a declared one's name.
    """
    specs = node.step.outputs
    if not specs:
        values: tuple[Any, ...] = ()
    elif len(specs) == 1:
        values = (result,)
    elif isinstance(result, tuple) and len(result) == len(specs):
        values = result
    else:
        got = f"{len(result)} values" if isinstance(result, tuple) else type(result).__name__
        raise DefinitionError(
            f"step {node.name!r} declares {len(specs)} outputs but returned {got}",
            hint="return a tuple with one value per declared output",
        )
    clash = set(side) & {s.name for s in specs}
    if clash:
        raise DefinitionError(
            f"step {node.name!r} adds output {sorted(clash)[0]!r}, which it also returns",
            hint="give the added output another name",
        )
    named = [(s.name, s.kind, v) for s, v in zip(specs, values, strict=True)]
    return named + [(name, kind, value) for name, (value, kind) in side.items()]


def stored_outputs(
    artifacts: ArtifactStore,
    node: Node,
    execution_id: str,
    result: Any,
    side: Mapping[str, tuple[Any, str | None]],
) -> dict[str, ArtifactRecord]:
    """Store what a step returned (and its side outputs) in ``artifacts``; their records,
    by output name."""
    produced = {}
    now = time.time()
    for name, kind, value in named_outputs(node, result, side):
        put = artifacts.put(value, kind=kind)
        produced[name] = ArtifactRecord(
            put.digest, put.kind, put.codec, put.size, put.type_name, now, execution_id
        )
    return produced
