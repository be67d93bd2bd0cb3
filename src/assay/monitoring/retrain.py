"""Continuous training: what starts the training pipeline again (an alert, a schedule, new
data), the run it starts, and what becomes of the version that run registers."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from assay.errors import AssayError, StepFailedError, StoreError
from assay.governance import latest_verdict, promote, request_promotion
from assay.metadata import ModelVersionRecord, RetrainRecord
from assay.monitoring.policy import Retrain, seconds
from assay.store import folder_digest
from assay.workspace import Workspace

__all__ = [
    "Cause",
    "Launcher",
    "due_cause",
    "reap_retrains",
    "retrain",
    "store_feedback",
]


class Launcher(Protocol):
    """Runs a pipeline (a folder, file or ``module:attribute``) on the store; returns the
    run's id. A run whose step fails raises ``StepFailedError``, which names the run."""

    def __call__(
        self,
        pipeline: str,
        params: Mapping[str, Any],
        *,
        experiment: str,
        tags: Mapping[str, str],
        note: str,
    ) -> str: ...


@dataclass(frozen=True, slots=True)
class Cause:
    """Why a retraining starts: ``alert`` (with the alerts), ``schedule`` or ``data``."""

    kind: str
    detail: dict[str, Any]
    summary: str


def due_cause(
    ws: Workspace,
    policy: Retrain,
    watched: ModelVersionRecord,
    *,
    base: Path,
    now: float,
) -> Cause | None:
    """What starts a retraining of ``watched``'s model now, if anything: open alerts of the
    kinds the policy names that started none yet, new or changed files in the policy's
    folder, or the schedule. Nothing within the cooldown after the last retraining."""
    history = ws.metadata.retrains(watched.name)
    if any(h.status == "running" for h in history):
        return None  # one retraining at a time
    if history and now - history[0].started_at < seconds(policy.cooldown):
        return None
    # An alert whose retraining failed or was cut off starts another after the cooldown.
    started = {
        a
        for h in history
        if h.cause == "alert" and h.status in {"registered", "unchanged"}
        for a in h.detail.get("alerts", [])
    }
    waiting = [
        a
        for a in ws.metadata.alerts(watched.name, "open")
        if a.kind in policy.alerts and a.id not in started
    ]
    if waiting:
        waiting.sort(key=lambda a: a.id)
        kinds = sorted({a.kind for a in waiting})
        versions = sorted({a.version for a in waiting})
        return Cause(
            "alert",
            {"alerts": [a.id for a in waiting], "kinds": kinds, "versions": versions},
            f"{' and '.join(kinds)} alert{'s' if len(waiting) > 1 else ''} "
            f"{', '.join(str(a.id) for a in waiting)} on "
            + ", ".join(f"{watched.name}@{v}" for v in versions),
        )
    if policy.new_data is not None:
        folder = (base / policy.new_data.folder).resolve()
        found = folder_digest(folder)
        last = next((h for h in history if h.cause == "data"), None)
        if found is not None and (last is None or last.detail.get("fingerprint") != found[0]):
            return Cause(
                "data",
                {"folder": str(folder), "fingerprint": found[0], "files": found[1]},
                f"new data in {folder} ({found[1]} files)",
            )
    if policy.schedule is not None:
        since = max([watched.created_at] + [h.started_at for h in history])
        if now - since >= seconds(policy.schedule):
            return Cause("schedule", {"every": policy.schedule}, f"the {policy.schedule} schedule")
    return None


def reap_retrains(ws: Workspace, model: str) -> int:
    """Record the retrainings of ``model`` still ``running`` as ``interrupted``: called as a
    monitor starts, when no other one watches the model, they were cut off with the process
    that started them. Returns how many."""
    cut = [r for r in ws.metadata.retrains(model) if r.status == "running"]
    for r in cut:
        ws.metadata.finish_retrain(
            r.id, status="interrupted", run_id=r.run_id, outcome=r.outcome,
            error="the monitor stopped before the retraining ended",
        )  # fmt: skip
    return len(cut)


def store_feedback(ws: Workspace, model: str) -> tuple[str, int]:
    """Store the logged inputs of ``model`` that have late labels, as a CSV of ``text`` and
    ``label``, in the artifact store; returns its digest and how many rows.

    Raises:
        StoreError: the artifact store cannot take the bytes.
    """
    rows = ws.metadata.labelled_inputs(model)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["text", "label"])
    writer.writerows(rows)
    try:
        digest = ws.artifacts.put_bytes(text.getvalue().encode())
    except StoreError as exc:
        raise StoreError(
            f"cannot store the feedback of {model}: {exc.message}",
            hint=f"{exc.hint}; the next trigger after the cooldown tries again",
        ) from None
    return digest, len(rows)


def retrain(
    ws: Workspace,
    policy: Retrain,
    watched: ModelVersionRecord,
    cause: Cause,
    launcher: Launcher,
    *,
    base: Path,
) -> RetrainRecord:
    """Start the training pipeline for ``cause`` and see its version through the policy:
    gates checked by the pipeline; staging at once when the policy says ``auto``;
    production by a promotion request that waits for an approver (or at once, where both
    this policy and the model's own allow it). Each link is in the audit log: the alert,
    ``retrain.started``, the run, the registration, the verdict, the alias move, the
    request and ``retrain.finished``.

    A failing run is recorded as ``failed`` with its error, never raised: the monitor goes
    on watching.
    """
    started = ws.metadata.start_retrain(
        RetrainRecord(model=watched.name, cause=cause.kind, detail=cause.detail, user=ws.user)
    )
    params: dict[str, Any] = dict(policy.params)
    outcome: dict[str, Any] = {"cause": cause.summary}
    if cause.kind == "data" and policy.new_data is not None and policy.new_data.param:
        params[policy.new_data.param] = cause.detail["folder"]
    target = policy.pipeline if ":" in policy.pipeline else str(base / policy.pipeline)
    try:
        with ExitStack() as files:
            if policy.feedback is not None:
                digest, rows = store_feedback(ws, watched.name)
                outcome |= {"feedback": digest, "feedback_rows": rows}
                # The pipeline reads the stored bytes, so the run records the feedback
                # artifact as its input and nothing is written next to the policy or code.
                params[policy.feedback] = str(files.enter_context(ws.artifacts.local_file(digest)))
            run_id = launcher(
                target,
                params,
                experiment=policy.experiment,
                tags={"retrain": str(started.id), "cause": cause.kind},
                note=f"retraining {started.id}: {cause.summary}",
            )
    except StepFailedError as exc:
        return ws.metadata.finish_retrain(
            started.id, status="failed", run_id=exc.run_id, outcome=outcome, error=exc.message
        )
    except KeyboardInterrupt:
        # Stopped at once (a second SIGTERM, Ctrl-C): the record must not stay "running".
        ws.metadata.finish_retrain(
            started.id, status="interrupted", run_id=_run_of(ws, policy, started.id),
            outcome=outcome, error="interrupted",
        )  # fmt: skip
        raise
    except OSError as exc:  # the run could not write its records or artifacts
        return ws.metadata.finish_retrain(
            started.id, status="failed", run_id=_run_of(ws, policy, started.id),
            outcome=outcome, error=str(exc),
        )  # fmt: skip
    except AssayError as exc:
        # A failure outside a step (a parameter, an input file) may still have recorded a run.
        return ws.metadata.finish_retrain(
            started.id,
            status="failed",
            run_id=_run_of(ws, policy, started.id),
            outcome=outcome,
            error=exc.message,
        )
    made = [v for v in ws.metadata.model_versions(watched.name) if v.run_id == run_id]
    if not made:
        outcome["note"] = "the run registered no new version (the same model as before)"
        return ws.metadata.finish_retrain(
            started.id, status="unchanged", run_id=run_id, outcome=outcome
        )
    version = made[-1]
    outcome |= _govern(ws, policy, version, f"retraining {started.id}: {cause.summary}")
    return ws.metadata.finish_retrain(
        started.id, status="registered", run_id=run_id, version=version.version, outcome=outcome
    )


def _govern(
    ws: Workspace, policy: Retrain, version: ModelVersionRecord, reason: str
) -> dict[str, Any]:
    """Move the new version as far as the policy lets it go without a person."""
    ref = f"{version.name}@{version.version}"
    verdict = latest_verdict(ws, version)
    if verdict is None or not verdict.passed:
        failed = [] if verdict is None else [r["gate"] for r in verdict.results if not r["passed"]]
        return {"gates": "not checked" if verdict is None else "failed", "failed": failed}
    done: dict[str, Any] = {"gates": "passed"}
    try:
        if policy.staging == "auto":
            promote(ws, ref, "staging", reason, automatic=True)
            done["staging"] = version.version
        if policy.production == "auto":
            promote(ws, ref, "production", reason, automatic=True)
            done["production"] = version.version
        else:
            request = request_promotion(ws, ref, "production", f"{reason}; waits for approval")
            done["request"] = request.id
    except AssayError as exc:
        done["refused"] = exc.message
    return done


def _run_of(ws: Workspace, policy: Retrain, retrain_id: int) -> str | None:
    """The run a retraining started, found by its tag (when the launcher did not return)."""
    recorded = ws.metadata.list_runs(experiment=policy.experiment, limit=10)
    return next((r.id for r in recorded if r.tags.get("retrain") == str(retrain_id)), None)
