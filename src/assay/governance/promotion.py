"""Moving aliases: gates for staging and production, four-eyes approval, rollback, history."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from assay.chain import read_sealed
from assay.errors import GovernanceError, PermissionDenied, TamperedError
from assay.governance.roles import require
from assay.metadata import (
    AliasMoveRecord,
    GateVerdictRecord,
    ModelVersionRecord,
    PromotionRequestRecord,
    ReviewRecord,
)
from assay.metadata.governance import no_request
from assay.metadata.head import TAMPER_HINT
from assay.metadata.state import STATE_TABLES
from assay.registry import check_alias, known_model, resolve
from assay.workspace import Workspace

__all__ = [
    "GATED_ALIASES",
    "UNSET",
    "alias_at",
    "approvals_needed",
    "history",
    "latest_verdict",
    "parse_when",
    "promote",
    "request_promotion",
    "review",
    "rollback",
]

GATED_ALIASES = ("staging", "production")
"""Aliases a version may only take after passing its gates."""


class Unset:
    """The type of ``UNSET``: no expectation given."""


UNSET = Unset()


def latest_verdict(ws: Workspace, version: ModelVersionRecord) -> GateVerdictRecord | None:
    """The newest gate verdict on ``version``, or None when its gates never ran."""
    found = ws.metadata.verdicts(version.name, version.version)
    return found[-1] if found else None


def approvals_needed(verdict: GateVerdictRecord | None, alias: str) -> int:
    """How many approvals moving to ``alias`` takes under the policy the verdict recorded."""
    approval: dict[str, Any] = (verdict.policy if verdict else {}).get("approval") or {}
    aliases = approval.get("aliases", ["production"])
    return int(approval.get("approvers", 1)) if alias in aliases or alias == "production" else 0


def _require_passed(ws: Workspace, version: ModelVersionRecord, alias: str) -> GateVerdictRecord:
    verdict = latest_verdict(ws, version)
    ref = f"{version.name}@{version.version}"
    if verdict is None:
        raise GovernanceError(
            f"{ref} cannot move to {alias}: its gates have not been checked",
            hint="add the check_gates step to the pipeline and run it",
        )
    if not verdict.passed:
        failed = [r["gate"] for r in verdict.results if not r.get("passed")]
        raise GovernanceError(
            f"{ref} cannot move to {alias}: it failed its gates ({'; '.join(failed)})",
            hint="train a version that passes; `assay models show` lists the evidence",
        )
    return verdict


def request_promotion(
    ws: Workspace, ref: str, alias: str = "production", comment: str = ""
) -> PromotionRequestRecord:
    """Ask for ``ref`` to become ``alias``; approvers then review the request.

    Raises:
        GovernanceError: the version failed (or never ran) its gates, or a request for it
            is already open.
    """
    check_alias(alias)
    require(ws, "developer", "request promotions", reads=STATE_TABLES)
    version = resolve(ws, ref)
    verdict = _require_passed(ws, version, alias) if alias in GATED_ALIASES else None
    verdict = verdict or latest_verdict(ws, version)
    if not approvals_needed(verdict, alias):
        raise GovernanceError(
            f"moving {version.name}@{version.version} to {alias} needs no approval",
            hint=f"move it with `assay models promote {version.name}@{version.version} "
            f"--to {alias}`",
        )
    request = PromotionRequestRecord(
        id=uuid.uuid4().hex,
        name=version.name,
        version=version.version,
        alias=alias,
        status="open",
        required=approvals_needed(verdict, alias),
        requested_by=ws.user,
        requested_at=datetime.now(UTC).timestamp(),
        comment=comment,
    )
    return ws.metadata.open_request(request)  # refuses one while another is open


def _find_request(ws: Workspace, ref: str, alias: str, status: str) -> PromotionRequestRecord:
    version = resolve(ws, ref)
    found = [
        r for r in ws.metadata.requests(version.name, version.version, status) if r.alias == alias
    ]
    if not found:
        raise no_request(version.name, version.version, alias, status)
    return found[-1]


def review(
    ws: Workspace, ref: str, *, approve: bool, comment: str, alias: str = "production"
) -> PromotionRequestRecord:
    """Approve or reject the open request to make ``ref`` ``alias``.

    Four eyes: the reviewer holds the approver role and is neither who trained the version
    nor who asked for the promotion.

    Raises:
        PermissionDenied: the reviewer lacks the role, trained the version or asked for it.
        GovernanceError: no open request (or another review or a move closed it meanwhile),
            the reviewer already reviewed it, or a rejection without a comment.
    """
    check_alias(alias)
    require(ws, "approver", "approve or reject promotions", reads=STATE_TABLES)
    request = _find_request(ws, ref, alias, "open")
    version = resolve(ws, f"{request.name}@{request.version}")
    subject = f"{request.name}@{request.version}"
    if ws.user in {version.created_by, _trainer(ws, version)}:
        raise PermissionDenied(
            f"{ws.user} trained {subject} and may not review its promotion",
            hint="four eyes: another approver reviews it",
        )
    if ws.user == request.requested_by:
        raise PermissionDenied(
            f"{ws.user} asked for the promotion of {subject} and may not review it",
            hint="four eyes: another approver reviews it",
        )
    if not approve and not comment.strip():
        raise GovernanceError("a rejection needs a reason", hint="add --comment 'why'")
    # The store decides the request's new status from its approvals as they are when the
    # review is written, and refuses it if another review or a move closed the request.
    ws.metadata.add_review(
        ReviewRecord(
            request_id=request.id,
            reviewer=ws.user,
            decision="approve" if approve else "reject",
            comment=comment,
            at=datetime.now(UTC).timestamp(),
        )
    )
    return ws.metadata.get_request(request.id)


def _trainer(ws: Workspace, version: ModelVersionRecord) -> str:
    # Who ran the run that made the version, as its sealed run.started event says: the runs
    # table is not among the governance tables the chain's state vouches for.
    run = ws.metadata.get_run(version.run_id)
    started = read_sealed(ws, [f"run:{run.id}"], ["run.started"])
    if not started:
        if run.started_at < ws.metadata.audit_since():
            return run.user  # a run from before this store had an audit chain
        raise TamperedError(
            f"the audit chain has no record of run {run.id[:12]}, which made "
            f"{version.name}@{version.version}: the database was changed outside assay",
            hint=TAMPER_HINT,
        )
    user = str(started[0].payload.get("user") or started[0].actor)
    if user != run.user:
        raise TamperedError(
            f"run {run.id[:12]} is recorded as {run.user}'s, but the audit chain says {user} "
            "started it: the database was changed outside assay",
            hint=TAMPER_HINT,
        )
    return user


def promote(
    ws: Workspace,
    ref: str,
    alias: str,
    reason: str = "",
    *,
    automatic: bool = False,
    expected: int | Unset | None = UNSET,
) -> AliasMoveRecord:
    """Point ``alias`` at ``ref``: ``staging`` and ``production`` need passed gates, and
    aliases the policy names (``production`` always) need an approved request.

    ``automatic``: a move a retraining makes without a person. Where the alias needs
    approval it is allowed only if ``approval.automatic`` lists the alias both in the
    policy recorded with the version's verdict and in the one recorded with the verdict of
    the version the alias holds now, which a person approved: a candidate's own run cannot
    waive four eyes by itself. The reason then starts with ``automatic:``.

    ``expected``: the version the caller saw the alias hold (None: none); when it holds
    another now, nothing moves (a move from a stale page).

    Raises:
        GovernanceError: gates failed or never ran, no approved request (or, automatic, the
            policies do not allow it; or another move spent the request meanwhile), or the
            alias moved meanwhile (or since ``expected``).
    """
    check_alias(alias)
    require(ws, "developer", "move aliases", reads=STATE_TABLES)
    version = resolve(ws, ref)
    verdict = _require_passed(ws, version, alias) if alias in GATED_ALIASES else None
    verdict = verdict or latest_verdict(ws, version)
    current = ws.metadata.alias_version(version.name, alias)
    if not isinstance(expected, Unset) and current != expected:
        raise _moved_since(ws, version.name, alias, expected)
    request_id = None
    if approvals_needed(verdict, alias):
        if not automatic:
            request_id = _find_request(ws, ref, alias, "approved").id
        elif not _allows_automatic(ws, version.name, current, verdict, alias):
            raise GovernanceError(
                f"{version.name}@{version.version} may not move to {alias} without approval",
                hint=f"list {alias} under approval.automatic in the model's policy (for the "
                "version it holds now too), or ask for a review with `assay models "
                "request-promotion`",
            )
    if automatic:
        reason = f"automatic: {reason}"
    return ws.metadata.move_alias(
        version.name,
        alias,
        version.version,
        by=ws.user,
        reason=reason or ("approved promotion" if request_id else "promoted"),
        expected=current,
        request_id=request_id,
    )


def _allows_automatic(
    ws: Workspace,
    name: str,
    current: int | None,
    verdict: GateVerdictRecord | None,
    alias: str,
) -> bool:
    held = ws.metadata.model_version(name, current) if current is not None else None
    for found in (verdict, latest_verdict(ws, held) if held else None):
        approval = (found.policy if found else {}).get("approval") or {}
        if alias not in approval.get("automatic", []):
            return False
    return True


def _moved_since(ws: Workspace, name: str, alias: str, expected: int | None) -> GovernanceError:
    last = history(ws, name, alias)
    seen = f"{name}@{expected}" if expected is not None else "nothing"
    if not last:
        return GovernanceError(f"{name}@{alias} is not set, not {seen} as expected")
    move = last[-1]
    now = f"{name}@{move.version}" if move.version is not None else "nothing"
    when = datetime.fromtimestamp(move.moved_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return GovernanceError(
        f"{name}@{alias} points at {now} now, not {seen}: {move.moved_by} moved it at {when}"
        + (f" ({move.reason})" if move.reason else ""),
        hint="look at the model again and decide on what it holds now",
    )


def rollback(
    ws: Workspace, name: str, alias: str = "production", reason: str = ""
) -> AliasMoveRecord:
    """Point ``alias`` back at the version it held before the current one.

    That version already passed the same review to hold the alias, so no new approval is
    asked; the reason is required and recorded.

    Raises:
        GovernanceError: the alias has no earlier version, or no reason is given.
    """
    check_alias(alias)
    require(ws, "developer", "roll back aliases", reads=STATE_TABLES)
    if not reason.strip():
        raise GovernanceError("a rollback needs a reason", hint="add --reason 'why'")
    known_model(ws, name)
    current = ws.metadata.alias_version(name, alias)
    earlier = [
        m.version
        for m in ws.metadata.alias_moves(name, alias)
        if m.version is not None and m.version != current
    ]
    if current is None or not earlier:
        raise GovernanceError(
            f"{name}@{alias} has no earlier version to roll back to",
            hint=f"`assay models history {name} --alias {alias}` shows its history",
        )
    return ws.metadata.move_alias(
        name, alias, earlier[-1], by=ws.user, reason=f"rollback: {reason}", expected=current
    )


def parse_when(text: str) -> float:
    """A moment from ``YYYY-MM-DD`` (the end of that day, UTC) or an ISO date-time (UTC
    unless it names its zone).

    Raises:
        GovernanceError: the text is neither.
    """
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.max, tzinfo=UTC).timestamp()
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise GovernanceError(
            f"cannot read {text!r} as a date", hint="write 2026-03-01 or 2026-03-01T14:30"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def history(
    ws: Workspace, name: str, alias: str | None = None, at: float | None = None
) -> list[AliasMoveRecord]:
    """Every move of ``name``'s aliases (or one alias) up to ``at``, oldest first."""
    known_model(ws, name)
    return ws.metadata.alias_moves(name, alias, until=at)


def alias_at(ws: Workspace, name: str, alias: str, at: float) -> AliasMoveRecord | None:
    """The move that put ``alias`` where it was at moment ``at`` (None: it was unset)."""
    moves = history(ws, name, alias, at)
    return moves[-1] if moves and moves[-1].version is not None else None
