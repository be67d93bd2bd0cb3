"""``assay models show|history|request-promotion|approve|reject|promote|rollback`` and
``assay users``: the registry's governance from the command line."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer

from assay.cli import output
from assay.client import Team
from assay.governance import ROLES, Identified, identity, parse_when
from assay.metadata import AliasMoveRecord, ModelVersionRecord
from assay.registry import recorded_signature

__all__ = ["users"]

users = typer.Typer(no_args_is_help=True)

_Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
_To = Annotated[str, typer.Option("--to", help="Alias to move (default: production).")]


def _serving(serving: Any) -> str:
    if not isinstance(serving, dict):
        return "the model (registered before compiled forms; compiled when served if it can be)"
    if serving.get("form") == "compiled":
        return f"compiled ({serving.get('format')}): served without scikit-learn"
    return f"the model itself: {serving.get('reason', 'not compiled')}"


def _signature(version: ModelVersionRecord) -> str:
    found = recorded_signature(version)
    if found is None:
        return "not recorded (registered before signatures; inferred from the model when loaded)"
    return found.describe()


def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME@VERSION, NAME@ALIAS or NAME@latest.")],
    as_json: _Json = False,
) -> None:
    """Show a model version: its aliases, gate verdict with evidence, and promotion requests."""
    with output.team(ctx.obj, create=False) as team:
        shown = team.version(ref)
    version, verdict, aliases = shown.version, shown.verdict, shown.aliases
    requests, retrained = shown.requests, shown.retrain
    if as_json:
        output.print_json(
            {
                "version": asdict(version),
                "aliases": aliases,
                "verdict": asdict(verdict) if verdict else None,
                "requests": [asdict(r) for r in requests],
                "retrain": asdict(retrained) if retrained else None,
            }
        )
        return
    con = output.console()
    con.print(
        output.table(
            f"{version.name}@{version.version}",
            ["field", "value"],
            [
                ("artifact", version.digest),
                ("run", version.run_id),
                ("registered", f"{output.when(version.created_at)} by {version.created_by}"),
                *(
                    [("retrained", f"retraining {retrained.id}: {retrained.outcome.get('cause')}")]
                    if retrained
                    else []
                ),
                ("aliases", ", ".join(aliases) or "none"),
                ("serving form", _serving(version.info.get("serving"))),
                ("signature", _signature(version)),
                (
                    "gates",
                    "not checked"
                    if verdict is None
                    else ("passed" if verdict.passed else "FAILED"),
                ),
            ],
        )
    )
    if verdict is not None:
        rows = [
            ("pass" if r["passed"] else "FAIL", r["gate"], r["detail"]) for r in verdict.results
        ]
        con.print(output.table("gates", ["", "gate", "evidence"], rows))
    for r in requests:
        reviews = "; ".join(f"{v.reviewer} {v.decision}d: {v.comment}" for v in r.reviews)
        con.print(
            f"request {r.id[:12]} to {r.alias}: {r.status} ({len(r.reviews)} of {r.required} "
            f"reviews) asked by {r.requested_by}"
            + (f" — {output.escape(reviews)}" if reviews else "")
        )


def history_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    alias: Annotated[str | None, typer.Option("--alias", help="Only this alias.")] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Where the alias pointed at this moment (YYYY-MM-DD: end of that day, UTC).",
        ),
    ] = None,
    as_json: _Json = False,
) -> None:
    """The history of a model's aliases: who moved which alias to which version, when and why.

    With --alias and --at it answers "which version was in production on 2026-03-01, and
    who put it there".
    """
    moment = parse_when(at) if at else None
    with output.team(ctx.obj, create=False) as team:
        moves, ids = team.history(name, alias, at)
        if moment is not None and alias is not None:
            move = moves[-1] if moves and moves[-1].version is not None else None
            approvers = _approvers(team, move.request_id, name) if move and move.request_id else []
            if as_json:
                output.print_json(
                    {
                        "at": moment,
                        "move": _move_json(move, ids) if move else None,
                        "approved_by": approvers,
                        "approvals": [
                            _approval(ids, move.request_id, who) for who in approvers if move
                        ],
                    }
                )
                return
            if move is None:
                output.console().print(f"{name}@{alias} pointed at no version at {at}")
            else:
                approved = ", ".join(
                    f"{who} [{identity(ids.review(move.request_id or '', who))}]"
                    for who in approvers
                )
                output.console().print(
                    f"{name}@{alias} was version {move.version} at {at}: moved there "
                    f"{output.when(move.moved_at)} by {move.moved_by} "
                    f"[{identity(ids.move(move))}] ({move.reason})"
                    + (f", approved by {approved}" if approved else "")
                )
            return
    if as_json:
        output.print_json([_move_json(m, ids) for m in moves])
        return
    rows = [
        (
            output.when(m.moved_at),
            m.alias,
            m.previous or "",
            m.version or "removed",
            m.moved_by,
            identity(ids.move(m)),
            m.reason,
        )
        for m in moves
    ]
    output.console().print(
        output.table(None, ["when", "alias", "from", "to", "by", "identified as", "reason"], rows)
    )


def _move_json(move: AliasMoveRecord, ids: Identified) -> dict[str, Any]:
    via = ids.move(move)
    return {**asdict(move), "via": via, "identified": identity(via)}


def _approval(ids: Identified, request_id: str | None, reviewer: str) -> dict[str, Any]:
    via = ids.review(request_id or "", reviewer)
    return {"reviewer": reviewer, "via": via, "identified": identity(via)}


def _approvers(team: Team, request_id: str, name: str) -> list[str]:
    request = team.request(request_id, name)
    return [r.reviewer for r in request.reviews if r.decision == "approve"]


def request_promotion_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="The version to promote, e.g. sesame@3.")],
    to: _To = "production",
    comment: Annotated[str, typer.Option("--comment", help="Why.")] = "",
) -> None:
    """Ask approvers to let a version take an alias (it must have passed its gates)."""
    with output.team(ctx.obj) as team:
        request = team.request_promotion(ref, to, comment)
    output.console().print(
        f"requested {request.name}@{request.version} -> {request.alias} "
        f"(request {request.id[:12]}, needs {request.required} approval(s))"
    )


def approve(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="The version under review, e.g. sesame@3.")],
    to: _To = "production",
    comment: Annotated[str, typer.Option("--comment", help="What was checked.")] = "",
) -> None:
    """Approve the open promotion request of a version (approver role; not its author)."""
    _review(ctx, ref, to, comment, approve=True)


def reject(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="The version under review, e.g. sesame@3.")],
    to: _To = "production",
    comment: Annotated[str, typer.Option("--comment", help="Why (required).")] = "",
) -> None:
    """Reject the open promotion request of a version, with a reason."""
    _review(ctx, ref, to, comment, approve=False)


def _review(ctx: typer.Context, ref: str, alias: str, comment: str, *, approve: bool) -> None:
    with output.team(ctx.obj) as team:
        request = team.review(ref, alias, comment, approve=approve)
    done = sum(r.decision == "approve" for r in request.reviews)
    output.console().print(
        f"{'approved' if approve else 'rejected'} {request.name}@{request.version} -> "
        f"{request.alias}: request is {request.status} ({done} of {request.required} approvals)"
    )


def promote_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="The version, e.g. sesame@3.")],
    to: _To = "production",
    reason: Annotated[str, typer.Option("--reason", help="Recorded with the move.")] = "",
) -> None:
    """Point an alias at a version: staging and production need passed gates, production an
    approved request."""
    with output.team(ctx.obj) as team:
        move = team.promote(ref, to, reason)
    output.console().print(
        f"{move.name}@{move.alias}: {move.previous or 'none'} -> {move.version} "
        f"(by {move.moved_by})"
    )


def rollback_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Model name.")],
    alias: Annotated[str, typer.Option("--alias", help="Alias to roll back.")] = "production",
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")] = "",
) -> None:
    """Point an alias back at the version it held before."""
    with output.team(ctx.obj) as team:
        move = team.rollback(name, alias, reason)
    output.console().print(
        f"{move.name}@{move.alias}: {move.previous} -> {move.version} "
        f"(rolled back by {move.moved_by})"
    )


@users.command("grant")
def grant_cmd(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Argument(help=f"One of: {', '.join(ROLES)}.")],
) -> None:
    """Grant a role (admins only; the first user of a store is its admin)."""
    with output.team(ctx.obj) as team:
        done = team.grant(user, role)
    output.console().print(f"{user} {'now holds' if done else 'already held'} {role}")


@users.command("revoke")
def revoke_cmd(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Argument(help="Role to take away.")],
) -> None:
    """Take a role away (admins only)."""
    with output.team(ctx.obj) as team:
        done = team.revoke(user, role)
    output.console().print(f"{user} {'no longer holds' if done else 'did not hold'} {role}")


@users.command("list")
def list_users(ctx: typer.Context, as_json: _Json = False) -> None:
    """Every user with a role, and who granted it."""
    with output.team(ctx.obj, create=False) as team:
        grants = team.grants()
    if as_json:
        output.print_json([asdict(g) for g in grants])
        return
    rows = [(g.user, g.role, g.granted_by, output.when(g.granted_at)) for g in grants]
    output.console().print(output.table(None, ["user", "role", "granted by", "when"], rows))
