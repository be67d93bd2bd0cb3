"""``assay models list``: registered models, their versions and aliases."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from assay.cli import output

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)

_HEADLINE_METRICS = ("macro_f1", "accuracy")


@app.command("list")
def list_models(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only versions of this model.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List every registered model version, by model name and version."""
    with output.opened(ctx.obj) as ws:
        versions = ws.metadata.model_versions(name)
        aliases: dict[tuple[str, int], list[str]] = {}
        for a in ws.metadata.aliases(name):
            aliases.setdefault((a.name, a.version or 0), []).append(a.alias)
    if as_json:
        output.print_json(
            [{**asdict(v), "aliases": aliases.get((v.name, v.version), [])} for v in versions]
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
                f"{v.name}@{v.version}",
                ", ".join(aliases.get((v.name, v.version), [])),
                v.digest[:12],
                v.run_id[:12],
                output.when(v.created_at),
                v.created_by,
                shown,
            )
        )
    output.console().print(
        output.table(
            None, ["model", "aliases", "artifact", "run", "registered", "by", "metrics"], rows
        )
    )
