"""``assay reproduce``: run a run again without the cache and compare its outputs."""

from __future__ import annotations

import contextlib
import sys
from dataclasses import asdict
from typing import Annotated

import typer

from assay.cli import output
from assay.cli.commands.run import StepProgress
from assay.errors import AssayError
from assay.runner.reproduce import DIFFERENT, MISSING, WITHIN_TOLERANCE, ReproductionReport
from assay.runner.reproduce import reproduce as reproduce_run
from assay.workspace import open_workspace

__all__ = ["reproduce"]

_STYLES = {WITHIN_TOLERANCE: "yellow", DIFFERENT: "red", MISSING: "red"}


def reproduce(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(help="Run id, or its first characters.")],
    tolerance: Annotated[
        float,
        typer.Option(
            "--tolerance",
            min=0.0,
            help="Relative and absolute tolerance for numbers in JSON outputs and metrics.",
        ),
    ] = 1e-9,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, help="Independent steps run at once.")
    ] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Run a run again from its recorded code, parameters and data, reusing nothing, and
    compare every output and metric with the original's."""
    ws = open_workspace(ctx.obj)
    observer = StepProgress(quiet=as_json)
    # With --json, standard output carries the JSON alone; what steps print goes to stderr.
    printed = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
    try:
        with printed, observer:
            report = reproduce_run(ws, run, tolerance=tolerance, workers=workers, observer=observer)
    finally:
        ws.close()
    if as_json:
        output.print_json(
            {
                "original_run": report.original_run,
                "new_run": report.new_run,
                "verdict": report.verdict,
                "reproduced": report.reproduced,
                "tolerance": report.tolerance,
                "outputs": [asdict(c) for c in report.outputs],
                "metrics": [asdict(m) for m in report.metrics],
                "environment": list(report.environment),
            }
        )
    else:
        _print(report)
    if not report.reproduced:
        statuses = [c.status for c in report.outputs] + [m.status for m in report.metrics]
        bad = sum(1 for s in statuses if s in (DIFFERENT, MISSING))
        raise AssayError(
            f"run {report.original_run[:12]} was not reproduced: {bad} of {len(statuses)} "
            "outputs and metrics differ",
            hint=f"compare the runs with `assay runs compare {report.original_run[:12]} "
            f"{report.new_run[:12]}`",
        )


def _print(report: ReproductionReport) -> None:
    out = output.console()
    view = output.table("outputs", ["step", "output", "status", "original", "new", "detail"], [])
    for c in report.outputs:
        cells = [c.step, c.output, c.status, (c.original or "")[:12], (c.new or "")[:12], c.detail]
        view.add_row(*(output.escape(v) for v in cells), style=_STYLES.get(c.status))
    out.print(view)
    if report.metrics:
        view = output.table("metrics", ["metric", "status", "original", "new", "detail"], [])
        for m in report.metrics:
            cells = [m.key, m.status, _value(m.original), _value(m.new), m.detail]
            view.add_row(*(output.escape(v) for v in cells), style=_STYLES.get(m.status))
        out.print(view)
    for change in report.environment:
        out.print(f"[dim]environment changed: {output.escape(change)}[/dim]")
    colour = "green" if report.reproduced else "red"
    out.print(
        f"run {report.original_run[:12]} [{colour}]{report.verdict}[/{colour}] by run "
        f"{report.new_run[:12]}: outputs {_counts([c.status for c in report.outputs])}; "
        f"metrics {_counts([m.status for m in report.metrics])}"
    )


def _value(value: float | None) -> str:
    return "" if value is None else f"{value:.10g}"


def _counts(statuses: list[str]) -> str:
    """``3 identical, 1 different``, or ``none``."""
    counts = {s: statuses.count(s) for s in dict.fromkeys(statuses)}
    return ", ".join(f"{n} {s}" for s, n in counts.items()) or "none"
