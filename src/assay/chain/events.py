"""Audit events read back and checked: each one's hash, sealed columns and signature, and
the chain's extent against its head and its newest checkpoint outside the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assay.anchor import PublicKey
from assay.core import loads_json, sha256_hex
from assay.errors import TamperedError
from assay.metadata import AuditEventRecord
from assay.metadata.head import TAMPER_HINT
from assay.workspace import Workspace

__all__ = [
    "Head",
    "SealedEvent",
    "check_head",
    "event_problems",
    "parse_body",
    "read_sealed",
    "sealed",
]

# The columns of an event row that its sealed body repeats.
_COLUMNS = ("at", "actor", "action", "subject")


@dataclass(frozen=True, slots=True)
class SealedEvent:
    """One audit event as its sealed body says, which no edit of the row can change."""

    seq: int
    at: float
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    state: str | None = None
    """The digest of the governance state as of this event (None: it seals none)."""
    via: dict[str, str] | None = None
    """How the actor's identity was established (None: declared, as on a laptop)."""


@dataclass(frozen=True, slots=True)
class Head:
    """The head of a chain found whole: its number and hash, the governance state its event
    seals (None: none), the digests kept beside it, and the id of the chain's key."""

    seq: int
    hash: str
    state: str | None
    kept: dict[str, str]
    key_id: str


def parse_body(body: str) -> dict[str, Any] | None:
    """The sealed body of an event as a dict (NaN and inf restored), or None when it is not
    a JSON object."""
    try:
        value = loads_json(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def sealed(event: AuditEventRecord) -> SealedEvent:
    """What ``event``'s body seals (an unreadable body seals nothing: an empty payload)."""
    body = parse_body(event.body) or {}
    payload, state, via = body.get("payload"), body.get("state"), body.get("via")
    return SealedEvent(
        seq=event.seq,
        at=float(body.get("at") or 0),
        actor=str(body.get("actor") or ""),
        action=str(body.get("action") or ""),
        subject=str(body.get("subject") or ""),
        payload=payload if isinstance(payload, dict) else {},
        state=state if isinstance(state, str) and state else None,
        via={str(k): str(v) for k, v in via.items()} if isinstance(via, dict) else None,
    )


def event_problems(event: AuditEventRecord, key: PublicKey | None) -> list[str]:
    """What is wrong with one stored event on its own: its hash, its body against its
    columns, its signature (links between events are the caller's to check)."""
    problems = []
    if sha256_hex(event.body.encode()) != event.hash:
        problems.append("its contents were changed (hash mismatch)")
    body = parse_body(event.body)
    if body is None:
        problems.append("its sealed body is not JSON")
    else:
        if body.get("seq") != event.seq:
            problems.append(f"it was sealed as event {body.get('seq')} (moved)")
        for column in _COLUMNS:
            if body.get(column) != getattr(event, column):
                problems.append(f"column {column} differs from the sealed record")
        if body.get("prev") != event.prev_hash:
            problems.append("column prev_hash differs from the sealed record")
    if not event.signature:
        problems.append("it is not signed")
    elif (
        key is None
        or event.key_id != key.key_id
        or not key.verify(event.hash.encode(), event.signature)
    ):
        problems.append("its signature does not verify with the store's audit key")
    return problems


def check_head(ws: Workspace) -> Head | None:
    """The head of ``ws``'s chain, once the chain is found whole enough for a decision to
    rest on, as a writer finds it before appending (see
    :meth:`~assay.metadata.MetadataStore.checked_head`); None for a chain with no events.

    A forged, edited or deleted head or event 1, a chain emptied or swapped, or a tail cut
    off is refused here; what the head seals (the governance state) then vouches for the
    tables (see :mod:`assay.chain.state`).

    Raises:
        TamperedError: the chain is not whole.
        AuditError: the artifacts belong to another chain (a lost or replaced database), or
            the chain's key or checkpoints cannot be read.
    """
    head = ws.metadata.checked_head()
    if head.seq == 0:
        return None
    return Head(head.seq, head.hash, head.sealed, head.kept, head.key_id or "")


def _refuse_broken(events: Sequence[AuditEventRecord], key: PublicKey) -> None:
    for event in events:
        problems = event_problems(event, key)
        if problems:
            raise TamperedError(
                f"audit event {event.seq} ({event.action} {event.subject}): {problems[0]}",
                hint=TAMPER_HINT,
            )


def read_sealed(
    ws: Workspace, subjects: Sequence[str], actions: Sequence[str] | None = None
) -> list[SealedEvent]:
    """The events about ``subjects`` (of ``actions`` only, if given), each checked, on a
    chain :func:`check_head` finds whole.

    The events are found by the columns that name their subject, so one whose columns were
    edited may be missed: ask this for facts whose absence is refused (the run a version
    came from), and rest facts whose absence matters (a revoked role) on the sealed state.

    Raises:
        TamperedError: the chain is not whole, or an event was changed.
        AuditError: the chain's key or checkpoints cannot be read.
    """
    head = check_head(ws)
    if head is None:
        return []
    found = ws.metadata.audit_events_about(subjects, actions)
    _refuse_broken(found, ws.anchor.public_key(head.key_id))
    return [sealed(e) for e in found]
