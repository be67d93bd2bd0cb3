"""``assay models list|archive|restore``: registered versions, their aliases, gates and
whether they are archived."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from assay.cli import output
from assay.governance import archive, restore
from assay.metadata import ModelVersionRecord
from assay.registry import gate_results, known_model
from assay.workspace import Workspace

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
    with output.existing(ctx.obj) as ws:
        if name is not None:
            known_model(ws, name)
        every = ws.metadata.model_versions(name)
        versions = [v for v in every if show_all or v.archived_at is None]
        aliases: dict[tuple[str, int], list[str]] = {}
        for a in ws.metadata.aliases(name):
            aliases.setdefault((a.name, a.version or 0), []).append(a.alias)
        gates = _gates(ws, versions)
    if as_json:
        output.print_json(
            [
                {
                    **asdict(v),
                    "aliases": aliases.get((v.name, v.version), []),
                    "gates": gates.get((v.name, v.version)),
                }
                for v in versions
            ]
        )
        return
    rows = []
    for v in versions:
        metrics = v.info.get("metrics") or {}
        shown = " ".join(
            f"{k}={metrics[k]:.4f}"
            for k in _HEADLINE_METRICS
            if isinstance(metrics.get(k), int | float)
        )
        rows.append(
            (
                f"{v.name}@{v.version}" + (" (archived)" if v.archived_at is not None else ""),
                ", ".join(aliases.get((v.name, v.version), [])),
                {"passed": "passed", "failed": "FAILED"}.get(gates.get((v.name, v.version)) or ""),
                v.digest[:12],
                v.run_id[:12],
                output.when(v.created_at),
                v.created_by,
                shown,
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
    hidden = len(every) - len(versions)
    if hidden:
        out.print(f"{hidden} archived version{'s' if hidden > 1 else ''} not shown (--all shows)")


def _gates(ws: Workspace, versions: list[ModelVersionRecord]) -> dict[tuple[str, int], str]:
    """``passed`` or ``failed`` by the newest verdict of each version that has one."""
    return {
        (model, version): "passed" if passed else "failed"
        for model in sorted({v.name for v in versions})
        for version, passed in gate_results(ws, model).items()
    }


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
