"""``assay report``: the evidence of one model version, as a self-contained HTML page or JSON."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Annotated, Any

import typer

from assay.cli import output
from assay.errors import ConfigError

__all__ = ["report"]

_FORMATS = ("html", "json")


def report(
    ctx: typer.Context,
    ref: Annotated[
        str, typer.Argument(help="The model version: NAME@VERSION or NAME@ALIAS, e.g. sesame@3.")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (default: report.html or report.json)."),
    ] = None,
    file_format: Annotated[str, typer.Option("--format", help="html or json.")] = "html",
    no_verify: Annotated[
        bool,
        typer.Option(
            "--no-verify",
            help="Do not re-check the audit chain (faster; the report says it is unverified).",
        ),
    ] = False,
) -> None:
    """Write a model version's evidence for an auditor: a self-contained HTML page, or JSON."""
    kind = file_format.lower()
    if kind not in _FORMATS:
        raise ConfigError(f"unknown report format {file_format!r}", hint="use html or json")
    target = out or Path(f"report.{kind}")
    with output.team(ctx.obj, create=False) as team:
        evidence, page = team.evidence(ref, verify=not no_verify, page=kind == "html")
    if page is not None:
        text = page
    else:  # the same strict JSON as every --json of the CLI
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            output.print_json(evidence)
        text = buffer.getvalue()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror}") from None
    model = evidence["model"]["ref"]
    output.console().print(
        output.escape(f"wrote the evidence of {model} to {target} ({_status(evidence)})")
    )


def _status(evidence: dict[str, Any]) -> str:
    """``gates passed, audit chain verified`` or what else the evidence says."""
    compliance = evidence["is_it_compliant"]
    gates = compliance["gates"]
    verdict = "passed" if gates["passed"] else "FAILED"
    ok = compliance["audit"]["ok"]
    chain = "not verified" if ok is None else ("verified" if ok else "BROKEN")
    return f"gates {verdict if gates['checked'] else 'not checked'}, audit chain {chain}"
