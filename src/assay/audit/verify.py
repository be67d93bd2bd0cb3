"""Checking the audit chain: links, hashes, signatures, checkpoints and artifact bytes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from assay.anchor import Checkpoint, PublicKey
from assay.core import sha256_hex
from assay.metadata import GENESIS, AuditEventRecord
from assay.workspace import Workspace

__all__ = ["Problem", "VerifyReport", "verify_chain"]

_COLUMNS = ("at", "actor", "action", "subject")


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken link: where (an event's ``seq``, or None for the store as a whole) and what."""

    seq: int | None
    message: str

    def __str__(self) -> str:
        return f"event {self.seq}: {self.message}" if self.seq is not None else self.message


@dataclass(slots=True)
class VerifyReport:
    """What ``assay audit verify`` found."""

    events: int = 0
    head_seq: int = 0
    head_hash: str = ""
    key_id: str = ""
    checkpoints: int = 0
    checkpoint_seq: int = 0
    artifacts: int = 0
    unaudited: int = 0
    """Model versions registered before the store's audit chain began (an older store)."""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is broken."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form."""
        return {
            "ok": self.ok,
            "events": self.events,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "key_id": self.key_id,
            "checkpoints": self.checkpoints,
            "checkpoint_seq": self.checkpoint_seq,
            "artifacts_checked": self.artifacts,
            "versions_before_audit": self.unaudited,
            "problems": [{"seq": p.seq, "message": p.message} for p in self.problems],
        }


def verify_chain(ws: Workspace, *, artifacts: bool = True) -> VerifyReport:
    """Re-check the whole chain of ``ws``: every link and hash, every signature with the key
    kept outside the store, the chain against every checkpoint, the registry's state
    against the chain, and (with ``artifacts``) the bytes of every artifact it names.

    The chain names its key (event 1's key id) and, with event 1's hash, its checkpoints,
    so the anchors are found wherever the store is. A chain with no events needs no key.

    Raises:
        AuditError: the public key or the checkpoints cannot be read at all.
    """
    report = VerifyReport()
    events = ws.metadata.audit_events()
    report.events = len(events)
    key_id = next((ev.key_id for ev in events if ev.key_id), "")
    first = events[0].hash if events else ""
    key = ws.anchor.public_key(key_id) if key_id else None
    report.key_id = key.key_id if key else ""
    hashes = _check_links(events, key, report)
    head_seq, head_hash = ws.metadata.audit_head()
    report.head_seq, report.head_hash = head_seq, head_hash
    last_seq, last_hash = (events[-1].seq, events[-1].hash) if events else (0, GENESIS)
    if (head_seq, head_hash) != (last_seq, last_hash):
        report.problems.append(
            Problem(
                None,
                f"the head row names event {head_seq} ({head_hash[:12]}) but the last stored "
                f"event is {last_seq} ({last_hash[:12]}): events were removed or added",
            )
        )
    checkpoints = ws.anchor.checkpoints(key_id, first)
    ours = [cp for cp in checkpoints if cp.chain in ("", first)]
    if not events and checkpoints:
        # A chain that is gone entirely (or an explicit log that another store writes too).
        report.problems.append(
            Problem(
                None,
                "the store has no audit events, but checkpoints outside it name events up "
                f"to {max(cp.seq for cp in checkpoints)}",
            )
        )
    elif events:
        if not ours:
            where = ws.anchor.checkpoint_location(key_id, first)
            report.problems.append(
                Problem(
                    None,
                    f"no checkpoint of the chain exists outside the store (looked in {where})",
                )
            )
        _check_checkpoints(ours, key, hashes, report)
        _check_other_chains([cp for cp in checkpoints if cp not in ours], key, report)
    payloads = dict(_payloads(events))
    _check_state(ws, events, payloads, report)
    if artifacts:
        _check_artifacts(ws, payloads, report)
    # Problems in chain order, the store-wide ones last: the first is the first broken link.
    report.problems.sort(key=lambda p: (p.seq is None, p.seq or 0))
    return report


def _check_links(
    events: list[AuditEventRecord], key: PublicKey | None, report: VerifyReport
) -> dict[int, str]:
    hashes: dict[int, str] = {}
    expected_seq, prev = 1, GENESIS
    for ev in events:
        if ev.seq != expected_seq:
            gap = (
                f"events {expected_seq}..{ev.seq - 1} are missing"
                if ev.seq > expected_seq
                else "out of order"
            )
            report.problems.append(Problem(ev.seq, f"{gap} (deleted or renumbered)"))
        hashes[ev.seq] = ev.hash
        if sha256_hex(ev.body.encode()) != ev.hash:
            report.problems.append(Problem(ev.seq, "its contents were changed (hash mismatch)"))
        body = _parse(ev.body)
        if body is None:
            report.problems.append(Problem(ev.seq, "its sealed body is not JSON"))
        else:
            if body.get("seq") != ev.seq:
                report.problems.append(
                    Problem(ev.seq, f"it was sealed as event {body.get('seq')} (moved)")
                )
            for column in _COLUMNS:
                if body.get(column) != getattr(ev, column):
                    report.problems.append(
                        Problem(ev.seq, f"column {column} differs from the sealed record")
                    )
            if body.get("prev") != ev.prev_hash:
                report.problems.append(
                    Problem(ev.seq, "column prev_hash differs from the sealed record")
                )
        if ev.prev_hash != prev:
            report.problems.append(
                Problem(ev.seq, "it does not follow the event before it (broken link)")
            )
        if not ev.signature:
            report.problems.append(Problem(ev.seq, "it is not signed"))
        elif not _signed_by(key, ev.key_id, ev.hash.encode(), ev.signature):
            report.problems.append(
                Problem(ev.seq, "its signature does not verify with the store's audit key")
            )
        expected_seq, prev = ev.seq + 1, ev.hash
    return hashes


def _signed_by(key: PublicKey | None, key_id: str | None, data: bytes, signature: str) -> bool:
    return key is not None and key_id == key.key_id and key.verify(data, signature)


def _check_checkpoints(
    checkpoints: list[Checkpoint],
    key: PublicKey | None,
    hashes: dict[int, str],
    report: VerifyReport,
) -> None:
    report.checkpoints = len(checkpoints)
    last_seq = max(hashes, default=0)
    for cp in checkpoints:
        if not _signed_by(key, cp.key_id, cp.message(), cp.signature):
            report.problems.append(Problem(cp.seq, "its checkpoint signature does not verify"))
            continue
        report.checkpoint_seq = max(report.checkpoint_seq, cp.seq)
        stored = hashes.get(cp.seq)
        if stored is None:
            report.problems.append(
                Problem(
                    cp.seq,
                    f"it was checkpointed but is no longer in the store (chain ends at {last_seq})",
                )
            )
        elif stored != cp.hash:
            report.problems.append(
                Problem(
                    cp.seq,
                    "it differs from the checkpoint taken when it was written (edited, or "
                    "another copy of this store, or a restored backup, went on from here)",
                )
            )


def _check_other_chains(
    checkpoints: list[Checkpoint], key: PublicKey | None, report: VerifyReport
) -> None:
    # Checkpoints of another chain that this chain's own key signed: where a key signs one
    # chain only, the chain was rewritten from event 1 on, and the real one is recorded.
    chains = sorted(
        {cp.chain for cp in checkpoints if _signed_by(key, cp.key_id, cp.message(), cp.signature)}
    )
    for chain in chains:
        report.problems.append(
            Problem(
                None,
                f"key {report.key_id} also signed checkpoints of another chain, whose event 1 "
                f"is {chain[:12]}: this chain was rewritten from event 1 on, or the key signs "
                "another store too",
            )
        )


def _parse(body: str) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _payloads(events: list[AuditEventRecord]) -> Iterator[tuple[int, dict[str, Any]]]:
    for ev in events:
        body = _parse(ev.body) or {}
        yield ev.seq, {**body, "payload": body.get("payload") or {}}


def _check_state(
    ws: Workspace,
    events: list[AuditEventRecord],
    payloads: dict[int, dict[str, Any]],
    report: VerifyReport,
) -> None:
    # The chain is only worth checking if the registry says what the chain says: a version
    # pointing at other bytes, or an alias moved without an event, is tampering too.
    registered: dict[str, str] = {}
    aliases: dict[str, int | None] = {}
    for ev in events:
        body = payloads[ev.seq]
        if body.get("action") == "model.registered":
            registered[str(body.get("subject"))] = str(body["payload"].get("digest"))
        elif body.get("action") == "alias.moved":
            aliases[str(body.get("subject"))] = body["payload"].get("version")
    since = ws.metadata.audit_since()
    for version in ws.metadata.model_versions():
        if version.created_at < since:
            report.unaudited += 1  # registered before this store had an audit chain
            continue
        subject = f"model:{version.name}@{version.version}"
        if subject not in registered:
            report.problems.append(Problem(None, f"{subject[6:]} has no registration in the chain"))
        elif registered[subject] != version.digest:
            report.problems.append(
                Problem(None, f"{subject[6:]} points at other bytes than the chain registered")
            )
    current = {f"model:{a.name}@{a.alias}": a.version for a in ws.metadata.aliases()}
    for subject in sorted(set(current) | {s for s, v in aliases.items() if v is not None}):
        if current.get(subject) != aliases.get(subject):
            report.problems.append(
                Problem(
                    None,
                    f"{subject[6:]} is version {current.get(subject)} but the chain says "
                    f"{aliases.get(subject)}",
                )
            )


def _check_artifacts(
    ws: Workspace, payloads: dict[int, dict[str, Any]], report: VerifyReport
) -> None:
    first_seen: dict[str, int] = {}
    deleted: dict[str, int] = {}  # bytes removed on purpose, with the event saying so
    for seq, body in payloads.items():
        payload = body["payload"]
        if body.get("action") == "artifact.deleted":
            deleted[str(body.get("subject", "")).removeprefix("artifact:")] = seq
        for group in ("inputs", "outputs"):
            for digest in (payload.get(group) or {}).values():
                first_seen.setdefault(str(digest), seq)
        if body.get("action") == "model.registered" and payload.get("digest"):
            first_seen.setdefault(str(payload["digest"]), seq)
    for digest, seq in sorted(first_seen.items(), key=lambda item: item[1]):
        actual = ws.artifacts.actual_digest(digest)
        report.artifacts += 1
        if actual is None and deleted.get(digest, 0) > seq:
            continue
        if actual is None:
            report.problems.append(Problem(seq, f"artifact {digest[:12]} it names has no bytes"))
        elif actual != digest:
            report.problems.append(
                Problem(
                    seq,
                    f"artifact {digest[:12]} it names was altered (bytes hash to {actual[:12]})",
                )
            )
