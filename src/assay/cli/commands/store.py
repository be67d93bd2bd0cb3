"""``assay init``: create the store in the project folder."""

from __future__ import annotations

import typer

from assay.cli import output
from assay.workspace import open_workspace

__all__ = ["init"]


def init(ctx: typer.Context) -> None:
    """Create the store (.assay/ with a SQLite database and an artifact folder) if missing."""
    settings = ctx.obj
    ws = open_workspace(settings, create_folders=True)
    ws.close()
    out = output.console()
    out.print(f"store ready: metadata {settings.db_url}")
    out.print(f"             artifacts {settings.artifact_root}")
