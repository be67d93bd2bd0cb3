"""``assay artifacts show``: one artifact, who made it and what used it."""

from __future__ import annotations

from typing import Annotated

import typer

from assay.cli import output
from assay.governance import delete_artifact

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)


@app.command("show")
def show(
    ctx: typer.Context,
    digest: Annotated[str, typer.Argument(help="sha256 digest, or its first characters.")],
    verify: Annotated[
        bool, typer.Option("--verify", help="Re-hash the stored bytes and check them.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show an artifact's kind, size, producer, consumers and registered model versions."""
    with output.team(ctx.obj, create=False) as team:
        art = team.artifact(digest, verify=verify)
    if as_json:
        output.print_json(art)
        return
    out = output.console()
    out.print(f"[bold]artifact sha256:{art['digest']}[/bold]")
    producer = art["producer"]
    made_by = (
        f"step {producer['step']} in run {producer['run'][:12]}" if producer else "imported file"
    )
    for label, value in [
        ("kind", art["kind"]),
        ("codec", art["codec"]),
        ("type", art["type_name"]),
        ("size", f"{output.human_size(art['size'])} ({art['size']} bytes)"),
        ("created", output.when(art["created_at"])),
        ("made by", made_by),
        ("models", ", ".join(art["models"]) or "-"),
        ("verified", "yes, bytes match the digest" if verify else "not checked (use --verify)"),
    ]:
        out.print(f"  {label:<9} {output.escape(value)}")
    if art["consumers"]:
        out.print(
            output.table(
                "used by",
                ["step", "run", "status"],
                [(c["step"], c["run"][:12], c["status"]) for c in art["consumers"]],
            )
        )


@app.command("delete")
def delete(
    ctx: typer.Context,
    digest: Annotated[str, typer.Argument(help="sha256 digest, or its first characters.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required; audited).")] = "",
) -> None:
    """Delete an artifact's bytes (admins only). Artifacts that are evidence for a registered
    model version (its model, data, card, any input or output of its run) are refused."""
    with output.opened(ctx.obj) as ws:
        artifact = delete_artifact(ws, digest, reason)
    output.console().print(f"deleted the bytes of {artifact.digest} ({artifact.kind})")
