"""``assay audit verify|export|new-chain``: check the tamper-evident log, write it out, or
begin a new one where the database that held it is lost."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from assay.audit import export_events, start_chain
from assay.cli import output
from assay.errors import AuditError

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)


@app.command("verify")
def verify(
    ctx: typer.Context,
    no_artifacts: Annotated[
        bool, typer.Option("--no-artifacts", help="Skip re-hashing artifact bytes.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Re-check the whole audit chain: every hash and link, every signature, the chain
    against the checkpoints kept outside the store, the registry against the chain, and
    the bytes of every artifact it names. The key and the checkpoints are found by the
    chain's key id, wherever the store is. Exits 1 at the first broken link."""
    with output.team(ctx.obj, create=False) as team:
        report = team.verify(artifacts=not no_artifacts)
    problems = [
        f"event {p['seq']}: {p['message']}" if p["seq"] is not None else str(p["message"])
        for p in report["problems"]
    ]
    if as_json:
        output.print_json(report)
    else:
        head = report["head"]
        output.console().print(
            f"{report['events']} events, head {head['seq']} {head['hash'][:16]}, "
            f"key {report['key_id'] or '(none yet)'}, {report['checkpoints']} checkpoints "
            f"(latest {report['checkpoint_seq']}), "
            f"{report['artifacts_checked']} artifacts re-hashed"
        )
        for problem in problems[:20]:
            output.console().print(f"  broken: {output.escape(problem)}")
        if len(problems) > 20:
            output.console().print(f"  ... and {len(problems) - 20} more")
    if not report["ok"]:
        raise AuditError(
            f"the audit chain is broken: {problems[0]}",
            hint="the store was changed outside assay; restore it from a backup and "
            "compare with `assay audit export`",
        )
    if not as_json:
        output.console().print("audit chain verified")


@app.command("export")
def export(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Write every audit event as JSON Lines, ending with a line naming the head hash."""
    with output.existing(ctx.obj) as ws:
        if out is None:
            export_events(ws, sys.stdout)
            return
        with out.open("w", encoding="utf-8") as handle:
            head = export_events(ws, handle)
    output.console().print(f"wrote {head['seq']} events to {out}; head {head['hash']}")


@app.command("new-chain")
def new_chain(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option("--reason", help="Why the old chain is given up.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Begin a new audit chain where the database that held the store's chain is lost
    (assay refuses to write until it is restored or this is run). Event 1 of the new chain
    records the reason, who gave it, and the old chain with its newest checkpoint, so an
    auditor sees where one record ends and the next begins."""
    with output.opened(ctx.obj, new_chain=True) as ws:
        started = start_chain(ws, reason)
    if as_json:
        output.print_json(started)
        return
    previous = started["previous"]
    if previous is None:
        output.console().print("began the store's audit chain (no earlier chain was found)")
        return
    reached = previous["checkpoint"]["seq"] if previous["checkpoint"] else "?"
    output.console().print(
        f"began a new audit chain; the old one (key {previous['key_id']}, event 1 "
        f"{previous['first'][:12]}, checkpointed up to event {reached}) is recorded as given up"
    )
