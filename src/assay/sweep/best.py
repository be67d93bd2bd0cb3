"""Registering a sweep's best trial: its pipeline run once more, registering this time."""

from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import dataclass, field
from typing import Any

from assay.runner.api import open_recorder
from assay.runner.api import run as run_pipeline
from assay.runner.loader import load_pipeline
from assay.runner.results import RunResult
from assay.settings import Settings
from assay.workspace import Recorder

__all__ = ["REGISTER_MODES", "Registered", "register_trial", "run_quietly"]

REGISTER_MODES = ("none", "best", "all")
"""What a sweep registers: nothing (the default), its best trial only, or every trial."""

# The output of ``register_model`` that names the model and artifact it registered.
_REGISTRATION = "registration"


@dataclass(frozen=True, slots=True)
class Registered:
    """The run that registered a sweep's best trial, and each version it registered with its
    gates: ``passed``, ``failed`` or None when the pipeline checks none."""

    run_id: str
    trial: int
    versions: dict[str, str | None] = field(default_factory=dict)


def run_quietly(
    target: str,
    params: dict[str, Any],
    settings: Settings,
    experiment: str,
    *,
    register: bool = True,
    note: str | None = None,
) -> RunResult:
    """Run the pipeline at ``target`` for a sweep, what its steps print going to stderr:
    stdout carries the sweep's own lines (or JSON)."""
    with contextlib.redirect_stdout(sys.stderr):
        pipe, source = load_pipeline(target)
        return run_pipeline(
            pipe,
            params,
            settings=settings,
            source=source,
            experiment=experiment,
            register=register,
            note=note,
        )


def register_trial(
    target: str, settings: Settings, experiment: str, number: int, params: dict[str, Any]
) -> Registered:
    """Run the pipeline at ``target`` with trial ``number``'s parameters, registering.

    Every step the trial ran is reused from the cache except ``register_model`` (kept apart
    while registering was off) and ``check_gates`` (never cached), so the version is
    registered and gated as by ``assay run``, with its lineage back to the trial's steps.

    Raises:
        StepFailedError: a step raised; the run is recorded as failed.
    """
    run = run_quietly(
        target,
        params,
        settings,
        experiment,
        note=f"registers trial {number}, the best of sweep {experiment}",
    )
    store = open_recorder(settings)  # the team server's, or the store's
    try:
        return Registered(run.run_id, number, _versions(store, run))
    finally:
        store.close()


def _versions(store: Recorder, run: RunResult) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for execution in run.executions:
        digest = execution.outputs.get(_REGISTRATION)
        if digest is None:
            continue
        try:  # register_model's output is JSON naming the model and the artifact
            asked = json.loads(store.artifacts.get_bytes(digest))
        except ValueError:
            continue  # a step of the user's own with an output of that name
        if not isinstance(asked, dict):
            continue
        for version in store.models.versions_of_digests([str(asked.get("digest"))]):
            if version.name != asked.get("name"):
                continue
            verdicts = store.models.verdicts(version.name, version.version)
            gates = None if not verdicts else ("passed" if verdicts[-1].passed else "failed")
            found[f"{version.name}@{version.version}"] = gates
    return found
