"""``assay login`` and ``assay logout``: keep (or drop) a credential for a team server, so
that ``--server URL`` or ``ASSAY_SERVER_URL`` is all a command needs."""

from __future__ import annotations

import sys
import webbrowser
from typing import Annotated

import typer

from assay.cli import output
from assay.client import Credential, Remote, forget, load, save
from assay.client.signon import WAIT_S, sign_on
from assay.errors import AssayError, ConfigError

__all__ = ["login", "logout"]


def _server(ctx: typer.Context) -> str:
    url: str = ctx.obj.server_url
    if not url:
        raise ConfigError(
            "which server? none was named",
            hint="give --server URL (or set ASSAY_SERVER_URL)",
        )
    return url


def login(
    ctx: typer.Context,
    token: Annotated[
        bool,
        typer.Option(
            "--token",
            help="Read an API token from standard input instead of signing on in a browser.",
        ),
    ] = False,
    no_browser: Annotated[
        bool,
        typer.Option("--no-browser", help="Print the sign-on address; open no browser."),
    ] = False,
    wait: Annotated[
        float, typer.Option("--wait", min=1, help="Seconds to wait for the browser.")
    ] = WAIT_S,
) -> None:
    """Log in to the team server named by --server (or ASSAY_SERVER_URL) and keep the
    credential in your configuration folder (readable by you only, mode 0600).

    By default the server's single sign-on opens in a browser; with --token an API token is
    read from standard input (`assay tokens create` prints one).
    """
    settings = ctx.obj
    url = _server(ctx)
    if token:
        secret = sys.stdin.readline().strip()
        if not secret:
            raise ConfigError("no token on standard input", hint="echo TOKEN | assay login --token")
        kept = Credential(url, secret, "")
    else:

        def show(address: str) -> None:
            output.note(f"log in at: {address}")
            if not no_browser:
                webbrowser.open(address)

        kept = sign_on(url, show, wait_s=wait)
    with Remote(url, kept.token) as remote:
        me = remote.whoami()
    path = save(settings.config_home, Credential(url, kept.token, me["user"], kept.expires_at))
    via = me["via"].get("kind", "")
    output.console().print(
        f"logged in to {url} as {me['user']} ({via}; roles: "
        f"{', '.join(me['roles']) or 'none'}); credential kept in {path}"
    )


def logout(ctx: typer.Context) -> None:
    """Forget the credential kept for the server named by --server (or ASSAY_SERVER_URL),
    ending its sign-on session there."""
    settings = ctx.obj
    url = _server(ctx)
    kept = load(settings.config_home, url)
    if kept is not None:
        try:
            with Remote(url, kept.token) as remote:
                remote.call("DELETE", "/auth/session")
        except AssayError:
            pass  # a token (no session), or a server gone: forgetting is what matters
    done = forget(settings.config_home, url)
    output.console().print(f"logged out of {url}" if done else f"no credential was kept for {url}")
