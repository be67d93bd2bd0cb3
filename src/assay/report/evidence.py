"""The evidence of one model version, gathered from the store and organised by the auditor's
four questions: what it does, whether it is compliant, whether it does what it must, and
whether it keeps doing it."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from assay.audit import verify_chain
from assay.chain import sealed
from assay.governance import identity, latest_verdict
from assay.lineage import upstream
from assay.metadata import (
    AuditEventRecord,
    EventRecord,
    ExecutionRecord,
    ModelVersionRecord,
)
from assay.registry import resolve
from assay.report.monitoring import counts, latest
from assay.workspace import Workspace

__all__ = ["SCHEMA", "build_evidence"]

SCHEMA = "assay.evidence/1"

_RUN_FIELDS = (
    "id",
    "pipeline",
    "source",
    "status",
    "user",
    "host",
    "started_at",
    "ended_at",
    "git_commit",
    "git_dirty",
    "python_version",
    "experiment",
)


def build_evidence(ws: Workspace, ref: str, *, verify_audit: bool = True) -> dict[str, Any]:
    """Everything the store knows about the version ``ref`` points at, as a JSON-able dict
    (the schema is ``assay.evidence/1``, documented in docs/howto/evidence-report.md).

    Raises:
        ModelNotFoundError: ``ref`` names no version.
    """
    version = resolve(ws, ref)
    run = ws.metadata.get_run(version.run_id)
    executions = ws.metadata.executions(run.id)
    events = ws.metadata.events_of([e.id for e in executions])
    verdict = latest_verdict(ws, version)
    identified = _identified(ws, version)
    aliases = [a.alias for a in ws.metadata.aliases(version.name) if a.version == version.version]
    metrics: dict[str, Any] = version.info.get("metrics") or {}
    return {
        "schema": SCHEMA,
        "generated_at": time.time(),
        "generated_by": ws.user,
        "model": {
            "name": version.name,
            "version": version.version,
            "ref": f"{version.name}@{version.version}",
            "digest": version.digest,
            "codec": version.codec,
            "run_id": version.run_id,
            "registered_at": version.created_at,
            "registered_by": version.created_by,
            "aliases": aliases,
        },
        "what_it_does": {"card": version.info.get("card") or {}},
        "is_it_compliant": {
            "gates": {
                "checked": verdict is not None,
                "passed": verdict.passed if verdict else None,
                "policy": verdict.policy if verdict else None,
                "policy_digest": verdict.policy_digest if verdict else None,
                "results": verdict.results if verdict else [],
                "at": verdict.created_at if verdict else None,
                "by": verdict.created_by if verdict else None,
            },
            "approvals": [
                {
                    "id": r.id,
                    "alias": r.alias,
                    "status": r.status,
                    "required": r.required,
                    "requested_by": r.requested_by,
                    "requested_at": r.requested_at,
                    "comment": r.comment,
                    "reviews": [
                        {**asdict(v), "identified": identified.get((r.id, v.reviewer))}
                        for v in r.reviews
                    ],
                }
                for r in ws.metadata.requests(version.name, version.version)
            ],
            "audit": _audit(ws, version, verify_audit),
        },
        "does_it_do_what_it_must": {
            "metrics": {
                k: float(v)
                for k, v in metrics.items()
                if isinstance(v, int | float) and not isinstance(v, bool) and k != "n"
            },
            "per_class": [
                {"label": label, **values}
                for label, values in (metrics.get("per_class") or {}).items()
            ],
            "confusion_matrix": (
                {"labels": metrics.get("labels") or [], "matrix": metrics["confusion_matrix"]}
                if metrics.get("confusion_matrix")
                else None
            ),
            "validation": _validation(ws, verdict.execution_id if verdict else None),
            "data": _data(ws, executions, events),
        },
        "does_it_keep_doing_it": {
            "alias_history": [asdict(m) for m in ws.metadata.alias_moves(version.name)],
            "monitoring": _monitoring(ws, version),
        },
        "provenance": {
            "run": {name: getattr(run, name) for name in _RUN_FIELDS},
            "params": run.params,
            "packages": run.packages,
            "steps": [
                {
                    "step": e.step,
                    "status": e.status,
                    "fingerprint": e.fingerprint,
                    "cached_from": e.cached_from,
                    "started_at": e.started_at,
                    "ended_at": e.ended_at,
                }
                for e in executions
            ],
            "lineage": _lineage(ws, version),
        },
    }


def _audit(ws: Workspace, version: ModelVersionRecord, verify: bool) -> dict[str, Any]:
    events = ws.metadata.audit_events()
    if verify:
        found = verify_chain(ws).to_dict()
    else:
        seq, digest = ws.metadata.audit_head()
        found = {
            "ok": None,  # not checked
            "verified_at": None,
            "events": len(events),
            "head": {"seq": seq, "hash": digest},
            "key_id": "",
            "checkpoints": 0,
            "checkpoint_seq": 0,
            "artifacts_checked": 0,
            "problems": [],
        }
    return {**found, "model_events": [_brief(e) for e in events if _concerns(e, version)]}


def _identified(ws: Workspace, version: ModelVersionRecord) -> dict[tuple[str, str], str]:
    """How each reviewer of the version's requests was identified, by (request, reviewer),
    as the sealed review events say: by a token (its id), by OpenID Connect (issuer and
    subject), as a laptop server's local admin, or declared (a local store)."""
    subject = f"model:{version.name}@{version.version}"
    found: dict[tuple[str, str], str] = {}
    for event in ws.metadata.audit_events_about(
        [subject], ["promotion.approved", "promotion.rejected"]
    ):
        sealed_event = sealed(event)
        request = str(sealed_event.payload.get("request") or "")
        found[(request, sealed_event.actor)] = identity(sealed_event.via)
    return found


def _concerns(event: AuditEventRecord, version: ModelVersionRecord) -> bool:
    if event.subject in (f"model:{version.name}@{version.version}", f"run:{version.run_id}"):
        return True
    if event.action == "alias.moved" and event.subject.startswith(f"model:{version.name}@"):
        payload = json.loads(event.body).get("payload") or {}
        return version.version in (payload.get("version"), payload.get("previous"))
    return False


def _brief(event: AuditEventRecord) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at,
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
    }


def _monitoring(ws: Workspace, version: ModelVersionRecord) -> dict[str, Any] | None:
    """The version's checked windows, alerts and retrainings in a few lines; None when it
    was never monitored and no retraining made it."""
    windows = [asdict(w) for w in ws.metadata.windows(version.name, version.version)]
    alerts = [asdict(a) for a in ws.metadata.alerts(version.name) if a.version == version.version]
    made_by = ws.metadata.retrain_of(version.name, version.version)
    started = [
        r for r in ws.metadata.retrains(version.name)
        if version.version in r.detail.get("versions", [])
    ]  # fmt: skip
    if not (windows or alerts or made_by or started):
        return None
    n = counts(windows, alerts)
    found: dict[str, Any] = {
        "summary": f"{n['windows']} window(s) checked, {n['alarms']} alarming; "
        f"{n['open_alerts']} open alert(s) of {len(alerts)}",
        "open_alerts": n["open_alerts"],
    }
    for kind in ("drift", "performance"):
        last = latest(windows, kind)
        if last is not None:
            found[f"latest {kind} check"] = (
                f"{last['status']} (window {last['id']}, {last['rows']} rows)"
            )
    if alerts:
        found["alerts"] = "; ".join(
            f"{a['id']} {a['kind']} ({a['status']}, {a['count']}x)" for a in alerts
        )
    if made_by is not None:
        found["made by"] = (
            f"retraining {made_by.id}: {made_by.outcome.get('cause')} (run {made_by.run_id})"
        )
    if started:
        found["retrainings it started"] = "; ".join(
            f"{r.id}: {r.status}" + (f", version {r.version}" if r.version else "") for r in started
        )
    return found


def _validation(ws: Workspace, gate_execution: str | None) -> dict[str, Any] | None:
    # The report the gate step was given is the one the verdict rests on.
    if gate_execution is None:
        return None
    for ev in ws.metadata.events_of([gate_execution]):
        if ev.direction == "input" and ev.name == "validation" and ev.codec == "json":
            value = ws.artifacts.get(ev.digest, ev.codec)
            return value if isinstance(value, dict) else None
    return None


def _data(
    ws: Workspace, executions: list[ExecutionRecord], events: list[EventRecord]
) -> list[dict[str, Any]]:
    steps = {e.id: e.step for e in executions}
    seen: set[str] = set()
    found = []
    for ev in events:
        is_data = ev.type_name == "pathlib.Path" or ev.codec == "parquet"
        if ev.direction != "input" or not is_data or ev.digest in seen:
            continue
        seen.add(ev.digest)
        artifact = ws.metadata.get_artifact(ev.digest)
        found.append(
            {
                "name": ev.name,
                "digest": ev.digest,
                "kind": ev.kind,
                "codec": ev.codec,
                "size": artifact.size,
                "step": steps.get(ev.execution_id, ""),
            }
        )
    return found


def _lineage(ws: Workspace, version: ModelVersionRecord) -> dict[str, Any]:
    graph = upstream(ws, f"{version.name}@{version.version}")
    return {
        "root": graph.root,
        "nodes": [{"id": n.id, "type": n.type, "label": n.label} for n in graph.nodes.values()],
        "edges": [{"source": e.source, "target": e.target, "name": e.name} for e in graph.edges],
    }
