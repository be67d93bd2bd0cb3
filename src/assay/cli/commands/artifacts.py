"""``assay artifacts show``: one artifact, who made it and what used it."""

from __future__ import annotations

from dataclasses import asdict
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
    with output.existing(ctx.obj) as ws:
        art = ws.metadata.get_artifact(digest)
        producer = ws.metadata.get_execution(art.producer) if art.producer else None
        consumers = [
            ws.metadata.get_execution(e.execution_id)
            for e in ws.metadata.events_for(art.digest, "input")
        ]
        versions = ws.metadata.versions_of_digests([art.digest])
        if verify:
            ws.artifacts.get_bytes(art.digest)  # raises IntegrityError on a mismatch
    if as_json:
        output.print_json(
            {
                **asdict(art),
                "verified": verify,
                "producer": None
                if producer is None
                else {"execution": producer.id, "step": producer.step, "run": producer.run_id},
                "consumers": [
                    {"execution": c.id, "step": c.step, "run": c.run_id, "status": c.status}
                    for c in consumers
                ],
                "models": [f"{v.name}@{v.version}" for v in versions],
            }
        )
        return
    out = output.console()
    out.print(f"[bold]artifact sha256:{art.digest}[/bold]")
    made_by = f"step {producer.step} in run {producer.run_id[:12]}" if producer else "imported file"
    for label, value in [
        ("kind", art.kind),
        ("codec", art.codec),
        ("type", art.type_name),
        ("size", f"{output.human_size(art.size)} ({art.size} bytes)"),
        ("created", output.when(art.created_at)),
        ("made by", made_by),
        ("models", ", ".join(f"{v.name}@{v.version}" for v in versions) or "-"),
        ("verified", "yes, bytes match the digest" if verify else "not checked (use --verify)"),
    ]:
        out.print(f"  {label:<9} {output.escape(value)}")
    if consumers:
        out.print(
            output.table(
                "used by",
                ["step", "run", "status"],
                [(c.step, c.run_id[:12], c.status) for c in consumers],
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
