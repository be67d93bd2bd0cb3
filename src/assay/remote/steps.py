"""The steps repository over a team server's REST API: executions recorded by the server
as the user the credential stands for, and the team's cache looked up there."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from assay.core import restored, spelled_out
from assay.metadata import (
    ArtifactRecord,
    CachedExecution,
    EventRecord,
    ExecutionBundle,
    ExecutionRecord,
    GateVerdictRecord,
    MetricRecord,
    Registration,
    shallow_dict,
)
from assay.metadata.plan import Planned, PlannedStep
from assay.remote.blobs import HttpBlobs
from assay.remote.connection import number, parsed, spelled
from assay.remote.runs import HttpRuns

__all__ = ["EXECUTIONS", "HttpSteps"]

EXECUTIONS = 1000
"""Executions sent in one request (one transaction on the server); a longer batch (reused
executions waiting since the last step ran) goes as several, registrations with the last."""


class HttpSteps:
    """``StepRepository`` through the connection of ``runs`` (the run an execution
    belongs to is announced first, if it waits). The server believes no user a record
    names: versions are registered and verdicts given as whoever authenticated, and only
    artifacts whose bytes it holds are recorded (``HttpBlobs`` uploads them first)."""

    def __init__(self, runs: HttpRuns, blobs: HttpBlobs | None = None) -> None:
        self.runs = runs
        self.connection = runs.connection
        self.blobs = blobs  # told which bytes the server vouched for with a cache answer

    def record_execution(
        self,
        execution: ExecutionRecord,
        artifacts: Sequence[ArtifactRecord] = (),
        events: Sequence[EventRecord] = (),
        metrics: Sequence[MetricRecord] = (),
        registrations: Sequence[Registration] = (),
        verdicts: Sequence[GateVerdictRecord] = (),
    ) -> None:
        self.record_executions([(execution, artifacts, events, metrics)], registrations, verdicts)

    def record_executions(
        self,
        batch: Sequence[ExecutionBundle],
        registrations: Sequence[Registration] = (),
        verdicts: Sequence[GateVerdictRecord] = (),
    ) -> None:
        if not batch:
            return
        by_run: dict[str, list[ExecutionBundle]] = {}
        for bundle in batch:
            by_run.setdefault(bundle[0].run_id, []).append(bundle)
        for run_id, bundles in by_run.items():
            parts = [bundles[i : i + EXECUTIONS] for i in range(0, len(bundles), EXECUTIONS)]
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                body: dict[str, Any] = {
                    "executions": [_bundle(b) for b in part],
                    "registrations": [
                        {**shallow_dict(r), "info": spelled_out(r.info)}
                        for r in registrations
                        if last and r.run_id == run_id
                    ],
                    "verdicts": [
                        {
                            **shallow_dict(v),
                            "policy": spelled_out(v.policy),
                            "results": spelled_out(v.results),
                        }
                        for v in verdicts
                        if last and v.run_id == run_id
                    ],
                }
                self.runs.with_start(run_id, functools.partial(self._send, run_id, body))

    def _send(self, run_id: str, body: dict[str, Any], run: dict[str, Any] | None) -> None:
        # A run not announced yet starts with its first executions: one request, not two.
        sent = body if run is None else {**body, "run": run}
        self.connection.call("POST", f"/runs/{run_id}/executions", body=sent)

    def find_cached(self, cache_key: str) -> CachedExecution | None:
        found = self.connection.call("GET", f"/cache/{cache_key}")["cached"]
        return None if found is None else self._cached(found)

    def plan_cache(self, steps: Sequence[PlannedStep], *, register: bool) -> Planned:
        body = {
            "steps": [
                {
                    "name": s.name,
                    "fingerprint": s.fingerprint,
                    "params": spelled_out(dict(s.params)),
                    "inputs": dict(s.inputs),
                    "outputs": list(s.outputs),
                }
                for s in steps
            ],
            "registering": register,
        }
        found = self.connection.call("POST", "/cache/plan", body=body)["found"]
        return {
            name: (f["key"], None if f["cached"] is None else self._cached(f["cached"]))
            for name, f in found.items()
        }

    def _cached(self, found: dict[str, Any]) -> CachedExecution:
        if self.blobs is not None:  # the server answers only when it holds every output
            self.blobs.vouch(a["digest"] for a in found["outputs"].values())
        return CachedExecution(
            found["execution_id"],
            {k: parsed(ArtifactRecord, a) for k, a in found["outputs"].items()},
            tuple(
                parsed(MetricRecord, {**m, "value": number(m["value"])}) for m in found["metrics"]
            ),
            restored(found["logged_params"]),
        )

    def executions(self, run_id: str) -> list[ExecutionRecord]:
        self.runs.announce(run_id)
        found = self.connection.call("GET", f"/runs/{run_id}/executions")["executions"]
        return [
            parsed(
                ExecutionRecord,
                {
                    **e,
                    "params": restored(e["params"]),
                    "logged_params": restored(e["logged_params"]),
                },
            )
            for e in found
        ]


def _bundle(bundle: ExecutionBundle) -> dict[str, Any]:
    execution, artifacts, events, metrics = bundle
    return {
        "execution": {
            **shallow_dict(execution),
            "params": spelled_out(execution.params),
            "logged_params": spelled_out(execution.logged_params),
        },
        "artifacts": [shallow_dict(a) for a in artifacts],
        "events": [shallow_dict(e) for e in events],
        "metrics": [{**shallow_dict(m), "value": spelled(m.value)} for m in metrics],
    }
