"""What the audit chain says the tables hold: its events folded into the rows they record.

Each kind of event writes the columns its payload seals into the rows it made or changed,
remembering which event sealed each value. Columns an older event does not carry are left
out rather than guessed, so a store begun by an earlier version is compared on what its
events do seal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assay.chain.events import SealedEvent
from assay.metadata.chain import SEALED_TABLES

__all__ = ["Expected", "Key", "Projection", "project"]

Key = tuple[Any, ...]
"""A row's identity in a table: its primary key, or its group and number (see tables)."""


@dataclass(slots=True)
class Expected:
    """One row the chain vouches for: the event that made it, and each sealed column's
    value with the event that sealed it."""

    seq: int
    columns: dict[str, tuple[Any, int]] = field(default_factory=dict)


@dataclass(slots=True)
class Projection:
    """Every table's rows as the chain records them, and what it says of artifact bytes."""

    rows: dict[str, dict[Key, Expected]] = field(
        default_factory=lambda: {name: {} for name in SEALED_TABLES}
    )
    named: dict[str, int] = field(default_factory=dict)
    """Artifact digests the chain depends on, with the first event naming each."""
    folders: set[str] = field(default_factory=set)
    """Digests sealed as folder manifests, whose files the chain depends on too."""
    deleted: dict[str, int] = field(default_factory=dict)
    """Artifacts whose bytes were deleted on purpose, with the event saying so."""
    _counts: dict[tuple[str, Key], int] = field(default_factory=dict)

    def put(self, table: str, key: Key, seq: int, values: Mapping[str, Any]) -> Expected:
        """Seal ``values`` into row ``key`` of ``table`` (making it when new)."""
        row = self.rows[table].setdefault(key, Expected(seq))
        for column, value in values.items():
            row.columns[column] = (value, seq)
        return row

    def drop(self, table: str, key: Key) -> None:
        """Row ``key`` of ``table`` is gone (a revoked role, a removed alias)."""
        self.rows[table].pop(key, None)

    def number(self, table: str, group: Key) -> Key:
        """The key of the next row of ``group`` in a table numbered by group."""
        count = self._counts.get((table, group), 0)
        self._counts[(table, group)] = count + 1
        return (*group, count)

    def unseal(self, table: str, key: Key, column: str) -> None:
        """Stop comparing ``column`` of row ``key``: an event changed it without saying how."""
        row = self.rows[table].get(key)
        if row is not None:
            row.columns.pop(column, None)

    def name(self, digest: object, seq: int) -> None:
        """The chain depends on the bytes of ``digest`` from event ``seq`` on."""
        if isinstance(digest, str) and digest:
            self.named.setdefault(digest, seq)


def project(events: Iterable[SealedEvent]) -> Projection:
    """Fold ``events``, in chain order, into the rows they record."""
    found = Projection()
    for event in events:
        handler = _HANDLERS.get(event.action)
        if handler is None and event.action.startswith("step."):
            handler = _step
        if handler is not None:
            handler(found, event)
    return found


def _sealed(payload: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    # Payload key to column, for the keys the payload has.
    return {column: payload[key] for key, column in names.items() if key in payload}


def _model_ref(subject: str) -> tuple[str, int] | None:
    name, _, version = subject.removeprefix("model:").rpartition("@")
    return (name, int(version)) if name and version.isdigit() else None


def _model_alias(subject: str) -> tuple[str, str]:
    name, _, alias = subject.removeprefix("model:").rpartition("@")
    return name, alias


_RUN = {
    "pipeline": "pipeline",
    "source": "source",
    "experiment": "experiment",
    "params": "params",
    "git_commit": "git_commit",
    "git_dirty": "git_dirty",
    "host": "host",
    "python": "python_version",
    "user": "user",
    "pid": "pid",
    "started_at": "started_at",
    "packages_sha256": "packages_sha256",
}


def _run_started(p: Projection, ev: SealedEvent) -> None:
    key = (ev.subject.removeprefix("run:"),)
    p.put("runs", key, ev.seq, {"user": ev.actor, "status": "running"} | _sealed(ev.payload, _RUN))


def _run_finished(p: Projection, ev: SealedEvent) -> None:
    key = (ev.subject.removeprefix("run:"),)
    values: dict[str, Any] = {"status": ev.payload.get("status")}
    if "ended_at" in ev.payload:
        values["ended_at"] = ev.payload["ended_at"]
        _merge_params(p, key, ev.payload.get("params") or {}, ev.seq)
    else:  # an earlier version merged the parameters logged at the end without sealing them
        p.unseal("runs", key, "params")
    p.put("runs", key, ev.seq, values)


def _merge_params(p: Projection, key: Key, logged: Mapping[str, Any], seq: int) -> None:
    row = p.rows["runs"].get(key)
    if not logged or row is None or "params" not in row.columns:
        return
    params, _ = row.columns["params"]
    row.columns["params"] = ({**params, **logged}, seq)


_STEP = {
    "run": "run_id",
    "step": "step",
    "function": "function",
    "fingerprint": "fingerprint",
    "cache_key": "cache_key",
    "cached_from": "cached_from",
    "params": "params",
    "logged_params": "logged_params",
}


def _step(p: Projection, ev: SealedEvent) -> None:
    payload = ev.payload
    execution = ev.subject.removeprefix("execution:")
    values = {"status": ev.action.removeprefix("step.")} | _sealed(payload, _STEP)
    p.put("executions", (execution,), ev.seq, values)
    for direction, group in (("input", "inputs"), ("output", "outputs")):
        for name, digest in (payload.get(group) or {}).items():
            p.put("events", (execution, direction, name), ev.seq, {"digest": digest})
            p.name(digest, ev.seq)
    for digest, described in (payload.get("artifacts") or {}).items():
        if (digest,) not in p.rows["artifacts"]:  # the first record of the bytes is kept
            p.put("artifacts", (digest,), ev.seq, described)
        if described.get("kind") == "folder":
            p.folders.add(digest)
        p.name(digest, ev.seq)
    run = (str(payload.get("run")),)
    if "logged_params" in payload:
        _merge_params(p, run, payload["logged_params"] or {}, ev.seq)
    else:  # an earlier version merged logged parameters without sealing them
        p.unseal("runs", run, "params")


_REGISTERED = {
    "digest": "digest",
    "codec": "codec",
    "run": "run_id",
    "execution": "execution_id",
    "info": "info",
    "created_by": "created_by",
    "created_at": "created_at",
}


def _registered(p: Projection, ev: SealedEvent) -> None:
    ref = _model_ref(ev.subject)
    if ref is None:
        return
    values = {
        "created_by": ev.actor,
        "archived": False,
        "archived_at": None,
        "archived_by": None,
        "archive_reason": None,
    } | _sealed(ev.payload, _REGISTERED)
    p.put("model_versions", ref, ev.seq, values)
    if (ref[0],) not in p.rows["models"]:
        p.put("models", (ref[0],), ev.seq, {"created_by": values["created_by"]})
    p.name(ev.payload.get("digest"), ev.seq)


def _archived(p: Projection, ev: SealedEvent) -> None:
    ref = _model_ref(ev.subject)
    if ref is None:
        return
    archived = ev.action == "model.archived"
    values: dict[str, Any] = {
        "archived": archived,
        "archived_by": ev.actor if archived else None,
        "archive_reason": ev.payload.get("reason") if archived else None,
    }
    if "at" in ev.payload:
        values["archived_at"] = ev.payload["at"]
    p.put("model_versions", ref, ev.seq, values)


_VERDICT = {
    "passed": "passed",
    "policy_digest": "policy_digest",
    "results": "results",
    "policy": "policy",
    "run": "run_id",
    "execution": "execution_id",
    "created_by": "created_by",
    "created_at": "created_at",
}


def _verdict(p: Projection, ev: SealedEvent) -> None:
    ref = _model_ref(ev.subject)
    if ref is None:
        return
    values = {"created_by": ev.actor} | _sealed(ev.payload, _VERDICT)
    p.put("gate_verdicts", p.number("gate_verdicts", ref), ev.seq, values)


def _role(p: Projection, ev: SealedEvent) -> None:
    key = (ev.subject.removeprefix("user:"), ev.payload.get("role"))
    if ev.action == "role.revoked":
        p.drop("role_grants", key)
        return
    values = {"granted_by": ev.actor} | _sealed(ev.payload, {"granted_at": "granted_at"})
    p.put("role_grants", key, ev.seq, values)


_TOKEN = {
    "user": "user",
    "role": "role",
    "secret_sha256": "secret_sha256",
    "note": "note",
    "created_at": "created_at",
    "expires_at": "expires_at",
}


def _token(p: Projection, ev: SealedEvent) -> None:
    key = (ev.subject.removeprefix("token:"),)
    if ev.action == "token.revoked":
        values = {"revoked_by": ev.actor} | _sealed(ev.payload, {"revoked_at": "revoked_at"})
    else:
        values = {"created_by": ev.actor, "revoked_by": None, "revoked_at": None}
        values |= _sealed(ev.payload, _TOKEN)
    p.put("api_tokens", key, ev.seq, values)


def _alias_moved(p: Projection, ev: SealedEvent) -> None:
    group = _model_alias(ev.subject)
    payload = ev.payload
    version, request = payload.get("version"), payload.get("request")
    at = _sealed(payload, {"at": "moved_at"})
    if version is None:
        p.drop("model_aliases", group)
    else:
        p.put("model_aliases", group, ev.seq, {"version": version, "moved_by": ev.actor} | at)
    move = {
        "version": version,
        "previous": payload.get("previous"),
        "moved_by": ev.actor,
        "reason": payload.get("reason"),
        "request_id": request,
    }
    p.put("alias_moves", p.number("alias_moves", group), ev.seq, move | at)
    if request:
        p.put("promotion_requests", (request,), ev.seq, {"status": "done"})


def _requested(p: Projection, ev: SealedEvent) -> None:
    ref = _model_ref(ev.subject)
    if ref is None:
        return
    payload = ev.payload
    values = {
        "name": ref[0],
        "version": ref[1],
        "requested_by": ev.actor,
        "status": "open",
    } | _sealed(
        payload,
        {"alias": "alias", "required": "required", "comment": "comment", "at": "requested_at"},
    )
    p.put("promotion_requests", (payload.get("request"),), ev.seq, values)


def _reviewed(p: Projection, ev: SealedEvent) -> None:
    request = ev.payload.get("request")
    decision = "approve" if ev.action == "promotion.approved" else "reject"
    values = {"decision": decision} | _sealed(ev.payload, {"comment": "comment", "at": "at"})
    p.put("reviews", (request, ev.actor), ev.seq, values)
    p.put("promotion_requests", (request,), ev.seq, {"status": ev.payload.get("status")})


def _alert_raised(p: Projection, ev: SealedEvent) -> None:
    ref = _model_ref(ev.subject)
    values: dict[str, Any] = {"status": "open"}
    if ref is not None:
        values |= {"model": ref[0], "version": ref[1]}
    names = {
        "kind": "kind",
        "summary": "summary",
        "details": "details",
        "fingerprint": "fingerprint",
        "at": "first_at",
    }
    p.put("alerts", (ev.payload.get("alert"),), ev.seq, values | _sealed(ev.payload, names))


def _alert_closed(p: Projection, ev: SealedEvent) -> None:
    p.put("alerts", (ev.payload.get("alert"),), ev.seq, {"status": "closed"})


def _retrain_started(p: Projection, ev: SealedEvent) -> None:
    values = {
        "model": ev.subject.removeprefix("model:"),
        "status": "running",
        "user": ev.actor,
    } | _sealed(ev.payload, {"cause": "cause", "detail": "detail", "at": "started_at"})
    p.put("retrains", (ev.payload.get("retrain"),), ev.seq, values)


def _retrain_finished(p: Projection, ev: SealedEvent) -> None:
    names = {k: k for k in ("status", "run_id", "version", "outcome", "error")}
    p.put("retrains", (ev.payload.get("retrain"),), ev.seq, _sealed(ev.payload, names))


def _deleted(p: Projection, ev: SealedEvent) -> None:
    p.deleted[ev.subject.removeprefix("artifact:")] = ev.seq


_HANDLERS: dict[str, Callable[[Projection, SealedEvent], None]] = {
    "run.started": _run_started,
    "run.finished": _run_finished,
    "model.registered": _registered,
    "model.archived": _archived,
    "model.restored": _archived,
    "gate.verdict": _verdict,
    "role.granted": _role,
    "role.revoked": _role,
    "token.created": _token,
    "token.revoked": _token,
    "alias.moved": _alias_moved,
    "promotion.requested": _requested,
    "promotion.approved": _reviewed,
    "promotion.rejected": _reviewed,
    "alert.raised": _alert_raised,
    "alert.closed": _alert_closed,
    "retrain.started": _retrain_started,
    "retrain.finished": _retrain_finished,
    "artifact.deleted": _deleted,
}
