"""Printing for the CLI: Rich tables for people, JSON for machines, one-line errors."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assay.client import LocalTeam, Team, connect
from assay.errors import ConfigError, StoreNotFoundError
from assay.settings import Settings
from assay.workspace import Workspace, open_workspace

__all__ = [
    "build_settings",
    "cell",
    "console",
    "duration",
    "error",
    "escape",
    "existing",
    "human_size",
    "note",
    "number",
    "opened",
    "print_json",
    "table",
    "team",
    "when",
]


def console() -> Console:
    """A console on standard output; unlimited width when it is not a terminal."""
    width = None if sys.stdout.isatty() else 1000  # piped output is for reading whole lines
    return Console(highlight=False, soft_wrap=True, width=width)


def build_settings(home: Path | None) -> Settings:
    """Settings from the environment, with ``--home`` taking the place of the current folder."""
    return Settings.from_env(project_dir=home)


def error(message: str, hint: str | None = None) -> None:
    """Print ``error: MESSAGE (HINT)`` on one line to standard error."""
    text = f"error: {message}" + (f" ({hint})" if hint else "")
    Console(stderr=True, highlight=False, soft_wrap=True).print(escape(text), style="red")


def note(message: str) -> None:
    """Print a remark about the output (what it left out) on standard error."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(escape(message), style="dim")


def print_json(value: Any) -> None:
    """Print ``value`` as indented, strict JSON: NaN and inf become "NaN", "Infinity"."""
    sys.stdout.write(json.dumps(_strict(value), indent=2, default=str) + "\n")


def _strict(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    return value


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    """A Rich table with the given header and rows (values shown with ``str``)."""
    t = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for col in columns:
        t.add_column(col)
    for row in rows:
        t.add_row(*(escape("" if v is None else str(v)) for v in row))
    return t


def when(timestamp: float | None) -> str:
    """A timestamp as local ISO time to the second ('' for None)."""
    if timestamp is None:
        return ""
    return dt.datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="seconds")


def cell(value: object) -> str:
    """A table cell: empty for missing values, numbers like :func:`number`, else text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return number(value)
    return escape(str(value))


def number(value: float) -> str:
    """A metric value: whole numbers without decimals, others to four places."""
    return str(int(value)) if float(value).is_integer() else f"{value:.4f}"


def human_size(size: int) -> str:
    """Bytes in B, KB, MB or GB."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def duration(start: float | None, end: float | None) -> str:
    """``end - start`` in seconds, or '' when either is missing."""
    if start is None or end is None:
        return ""
    return f"{end - start:.2f}s"


@contextlib.contextmanager
def opened(
    settings: Settings, *, create: bool = True, new_chain: bool = False
) -> Iterator[Workspace]:
    """The workspace of ``settings``, closed when the block ends; created when missing
    unless ``create`` is false (then see :func:`existing`); ``new_chain`` lets it begin a
    new audit chain over artifacts that belong to a lost one.

    Raises:
        ConfigError: the settings name a team server, and this command does not work
            through one.
    """
    if settings.server_url:
        raise ConfigError(
            "this command works on the store itself, not through the team server at "
            f"{settings.server_url} (yet)",
            hint="drop --server (unset ASSAY_SERVER_URL) to use the store here; through a "
            "server work listing and comparing runs, artifacts, lineage, models and their "
            "promotions, reports, monitoring alerts and retrainings, users, tokens and audit "
            "verify",
        )
    try:
        ws = open_workspace(settings, create=create, new_chain=new_chain)
    except StoreNotFoundError as exc:
        raise StoreNotFoundError(exc.message, hint=_NO_STORE_HINT) from None
    try:
        yield ws
    finally:
        ws.close()


def existing(settings: Settings) -> contextlib.AbstractContextManager[Workspace]:
    """The workspace of ``settings`` for a command that only reads: a missing store is an
    error (``StoreNotFoundError``) and nothing is created."""
    return opened(settings, create=False)


@contextlib.contextmanager
def team(settings: Settings, *, create: bool = True) -> Iterator[Team]:
    """The team's store: through the server the settings name, else the store here
    (created when missing unless ``create`` is false)."""
    if settings.server_url:
        with connect(settings) as remote:
            yield remote
        return
    with opened(settings, create=create) as ws:
        yield LocalTeam(ws)


_NO_STORE_HINT = (
    "create one with `assay init` or `assay run PIPELINE`, or point at an existing one "
    "with --home DIR, ASSAY_HOME or ASSAY_DB_URL"
)
