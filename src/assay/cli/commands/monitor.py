"""``assay monitor check|alerts|label``: drift and live performance of served models."""

from __future__ import annotations

import csv
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from assay.cli import output
from assay.errors import ConfigError, DataError
from assay.monitoring.check import Checked, Window, check_drift, check_performance
from assay.monitoring.labels import add_labels

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)

_Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _since(text: str | None) -> float | None:
    """``30m``, ``24h``, ``7d`` ago, or an ISO date (its start, UTC) or date-time."""
    if text is None:
        return None
    text = text.strip()
    if text[:-1].replace(".", "", 1).isdigit() and text[-1:] in _UNITS:
        return time.time() - float(text[:-1]) * _UNITS[text[-1]]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--since {text!r} is neither a duration nor a date",
            hint="write 30m, 24h or 7d, or a date such as 2026-11-28 or 2026-11-28T09:00",
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


@app.command("check")
def check(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="NAME@VERSION, NAME@ALIAS or NAME@latest.")],
    kind: Annotated[str, typer.Option("--kind", help="drift, performance or all.")] = "all",
    since: Annotated[
        str | None, typer.Option("--since", help="Requests from then: 24h, 7d or a date.")
    ] = None,
    last: Annotated[
        int | None, typer.Option("--last", help="Only the newest N logged requests.")
    ] = None,
    alpha: Annotated[
        float, typer.Option("--alpha", help="Chance of any false drift alarm in the window.")
    ] = 0.01,
    min_rows: Annotated[
        int, typer.Option("--min-rows", help="Fewer texts or labels: too few rows to test.")
    ] = 100,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="Largest drop of a live metric that is fine.")
    ] = 0.05,
    as_json: _Json = False,
) -> None:
    """Check a served model version over a window of its prediction log: input and
    prediction drift against its reference data, and live performance from late labels.
    Each result is stored; a finding raises an alert (repeats count on the open one)."""
    if kind not in {"drift", "performance", "all"}:
        raise ConfigError(f"unknown --kind {kind!r}", hint="use drift, performance or all")
    window = Window(since=_since(since), last=last)
    found: list[Checked] = []
    with output.opened(ctx.obj) as ws:
        if kind in {"drift", "all"}:
            found.append(check_drift(ws, ref, window, alpha=alpha, min_rows=min_rows))
        if kind in {"performance", "all"}:
            found.append(check_performance(ws, ref, window, tolerance=tolerance, min_rows=min_rows))
    if as_json:
        output.print_json([_checked(c) for c in found])
        return
    con = output.console()
    for c in found:
        w = c.window
        con.print(f"{w.kind}: {w.status} ({w.rows} rows, {w.model}@{w.version}, window {w.id})")
        if w.kind == "drift":
            rows = [
                (col["column"], col["test"], f"{col['adjusted_p_value']:.2g}",
                 f"{col['effect']} {col['effect_size']:.3g}", col["status"])
                for col in w.report["columns"]
            ]  # fmt: skip
            con.print(output.table(None, ["test of", "test", "adj. p", "effect", "status"], rows))
        for name, drop in w.report.get("drops", {}).items():
            con.print(f"  {name}: live {drop['live']:.3f}, at evaluation {drop['evaluation']:.3f}")
        if c.alert is not None:
            state = "new alert" if c.new else f"alert repeated ({c.alert.count} times)"
            con.print(f"{state} {c.alert.id}: {output.escape(c.alert.summary)}")


def _checked(c: Checked) -> dict[str, Any]:
    return {
        "window": asdict(c.window),
        "alert": asdict(c.alert) if c.alert else None,
        "new_alert": c.new,
    }


@app.command("alerts")
def alerts(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option("--model", help="Only this model.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="open or closed.")] = None,
    as_json: _Json = False,
) -> None:
    """Stored alerts, newest first: what was found, how often, and whether delivered."""
    with output.opened(ctx.obj) as ws:
        found = ws.metadata.alerts(model, status)
    if as_json:
        output.print_json([asdict(a) for a in found])
        return
    rows = [
        (a.id, f"{a.model}@{a.version}", a.kind, a.status, a.count, output.when(a.last_at),
         "yes" if a.delivered_at else (a.delivery_error or "no"), a.summary)
        for a in found
    ]  # fmt: skip
    columns = ["id", "model", "kind", "status", "times", "last", "delivered", "summary"]
    output.console().print(output.table(None, columns, rows))


@app.command("label")
def label(
    ctx: typer.Context,
    input_path: Annotated[
        Path, typer.Option("--input", "-i", help="CSV with request_id, label[, row].")
    ],
    as_json: _Json = False,
) -> None:
    """Add late labels to logged predictions, matched by request id (and row, from 0, for
    requests of several texts). Labels for requests the log does not hold are named."""
    try:
        with input_path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(
            f"cannot read labels from {input_path}: {exc}", hint="give a UTF-8 CSV file"
        ) from None
    with output.opened(ctx.obj) as ws:
        added = add_labels(ws, rows)
    if as_json:
        output.print_json(asdict(added))
        return
    con = output.console()
    con.print(f"{added.stored} labels stored ({added.replaced} replaced earlier ones)")
    if added.unknown:
        shown = ", ".join(added.unknown[:5]) + (" ..." if len(added.unknown) > 5 else "")
        con.print(f"{len(added.unknown)} not in the prediction log, not stored: {shown}")
