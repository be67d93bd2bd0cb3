"""`--help` reads well: no value type after flags, no line breaks from the source's wrapping."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer
from typer.core import TyperGroup, TyperOption

from assay.cli import build_command
from tests.cli.conftest import Invoke


def _commands(command: Any) -> Iterator[Any]:
    yield command
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            yield from _commands(sub)


def test_no_help_page_shows_a_type_after_a_flag(cli: Invoke) -> None:
    for command in _commands(build_command()):
        ctx = typer.Context(command)
        for param in [*command.params, command.get_help_option(ctx)]:
            if isinstance(param, TyperOption) and param.is_flag:
                # What the help page prints between a flag's name and its help.
                assert not param.display_type_rich(ctx), (command.name, param.name)
    for args in (("--help",), ("serve", "--help"), ("runs", "show", "--help")):
        shown = cli(*args)
        assert shown.code == 0, shown.err
        assert "<bool>" not in shown.out and "--help" in shown.out


def test_help_paragraphs_are_wrapped_by_the_screen_not_the_source(cli: Invoke) -> None:
    # COLUMNS is 200 here: each paragraph below fits on one line.
    serve = cli("serve", "--help").out
    assert (
        "Requests in flight and the prediction log are finished first. An alias being served is "
        "followed: when it moves, the new version is loaded, verified and swapped in without "
        "failing a request." in serve
    )
    listing = cli("--help").out
    assert (
        "Run a run again from its recorded code, parameters and data, reusing nothing, and "
        "compare every output and metric with the original's." in listing
    )
    history = cli("models", "history", "--help").out
    assert (
        'With --alias and --at it answers "which version was in production on 2026-03-01, and '
        'who put it there".' in history
    )
