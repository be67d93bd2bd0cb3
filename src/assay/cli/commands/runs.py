"""``assay runs list|show|compare|export``: the runs in the store."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from assay.cli import output
from assay.errors import ConfigError
from assay.metadata import ExecutionRecord, RunRecord

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_runs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="How many of the newest runs.")] = 20,
    every: Annotated[bool, typer.Option("--all", help="Every matching run (no limit).")] = False,
    pipeline: Annotated[str | None, typer.Option(help="Only runs of this pipeline.")] = None,
    experiment: Annotated[
        str | None, typer.Option("--experiment", "-e", help="Only runs of this experiment.")
    ] = None,
    where: Annotated[
        str | None,
        typer.Option(
            "--where",
            help='Filter, e.g. "metrics.macro_f1 > 0.8 and params.C = 1"; fields are '
            "metrics.NAME, params.NAME, tags.NAME, id, pipeline, status, experiment, user, "
            "host, started_at, ended_at; ops = != < <= > >= like; and, or, parentheses. "
            "The metrics, params and tags it names are shown as columns.",
        ),
    ] = None,
    order_by: Annotated[
        str | None,
        typer.Option(
            "--order-by",
            "-o",
            help="Sort fields, comma-separated; '-' first for descending (shown as columns).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON, with each run's last metrics.")
    ] = False,
) -> None:
    """List runs, newest first unless --order-by says otherwise; says how many it left out."""
    with output.team(ctx.obj, create=False) as team:
        page = team.runs(
            experiment=experiment,
            where=where,
            order_by=order_by,
            limit=None if every else limit,
            pipeline=pipeline,
        )
    if as_json:
        output.print_json(
            [
                {
                    **{k: v for k, v in asdict(r).items() if k not in ("packages", "traceback")},
                    "metrics": page.metrics.get(r.id, {}),
                }
                for r in page.runs
            ]
        )
    else:
        rows = [
            (
                r.id[:12],
                r.experiment,
                r.pipeline,
                r.status,
                output.when(r.started_at),
                output.duration(r.started_at, r.ended_at),
                r.user,
                (r.git_commit or "")[:10] + ("*" if r.git_dirty else ""),
                *(_field(page.value(r, f), f[0]) for f in page.fields),
            )
            for r in page.runs
        ]
        columns = ["run", "experiment", "pipeline", "status", "started", "took", "user", "commit"]
        named = [f"{scope}.{name}" for scope, name in page.fields]
        output.console().print(output.table(None, [*columns, *named], rows))
    if page.total > len(page.runs):  # on stderr, so that --json stays pure JSON
        output.note(f"showing {len(page.runs)} of {page.total} runs; --limit N or --all for more")


def _field(value: object, scope: str) -> str:
    # Metrics read as numbers; a parameter or tag as it was given.
    if scope == "metrics" or value is None:
        return output.cell(value)
    return output.escape(str(value))


@app.command("show")
def show(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(help="Run id, or its first characters.")],
    full_traceback: Annotated[
        bool, typer.Option("--traceback", help="Print the full traceback of a failed run.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (tracebacks included).")
    ] = False,
) -> None:
    """Show a run: parameters, environment, steps, metrics and any error."""
    with output.team(ctx.obj, create=False) as team:
        detail = team.run(run)
    if as_json:
        output.print_json(detail.to_json())
        return
    record, executions, outputs, metrics = (
        detail.record,
        detail.executions,
        detail.outputs,
        detail.metrics,
    )
    out = output.console()
    out.print(f"[bold]run {record.id}[/bold]  {record.pipeline}  {record.status}")
    git = (
        "not a git checkout"
        if record.git_dirty is None
        else (record.git_commit or "no commit yet") + (" (dirty)" if record.git_dirty else "")
    )
    for label, value in [
        ("source", record.source),
        ("started", output.when(record.started_at)),
        ("ended", output.when(record.ended_at)),
        ("user", f"{record.user} on {record.host} (pid {record.pid})"),
        ("git", git),
        ("python", f"{record.python_version}, {len(record.packages)} packages"),
        ("params", ", ".join(f"{k}={v}" for k, v in record.params.items()) or "(none)"),
        ("experiment", record.experiment),
        ("tags", ", ".join(f"{k}={v}" for k, v in record.tags.items()) or "(none)"),
        ("note", record.note or "(none)"),
    ]:
        out.print(f"  {label:<10} {output.escape(str(value))}")
    rows = [
        (
            e.step,
            e.status,
            output.duration(e.started_at, e.ended_at),
            (e.cached_from or "")[:12],
            " ".join(f"{k}={d[:12]}" for k, d in outputs.get(e.id, {}).items()),
        )
        for e in executions
    ]
    out.print(output.table("steps", ["step", "status", "took", "reused", "outputs"], rows))
    if metrics:
        out.print(
            output.table(
                "metrics",
                ["metric", "value", "step"],
                [(m.key, f"{m.value:.6g}", "" if m.step is None else m.step) for m in metrics],
            )
        )
    _print_outcome(out, record, executions, full_traceback)


def _print_outcome(
    out: Console, record: RunRecord, executions: list[ExecutionRecord], full_traceback: bool
) -> None:
    """How a run that did not succeed ended, in one line; the traceback only when asked."""
    if record.status == "interrupted":
        stopped = [e.step for e in executions if e.status == "interrupted"]
        where = f" in step {stopped[0]!r}" if stopped else ""
        out.print(f"[red]interrupted[/red]{where} (Ctrl-C or SIGTERM)")
    elif record.error:
        first = record.error.strip().splitlines()[0] if record.error.strip() else record.error
        out.print(f"[red]error:[/red] {output.escape(first)}")
    if not record.traceback:
        return
    if full_traceback:
        out.print(output.escape(record.traceback))
    else:
        out.print(f"[dim]the traceback: assay runs show {record.id[:12]} --traceback[/dim]")


@app.command("compare")
def compare(
    ctx: typer.Context,
    runs: Annotated[list[str], typer.Argument(help="Two or more run ids (or prefixes).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show runs side by side: parameters, tags and metrics, differences highlighted."""
    if len(runs) < 2:
        raise ConfigError("give at least two runs to compare", hint="assay runs compare RUN RUN")
    with output.team(ctx.obj, create=False) as team:
        frame, differing = team.compare(runs)
    if as_json:
        table = frame.astype(object).where(frame.notna(), None)
        output.print_json(
            {
                "runs": list(frame.columns),
                "differing": differing,
                "fields": {str(f): list(v) for f, v in table.iterrows()},
            }
        )
        return
    out = output.console()
    view = output.table(None, ["field", *frame.columns], [])
    for field, values in frame.iterrows():
        style = "bold yellow" if field in differing else None
        view.add_row(str(field), *(output.cell(v) for v in values), style=style)
    out.print(view)
    out.print(f"{len(differing)} of {len(frame)} fields differ (highlighted)")


@app.command("export")
def export(
    ctx: typer.Context,
    target: Annotated[Path, typer.Option("--output", "-O", help="File to write.")],
    file_format: Annotated[
        str, typer.Option("--format", "-f", help="csv or parquet (default: from the suffix).")
    ] = "",
    experiment: Annotated[
        str | None, typer.Option("--experiment", "-e", help="Only runs of this experiment.")
    ] = None,
    where: Annotated[str | None, typer.Option("--where", help="Filter, as for list.")] = None,
    order_by: Annotated[str | None, typer.Option("--order-by", "-o", help="Sort.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many runs.")] = None,
) -> None:
    """Write runs (attributes, params.*, tags.*, last metrics.*) to CSV or Parquet."""
    kind = (file_format or target.suffix.lstrip(".")).lower()
    if kind not in ("csv", "parquet"):
        raise ConfigError(
            f"cannot export to {kind or 'a file without a suffix'!r}",
            hint="use --format csv or --format parquet",
        )
    with output.team(ctx.obj, create=False) as team:
        frame = team.runs_table(experiment=experiment, where=where, order_by=order_by, limit=limit)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if kind == "csv":
            frame.to_csv(target, index=False)
        else:
            frame.to_parquet(target, index=False)
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror}") from None
    output.console().print(f"exported {len(frame)} runs to {target}")
