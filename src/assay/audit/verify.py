"""Checking the audit chain: links, hashes, signatures, checkpoints and artifact bytes."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import Any

from assay.anchor import Checkpoint, PublicKey
from assay.chain import (
    Projection,
    changed_tables,
    event_problems,
    project,
    sealed,
    table_differences,
)
from assay.metadata import GENESIS, AuditEventRecord
from assay.metadata.chain import SEALED_TABLES
from assay.workspace import Workspace, chain_of

__all__ = ["Problem", "VerifyReport", "verify_chain"]


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

    verified_at: float = 0.0
    """When the check ran (seconds since the epoch)."""
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
            "verified_at": self.verified_at,
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

    The chain names its key (its first signed event's key id) and, with event 1's hash,
    its checkpoints, so the anchors are found wherever the store is. A chain with no events
    needs no key.

    The database is read in one snapshot (:meth:`~assay.metadata.MetadataStore.snapshot`),
    so a writer committing meanwhile never makes the events, the head and the tables
    disagree. The anchors outside it, which are written only after the events they name
    commit, are read just before it: each then names only events the snapshot holds.

    Raises:
        AuditError: the public key or the checkpoints cannot be read at all.
    """
    names = ws.metadata.chain_names()
    for _ in range(_ATTEMPTS):
        anchors = _Anchors.read(ws, *names)
        with ws.metadata.snapshot() as metadata:
            events = metadata.audit_events()
            names = _names(events)
            if names == (anchors.key_id, anchors.first):
                return _verify_once(replace(ws, metadata=metadata), events, anchors, artifacts)
        # The chain began (its event 1 was written) after its names were read: read its own.
    # It began anew between every two reads, which only tampering does this often: its
    # anchors as they are now, which may name events written after the snapshot.
    with ws.metadata.snapshot() as metadata:
        events = metadata.audit_events()
        anchors = _Anchors.read(ws, *_names(events))
        return _verify_once(replace(ws, metadata=metadata), events, anchors, artifacts)


# How often verify reads the chain's names again when a chain begins while it reads.
_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class _Anchors:
    """What vouches for a chain from outside the database: its key, its checkpoints (with
    those of other chains its key signed), and the chain the artifact store names."""

    key_id: str
    first: str
    key: PublicKey | None
    checkpoints: list[Checkpoint]
    owner: dict[str, str] | None

    @classmethod
    def read(cls, ws: Workspace, key_id: str, first: str) -> _Anchors:
        """The anchors of the chain whose first signed event carries ``key_id`` and whose
        first event has hash ``first``."""
        key = ws.anchor.public_key(key_id) if key_id else None
        return cls(key_id, first, key, ws.anchor.checkpoints(key_id, first), chain_of(ws.artifacts))


def _names(events: list[AuditEventRecord]) -> tuple[str, str]:
    # What names a chain outside the store, as MetadataStore.chain_names finds it.
    key_id = next((ev.key_id for ev in events if ev.key_id), "")
    return key_id, events[0].hash if events else ""


def _verify_once(
    ws: Workspace, events: list[AuditEventRecord], anchors: _Anchors, artifacts: bool
) -> VerifyReport:
    # ``ws`` reads one snapshot of the database, and ``events`` are its events.
    report = VerifyReport(verified_at=time.time())
    report.events = len(events)
    key_id, first, key = anchors.key_id, anchors.first, anchors.key
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
    checkpoints = anchors.checkpoints
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
    _check_owner(anchors.owner, first, report)
    found = project(sealed(e) for e in events)
    _check_tables(ws, events, found, report)
    if artifacts:
        _check_artifacts(ws, found, report)
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
        report.problems += [Problem(ev.seq, p) for p in event_problems(ev, key)]
        if ev.prev_hash != prev:
            report.problems.append(
                Problem(ev.seq, "it does not follow the event before it (broken link)")
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


def _check_owner(named: dict[str, str] | None, first: str, report: VerifyReport) -> None:
    # The artifact store names the chain its database holds: another (or none at all, over
    # an artifact store that names one) means the database was lost or replaced.
    if named is None or named.get("first") == first:
        return
    owner = named.get("first", "")[:12]
    chain = f"the audit chain of key {named.get('key_id')} whose event 1 is {owner}"
    held = "has no audit events" if not first else f"holds a chain whose event 1 is {first[:12]}"
    report.problems.append(
        Problem(
            None,
            f"the database {held}, but the artifact store belongs to {chain}: the database "
            "was lost or replaced (`assay audit new-chain` records a new chain on purpose)",
        )
    )


def _check_tables(
    ws: Workspace, events: list[AuditEventRecord], found: Projection, report: VerifyReport
) -> None:
    # The chain is only worth checking if the tables say what it says: a version pointing at
    # other bytes, a verdict turned to passed, a role or run inserted or deleted behind its
    # back is tampering too.
    since = ws.metadata.audit_since()
    report.unaudited = sum(1 for v in ws.metadata.model_versions() if v.created_at < since)
    for difference in table_differences(ws, found, SEALED_TABLES):
        report.problems.append(Problem(difference.seq, f"{difference.row}: {difference.message}"))
    head = sealed(events[-1]) if events else None
    if head is not None and head.state is not None:
        changed = changed_tables(ws, head.state)
        which = (
            f"the tables {', '.join(changed)}"
            if changed
            else "the governance tables (and the digests kept beside the head)"
        )
        if changed != []:
            report.problems.append(
                Problem(
                    None,
                    f"{which} differ from the governance state that event {head.seq} seals: "
                    "they were changed outside assay",
                )
            )


def _check_artifacts(ws: Workspace, found: Projection, report: VerifyReport) -> None:
    named = dict(found.named)
    for digest in sorted(found.folders | _folders(ws, named), key=lambda d: named.get(d, 0)):
        seq = named.get(digest, 0)
        for member in _members(ws, digest, seq, report):
            named.setdefault(member, seq)
    for digest, seq in sorted(named.items(), key=lambda item: item[1]):
        actual = ws.artifacts.actual_digest(digest)
        report.artifacts += 1
        if actual is None and found.deleted.get(digest, 0) > seq:
            continue  # bytes removed on purpose, with the event saying so
        if actual is None:
            report.problems.append(Problem(seq, f"artifact {digest[:12]} it names has no bytes"))
        elif actual != digest:
            report.problems.append(
                Problem(
                    seq,
                    f"artifact {digest[:12]} it names was altered (bytes hash to {actual[:12]})",
                )
            )


def _folders(ws: Workspace, named: dict[str, int]) -> set[str]:
    # Folders named by events of an earlier version, which did not seal their kind.
    rows = ws.metadata.sealed_rows("artifacts")
    return {r["digest"] for r in rows if r["kind"] == "folder" and r["digest"] in named}


def _members(ws: Workspace, digest: str, seq: int, report: VerifyReport) -> list[str]:
    # A folder input is its manifest: the chain depends on every file the manifest names.
    data = ws.artifacts.intact_bytes(digest)
    if data is None:
        return []  # missing or altered: the manifest's own check names it
    try:
        manifest = json.loads(data)
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or not all(isinstance(v, str) for v in manifest.values()):
        report.problems.append(Problem(seq, f"folder {digest[:12]} it names is not a manifest"))
        return []
    return sorted(set(manifest.values()))
