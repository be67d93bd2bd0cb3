"""``assay server`` and ``assay tokens``: the team server over this store, and its API
tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated

import typer

from assay.cli import output
from assay.governance.tokens import DEFAULT_DAYS, MAX_DAYS
from assay.server.api.app import TeamOptions
from assay.server.api.auth import check_exposure
from assay.server.api.http import serve_team
from assay.server.api.oidc import OidcSettings, parse_role_map

__all__ = ["server", "tokens"]

tokens = typer.Typer(no_args_is_help=True)


def server(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Interface to listen on (0.0.0.0 for every one).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port.")] = 5000,
    auth: Annotated[
        str,
        typer.Option(
            "--auth",
            help="local: on 127.0.0.1, a request with no credential acts as you (one local "
            "admin); token: every request needs an API token (`assay tokens create`); oidc: "
            "an API token or a single sign-on session (`assay login`).",
        ),
    ] = "local",
    issuer: Annotated[
        str,
        typer.Option(
            "--oidc-issuer",
            envvar="ASSAY_OIDC_ISSUER",
            help="OpenID provider's issuer URL (Entra ID: "
            "https://login.microsoftonline.com/TENANT/v2.0).",
        ),
    ] = "",
    client_id: Annotated[
        str,
        typer.Option(
            "--oidc-client-id", envvar="ASSAY_OIDC_CLIENT_ID", help="This server's client id."
        ),
    ] = "",
    client_secret: Annotated[
        str,
        typer.Option(
            "--oidc-client-secret",
            envvar="ASSAY_OIDC_CLIENT_SECRET",
            help="Its client secret: set ASSAY_OIDC_CLIENT_SECRET rather than this option, "
            "which others on the machine can see.",
            show_default=False,
        ),
    ] = "",
    public_url: Annotated[
        str,
        typer.Option(
            "--public-url",
            envvar="ASSAY_PUBLIC_URL",
            help="This server's address as browsers reach it (default http://HOST:PORT); "
            "register PUBLIC_URL/api/v1/auth/callback at the provider.",
        ),
    ] = "",
    user_claim: Annotated[
        str, typer.Option("--oidc-user-claim", help="The claim naming the user.")
    ] = "preferred_username",
    roles_claim: Annotated[
        str, typer.Option("--oidc-roles-claim", help="The claim listing groups or app roles.")
    ] = "groups",
    role_map: Annotated[
        list[str] | None,
        typer.Option(
            "--oidc-role",
            help="CLAIM_VALUE=ROLE: members of that group act with that role (repeatable).",
        ),
    ] = None,
    session_hours: Annotated[
        float, typer.Option("--session-hours", min=0.01, max=24 * 30, help="Sign-on lifetime.")
    ] = 12.0,
    reap_after_hours: Annotated[
        float,
        typer.Option(
            "--reap-after-hours",
            min=0,
            help="Mark killed a running run nothing was heard of for this long (0: never).",
        ),
    ] = 24.0,
    max_upload_mb: Annotated[
        int, typer.Option("--max-upload-mb", min=1, help="The largest artifact taken, in MiB.")
    ] = 64 << 10,
) -> None:
    """Serve the REST API (under /api/v1) over this store until Ctrl-C or SIGTERM.

    The server holds the store and its audit signing key; its clients hold tokens. Who acts
    is who authenticated: ASSAY_USER on a client means nothing to it.
    """
    check_exposure(host, auth)
    oidc = None
    if auth == "oidc":
        oidc = OidcSettings(
            issuer=issuer,
            client_id=client_id,
            client_secret=client_secret,
            public_url=public_url or f"http://{host}:{port}",
            user_claim=user_claim,
            roles_claim=roles_claim,
            role_map=parse_role_map(role_map or []),
            session_hours=session_hours,
        )
    options = TeamOptions(
        host=host,
        port=port,
        auth=auth,
        oidc=oidc,
        max_upload_bytes=max_upload_mb << 20,
        reap_after_s=reap_after_hours * 3600,
    )

    def announce(listening: int) -> None:
        con = output.console()
        con.print(f"assay team server on http://{host}:{listening}/api/v1 (Ctrl-C stops)")
        if auth == "local":
            con.print("  reachable from this machine only; requests with no token act as you")
        elif oidc is not None:
            con.print(
                f"  every request needs an API token or a sign-on through {oidc.issuer} "
                f"(`assay login --server {oidc.public_url}`)"
            )
        else:
            con.print("  every request needs an API token (`assay tokens create`)")

    with output.existing(ctx.obj.here()) as ws:
        serve_team(ws, options, announce)


@tokens.command("create")
def create(
    ctx: typer.Context,
    role: Annotated[str, typer.Option("--role", help="The one role the token acts with.")],
    user: Annotated[
        str | None, typer.Option("--user", help="Whose token (admins only; default: you).")
    ] = None,
    days: Annotated[
        float, typer.Option("--days", min=0.001, max=MAX_DAYS, help="How long it lasts.")
    ] = DEFAULT_DAYS,
    note: Annotated[str, typer.Option("--note", help="What it is for.")] = "",
) -> None:
    """Create an API token and print it, once: only a digest of it is kept."""
    with output.team(ctx.obj, create=False) as team:
        record, token = team.issue_token(user, role, days, note)
    expires = dt.datetime.fromtimestamp(record.expires_at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    output.note(
        f"token {record.id} for {record.user} ({record.role}), expires {expires}; "
        "it is shown only now"
    )
    print(token)


@tokens.command("list")
def list_cmd(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="Whose tokens (admins).")] = None,
    every: Annotated[bool, typer.Option("--all", help="Everyone's tokens (admins).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List your tokens (an admin: anyone's): id, holder, role, expiry, revocation."""
    with output.team(ctx.obj, create=False) as team:
        found = team.tokens(user, every=every)
    if as_json:
        shown = [{k: v for k, v in asdict(t).items() if k != "secret_sha256"} for t in found]
        output.print_json(shown)
        return
    rows = [
        (
            t.id,
            t.user,
            t.role,
            output.when(t.created_at),
            output.when(t.expires_at),
            f"revoked by {t.revoked_by}" if t.revoked_at is not None else "",
            output.escape(t.note),
        )
        for t in found
    ]
    columns = ["token", "user", "role", "created", "expires", "revoked", "note"]
    output.console().print(output.table(None, columns, rows))


@tokens.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(help="The token's id (`assay tokens list`).")],
) -> None:
    """Revoke a token: yours, or anyone's as an admin."""
    with output.team(ctx.obj, create=False) as team:
        revoked = team.revoke_token(token_id)
    output.console().print(f"token {revoked.id} of {revoked.user} revoked by {revoked.revoked_by}")
