"""``assay init``: create the store in the project folder."""

from __future__ import annotations

import typer

from assay.cli import output
from assay.governance import roles_of
from assay.workspace import open_workspace

__all__ = ["init"]


def init(ctx: typer.Context) -> None:
    """Create the store (.assay/ with a SQLite database and an artifact folder) if missing.

    The first user of a new store becomes its admin.
    """
    settings = ctx.obj
    ws = open_workspace(settings, create_folders=True)
    try:
        ws.metadata.grant_role(ws.user, "admin", ws.user, only_if_first=True)
        held = sorted(roles_of(ws, ws.user))
    finally:
        ws.close()
    out = output.console()
    out.print(f"store ready: metadata {settings.db_url}")
    out.print(f"             artifacts {settings.artifact_root}")
    out.print(f"             audit key {settings.audit_key_location()}")
    out.print(f"             audit checkpoints {settings.audit_checkpoint_location()}")
    out.print(f"you are {ws.user}, with roles: {', '.join(held) or 'none'}")
