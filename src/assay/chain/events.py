"""Audit events read back and checked: each one's hash, sealed columns and signature, and
the chain's extent against its head and its newest checkpoint outside the store."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assay.anchor import PublicKey
from assay.core import loads_json, sha256_hex
from assay.errors import TamperedError
from assay.metadata import AuditEventRecord
from assay.metadata.head import kept_state
from assay.workspace import Workspace, chain_of

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

_HINT = (
    "the database was changed outside assay: `assay audit verify` lists every difference; "
    "restore the database from a backup taken before the change"
)


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


@dataclass(frozen=True, slots=True)
class Head:
    """The head of a chain found whole: its number, the governance state its event seals
    (None: none) and the digests kept beside it, and the key its events verify with."""

    seq: int
    hash: str
    state: str | None
    kept: dict[str, str]
    key: PublicKey


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
    payload, state = body.get("payload"), body.get("state")
    return SealedEvent(
        seq=event.seq,
        at=float(body.get("at") or 0),
        actor=str(body.get("actor") or ""),
        action=str(body.get("action") or ""),
        subject=str(body.get("subject") or ""),
        payload=payload if isinstance(payload, dict) else {},
        state=state if isinstance(state, str) and state else None,
    )


def event_problems(event: AuditEventRecord, key: PublicKey | None) -> list[str]:
    """What is wrong with one stored event on its own: its hash, its body against its
    columns, its signature (links between events are the caller's to check)."""
    problems = []
    if sha256_hex(event.body.encode()) != event.hash:
        problems.append("its contents were changed (hash mismatch)")
    body = _json(event.body)
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


def _json(body: str) -> dict[str, Any] | None:
    # The raw body, NaN left spelled out: the columns compared here are plain text and numbers.
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def check_head(ws: Workspace) -> Head | None:
    """The head of ``ws``'s chain, once the chain is found whole enough for a decision to
    rest on: as many events as the head names, the head event intact and signed with the
    chain's key, and the chain reaching its newest checkpoint outside the store. None for a
    chain with no events.

    A forged, edited or deleted head, or a tail cut off, is refused here; what the head
    seals (the governance state) then vouches for the tables (see :mod:`assay.chain.state`).

    Raises:
        TamperedError: the chain is not whole.
        AuditError: the chain's key or checkpoints cannot be read.
    """
    known = ws.metadata.known_head()
    if known is not None and known.first:
        key_id, first = known.key_id or "", known.first
    else:
        key_id, first = ws.metadata.chain_origin()
    # The artifact store names the chain its database must hold: a chain emptied, swapped
    # for another or with its event 1 edited is found against it, and its checkpoints are
    # looked up by the name the store gives, not by what the database now says.
    named = chain_of(ws.artifacts) or {}
    owner = named.get("first", "")
    if owner and first and owner != first:
        raise TamperedError(
            f"the database holds an audit chain whose event 1 is {first[:12]}, but the "
            f"artifact store belongs to the chain whose event 1 is {owner[:12]}: the database "
            "was replaced, or its event 1 changed, outside assay",
            hint=_HINT,
        )
    first = owner or first
    key_id = key_id or named.get("key_id", "")
    # The checkpoint before the head: checkpoints are written after their events commit, so
    # a head read afterwards is never behind a checkpoint unless events were cut off.
    latest = ws.anchor.latest_checkpoint(key_id, first) if key_id and first else None
    trusted = (known.seq, known.hash) if known is not None else None
    (head, head_hash, head_key, count, top), kept_text, ends = ws.metadata.audit_tail(
        [1] + ([latest.seq] if latest is not None else []), unless=trusted
    )
    if (count, top) != (head, head):
        raise TamperedError(
            f"the audit chain holds {count} events up to event {top}, but its head names "
            f"event {head}: events were removed or added outside assay",
            hint=_HINT,
        )
    if head == 0:
        ws.anchor.begin_chain()  # the artifact store names a chain: the database was lost
        if latest is not None or owner:
            seen = f", checkpointed up to event {latest.seq}" if latest is not None else ""
            raise TamperedError(
                f"the database holds no audit events, but the artifact store belongs to the "
                f"chain whose event 1 is {(owner or first)[:12]}{seen}: its events were "
                "removed, or the database was lost",
                hint="restore the database from a backup; `assay audit new-chain` begins a "
                "new chain on purpose",
            )
        return None
    key = ws.anchor.public_key(head_key or key_id)
    if latest is not None and key.verify(latest.message(), latest.signature):
        if latest.seq > head:
            raise TamperedError(
                f"the audit chain ends at event {head}, but a checkpoint outside the store "
                f"names event {latest.seq}: events were cut off the end (or the database was "
                "restored from an older copy)",
                hint=_HINT,
            )
        at = (
            head_hash if latest.seq == head else ends[latest.seq].hash if latest.seq in ends else ""
        )
        if at != latest.hash:
            raise TamperedError(
                f"audit event {latest.seq} differs from the checkpoint taken when it was written",
                hint=_HINT,
            )
    start = ends.get(1)
    if start is None or (first and start.hash != first):
        raise TamperedError("audit event 1 was changed or removed outside assay", hint=_HINT)
    _refuse_broken([start], key)
    if trusted == (head, head_hash) and known is not None:
        # This process wrote the head: what it sealed is known, whatever the rows say now.
        return Head(head, head_hash, known.sealed, known.kept, key)
    last = ends.get(head)
    if last is None or last.hash != head_hash:
        raise TamperedError("the audit chain's head row names another event", hint=_HINT)
    _refuse_broken([last], key)
    return Head(head, head_hash, sealed(last).state, kept_state(kept_text), key)


def _refuse_broken(events: Sequence[AuditEventRecord], key: PublicKey) -> None:
    for event in events:
        problems = event_problems(event, key)
        if problems:
            raise TamperedError(
                f"audit event {event.seq} ({event.action} {event.subject}): {problems[0]}",
                hint=_HINT,
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
    _refuse_broken(found, head.key)
    return [sealed(e) for e in found]
