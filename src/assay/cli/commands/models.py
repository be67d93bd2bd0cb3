"""``assay models list|archive|restore``: registered versions, their aliases, gates and
whether they are archived."""

from __future__ import annotations

from typing import Annotated

import typer

from assay.cli import output
from assay.governance import archive, restore

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)

_HEADLINE_METRICS = ("macro_f1", "accuracy")
_Reason = Annotated[str, typer.Option("--reason", help="Why; recorded in the audit log.")]


@app.command("list")
def list_models(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only versions of this model.")] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Archived versions too (hidden by default).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List registered model versions, by model name and version, with their aliases and the
    result of their gates; archived versions only with --all."""
    with output.team(ctx.obj, create=False) as team:
        every = team.versions(name)
    shown = [v for v in every if show_all or v.record.archived_at is None]
    if as_json:
        output.print_json([v.to_json() for v in shown])
        return
    rows = []
    for listed in shown:
        v = listed.record
        metrics = v.info.get("metrics") or {}
        headline = " ".join(
            f"{k}={metrics[k]:.4f}"
            for k in _HEADLINE_METRICS
            if isinstance(metrics.get(k), int | float)
        )
        rows.append(
            (
                f"{v.name}@{v.version}" + (" (archived)" if v.archived_at is not None else ""),
                ", ".join(listed.aliases),
                {"passed": "passed", "failed": "FAILED"}.get(listed.gates or ""),
                v.digest[:12],
                v.run_id[:12],
                output.when(v.created_at),
                v.created_by,
                headline,
            )
        )
    out = output.console()
    out.print(
        output.table(
            None,
            ["model", "aliases", "gates", "artifact", "run", "registered", "by", "metrics"],
            rows,
        )
    )
    hidden = len(every) - len(shown)
    if hidden:
        out.print(f"{hidden} archived version{'s' if hidden > 1 else ''} not shown (--all shows)")


@app.command("archive")
def archive_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME@VERSION.")],
    reason: _Reason = "",
) -> None:
    """Archive a version: hidden from `models list` and NAME@latest, never deleted; audited.
    A version an alias points at cannot be archived: move the alias first."""
    with output.opened(ctx.obj) as ws:
        version = archive(ws, ref, reason)
    output.console().print(
        f"archived {version.name}@{version.version}; `assay models restore "
        f"{version.name}@{version.version} --reason ...` brings it back"
    )


@app.command("restore")
def restore_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME@VERSION.")],
    reason: _Reason = "",
) -> None:
    """Bring an archived version back into listings and NAME@latest; audited."""
    with output.opened(ctx.obj) as ws:
        version = restore(ws, ref, reason)
    output.console().print(f"restored {version.name}@{version.version}")
