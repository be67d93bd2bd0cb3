"""Which steps of a pipeline the cache can give, found in one pass over its graph before it
runs: a step whose inputs are files or outputs of steps found is looked up by the key it
will have, so that a team server answers a whole pipeline in one request instead of one
per step."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assay.core import canonical_json, sha256_hex
from assay.metadata.executions import CachedExecution

__all__ = ["Planned", "PlannedStep", "cache_key", "plan_cache", "withheld_key"]

Planned = dict[str, tuple[str, CachedExecution | None]]
"""Per step name whose key could be told, that key and the execution the cache gives for
it (None: none, so the step runs without asking again)."""


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """A cacheable step as the plan sees it: its code, parameters, and each input as a
    digest (a file) or ``(step, output)`` (another step's output); and the outputs an
    execution must hold to stand in for it."""

    name: str
    fingerprint: str
    params: Mapping[str, Any]
    inputs: Mapping[str, str | tuple[str, str]]
    outputs: tuple[str, ...] = field(default_factory=tuple)


def cache_key(fingerprint: str, params: Mapping[str, Any], inputs: Mapping[str, str]) -> str:
    """The cache key of an execution of the step ``fingerprint`` with ``params`` and the
    inputs of those digests, by argument."""
    body = {"fingerprint": fingerprint, "params": dict(params), "inputs": dict(inputs)}
    return sha256_hex(canonical_json(body).encode())


def withheld_key(key: str) -> str:
    """The cache key of a step that asked to register while registering was off: a later
    run that registers then runs the step again instead of reusing a registration that was
    never written."""
    return sha256_hex(f"withheld:{key}".encode())


def plan_cache(
    steps: Sequence[PlannedStep],
    find: Callable[[str], CachedExecution | None],
    *,
    register: bool,
    held: Callable[[set[str]], set[str]] | None = None,
) -> Planned:
    """What the cache gives for ``steps`` (in the graph's order), looked up with ``find``:
    a step is looked up when each of its inputs is a file or an output of a step found, and
    found when an execution with its key holds its outputs (and, with ``held``, their bytes
    are there); one looked up and not found is there with None. Without ``register``,
    the key of a step that withheld a registration is tried too, as a sweep's trial does."""
    found: Planned = {}
    for step in steps:
        digests: dict[str, str] = {}
        for arg, source in step.inputs.items():
            if isinstance(source, str):
                digests[arg] = source
            elif (given := found.get(source[0], ("", None))[1]) and source[1] in given.outputs:
                digests[arg] = given.outputs[source[1]].digest
        if len(digests) < len(step.inputs):
            continue  # an input comes from a step the cache does not give
        key = cache_key(step.fingerprint, step.params, digests)
        cached = find(key)
        if cached is None and not register:
            cached = find(withheld_key(key))
        if cached is not None and not set(step.outputs) <= set(cached.outputs):
            cached = None
        outputs = {a.digest for a in cached.outputs.values()} if cached else set()
        if cached is not None and held is not None and held(outputs) != outputs:
            cached = None
        found[step.name] = (key, cached)
    return found
