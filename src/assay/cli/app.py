"""The ``assay`` command: its sub-commands and the one place errors become exit codes."""

from __future__ import annotations

import inspect
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperGroup, TyperOption

from assay.cli import output
from assay.cli.commands import (
    artifacts,
    audit,
    deploy,
    governance,
    lineage,
    login,
    models,
    monitor,
    predict,
    report,
    reproduce,
    run,
    runs,
    serve,
    store,
    sweep,
    team,
    watch,
)
from assay.errors import AssayError

if TYPE_CHECKING:
    from typer._click.core import Command

__all__ = ["HOISTED", "build_app", "build_command", "main"]

HOISTED = ("--server",)
"""Options of the root command that may follow any sub-command."""


def _hoisted(args: list[str]) -> list[str]:
    """``args`` with ``--server URL`` moved to the front, wherever it was written (before a
    ``--``), so that it is the root's option for every command."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg in HOISTED and i + 1 < len(args):
            front.extend(args[i : i + 2])
            i += 2
            continue
        hoisted = any(arg.startswith(f"{name}=") for name in HOISTED)
        (front if hoisted else rest).append(arg)
        i += 1
    return front + rest


class _Root(TyperGroup):
    """The root command, which takes ``--server URL`` after any sub-command as well."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        return super().parse_args(ctx, _hoisted(args))


def build_app() -> typer.Typer:
    """The Typer application with every sub-command registered."""
    app = typer.Typer(
        name="assay",
        help="Pipelines, lineage, registry and evidence for machine learning that must stand up "
        "to an audit.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        cls=_Root,
    )

    @app.callback()
    def _root(
        ctx: typer.Context,
        home: Annotated[
            Path | None,
            typer.Option(
                "--home",
                envvar="ASSAY_HOME",
                help="Project folder whose .assay/ holds the store (default: current folder).",
            ),
        ] = None,
        server: Annotated[
            str | None,
            typer.Option(
                "--server",
                envvar="ASSAY_SERVER_URL",
                help="Work through this team server instead of the store (`assay login` "
                "first); may follow any command.",
            ),
        ] = None,
    ) -> None:
        ctx.obj = output.build_settings(home).with_server(server)

    app.command("init")(store.init)
    app.command("run")(run.run)
    app.command("sweep")(sweep.sweep)
    app.command("lineage")(lineage.lineage)
    app.command("predict")(predict.predict)
    app.command("serve")(serve.serve)
    app.command("reproduce")(reproduce.reproduce)
    app.command("server")(team.server)
    app.command("login")(login.login)
    app.command("logout")(login.logout)
    app.add_typer(team.tokens, name="tokens", help="API tokens of the team server.")
    app.command("report")(report.report)
    app.add_typer(runs.app, name="runs", help="List and inspect pipeline runs.")
    app.add_typer(artifacts.app, name="artifacts", help="Inspect stored artifacts.")
    models.app.command("show")(governance.show)
    models.app.command("history")(governance.history_cmd)
    models.app.command("request-promotion")(governance.request_promotion_cmd)
    models.app.command("approve")(governance.approve)
    models.app.command("reject")(governance.reject)
    models.app.command("promote")(governance.promote_cmd)
    models.app.command("rollback")(governance.rollback_cmd)
    app.add_typer(
        models.app, name="models", help="Registered models: versions, aliases, promotions."
    )
    app.add_typer(governance.users, name="users", help="Roles: who may run, approve, administer.")
    app.add_typer(audit.app, name="audit", help="Verify or export the tamper-evident audit log.")
    app.add_typer(
        deploy.app, name="deploy", help="Write the manifests that run a model on a cluster."
    )
    monitor.app.command("run")(watch.run_monitor)
    monitor.app.command("retrains")(watch.retrains)
    app.add_typer(
        monitor.app,
        name="monitor",
        help="Drift, live performance, alerts and retraining of served models.",
    )
    return app


def build_command() -> Command:
    """The command line of :func:`build_app`, with its help made readable (see _tidy_help)."""
    command = typer.main.get_command(build_app())
    _tidy_help(command)
    return command


def _tidy_help(command: Command) -> None:
    # Typer's Rich help prints a value type (<bool>) after flags, which take no value, and
    # keeps the single line breaks inside paragraphs after the first, so a docstring wrapped
    # in the source breaks mid-sentence on screen. Flags get an empty metavar (all that is
    # printed for them), and every paragraph becomes one line for Rich to wrap.
    if command.help:
        command.help = "\n\n".join(
            part if part.startswith("\b") else " ".join(part.split())
            for part in inspect.cleandoc(command.help).split("\n\n")
        )
    help_option = command.get_help_option(typer.Context(command))
    for param in [*command.params, help_option]:
        if isinstance(param, TyperOption) and param.is_flag:
            param.metavar = ""
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            _tidy_help(sub)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``assay`` script: exit 1 for a failure, 2 for a usage mistake."""
    command = build_command()
    try:
        code = command.main(args=argv, prog_name="assay", standalone_mode=False)
    except typer.TyperException as exc:  # usage mistakes: typer prints them with the usage line
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)
    except typer.Abort:
        output.error("aborted")
        sys.exit(130)
    except AssayError as exc:
        output.error(exc.message, exc.hint)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        code = 130
    if code == 130:  # Typer turns Ctrl-C (and SIGTERM during a run) into exit code 130
        output.error("interrupted", "a run in progress is recorded as interrupted")
        _exit_now(130)
    sys.exit(code if isinstance(code, int) else 0)


def _exit_now(code: int) -> None:
    # Steps still running in worker threads cannot be stopped, and a normal exit would wait
    # for them; the run is already recorded as interrupted, so leave at once.
    sys.stdout.flush()
    sys.stderr.flush()
    if any(t.name.startswith("assay-step") for t in threading.enumerate()):
        os._exit(code)
    sys.exit(code)
