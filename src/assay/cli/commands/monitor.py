"""``assay monitor check|alerts|close|report|label|replay``: drift and live performance of
served models (``run`` and ``retrains`` are in ``watch``)."""

from __future__ import annotations

import contextlib
import csv
import os
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from assay.cli import output
from assay.errors import ConfigError, DataError
from assay.metadata import WindowRecord
from assay.monitoring.check import Checked, Window, check_drift, check_performance
from assay.monitoring.labels import add_labels
from assay.monitoring.policy import seconds

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True)

_Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _since(text: str | None) -> float | None:
    """``30m``, ``24h``, ``7d`` ago, or an ISO date (its start, UTC) or date-time."""
    if text is None:
        return None
    text = text.strip()
    with contextlib.suppress(ValueError):
        return time.time() - seconds(text)
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
        float,
        typer.Option("--alpha", help="Chance of any false alarm of a check (Holm-corrected)."),
    ] = 0.01,
    min_rows: Annotated[
        int,
        typer.Option("--min-rows", min=1, help="Fewer texts or labels: too few rows to test."),
    ] = 100,
    tolerance: Annotated[
        float,
        typer.Option(
            "--tolerance",
            min=0.0,
            max=1.0,
            help="Largest drop of a live metric that is fine, if real.",
        ),
    ] = 0.05,
    as_json: _Json = False,
) -> None:
    """Check a served model version over a window of its prediction log: input and
    prediction drift against its reference data, and live performance from late labels.
    Each result is stored; a finding raises an alert (repeats count on the open one)."""
    if kind not in {"drift", "performance", "all"}:
        raise ConfigError(f"unknown --kind {kind!r}", hint="use drift, performance or all")
    if not 0.0 < alpha < 1.0:
        raise ConfigError(
            f"--alpha {alpha} is not a chance between 0 and 1", hint="use 0.01, or 0.05"
        )
    window = Window(since=_since(since), last=last)
    found: list[Checked] = []
    with output.existing(ctx.obj) as ws:
        if kind in {"drift", "all"}:
            found.append(check_drift(ws, ref, window, alpha=alpha, min_rows=min_rows))
        if kind in {"performance", "all"}:
            found.append(
                check_performance(
                    ws, ref, window, alpha=alpha, tolerance=tolerance, min_rows=min_rows
                )
            )
    if as_json:
        output.print_json([_checked(c) for c in found])
        return
    con = output.console()
    for c in found:
        _print_window(con, c.window)
        if c.alert is not None:
            state = "new alert" if c.new else f"alert repeated ({c.alert.count} times)"
            con.print(f"{state} {c.alert.id}: {output.escape(c.alert.summary)}")


_UNTESTED = "—"  # a test that did not run has no p-value or effect, not 1 and 0


def _print_window(con: Any, w: WindowRecord) -> None:
    """One stored check: its verdict, then each test or metric, untested ones saying why."""
    report = w.report
    where = f"{w.model}@{w.version}, window {w.id}"
    if w.kind == "drift":
        con.print(f"{w.kind}: {w.status} ({w.rows} rows, {where})")
        columns = report.get("columns") or []
        if w.status == "too few rows" and columns:
            reason = (columns[0].get("details") or {}).get("reason", "too few rows")
            con.print(output.escape(f"  not tested: {reason}"))
        rows = [
            (col["column"], col["test"], _p(col["adjusted_p_value"]),
             _UNTESTED if col["effect_size"] is None
             else f"{col['effect']} {col['effect_size']:.3g}",
             "not tested" if col["adjusted_p_value"] is None else col["status"])
            for col in columns
        ]  # fmt: skip
        con.print(output.table(None, ["test of", "test", "adj. p", "effect", "status"], rows))
        return
    settings = f"alpha {report.get('alpha')}, tolerance {report.get('tolerance')}"
    con.print(f"{w.kind}: {w.status} ({w.rows} labelled rows, {where}; {settings})")
    if w.status == "too few rows":
        least = report.get("min_rows")
        con.print(f"  not tested: {w.rows} labelled rows, fewer than {least}")
        return
    tolerance = float(report.get("tolerance", 0.0))
    metrics = [_metric_row(m, tolerance) for m in report.get("metrics", [])]
    columns = ["metric", "test", "evaluation", "live", "drop", "rows", "adj. p", "verdict"]
    con.print(output.table(None, columns, metrics))


def _metric_row(m: dict[str, Any], tolerance: float) -> tuple[str, ...]:
    if m["adjusted_p_value"] is None:
        verdict = f"not tested: {(m.get('details') or {}).get('reason', 'too few rows')}"
    elif m["status"] == "ok" and (m["drop"] or 0.0) > tolerance:
        verdict = "ok (the drop is within chance)"
    else:
        verdict = m["status"]
    return (
        m["metric"],
        m["test"] or _UNTESTED,
        f"{m['evaluation']:.3f}",
        _UNTESTED if m["live"] is None else f"{m['live']:.3f}",
        _UNTESTED if m["drop"] is None else f"{m['drop']:+.3f}",
        str(m["rows"]),
        _p(m["adjusted_p_value"]),
        verdict,
    )


def _p(value: float | None) -> str:
    return _UNTESTED if value is None else f"{value:.2g}"


def _checked(c: Checked) -> dict[str, Any]:
    return {
        "window": asdict(c.window),
        "alert": asdict(c.alert) if c.alert else None,
        "new_alert": c.new,
    }


@app.command("close")
def close(
    ctx: typer.Context,
    alert_id: Annotated[int, typer.Argument(help="The alert's id (assay monitor alerts).")],
    reason: Annotated[str, typer.Option("--reason", help="What was done about it.")] = "",
) -> None:
    """Close an open alert, with the reason, in the audit log; the same finding raised again
    later opens a new alert."""
    with output.team(ctx.obj) as team:
        closed = team.close_alert(alert_id, reason)
    output.console().print(
        f"closed alert {closed.id} ({closed.kind} on {closed.model}@{closed.version})"
    )


@app.command("alerts")
def alerts(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option("--model", help="Only this model.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="open or closed.")] = None,
    as_json: _Json = False,
) -> None:
    """Stored alerts, newest first: what was found, how often, and whether delivered."""
    if status not in (None, "open", "closed"):
        raise ConfigError(f"unknown --status {status!r}", hint="use open or closed")
    with output.team(ctx.obj, create=False) as team:
        found = team.alerts(model, status)
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


@app.command("report")
def report(
    ctx: typer.Context,
    ref: Annotated[
        str,
        typer.Argument(
            help="NAME@VERSION, NAME@ALIAS or NAME@latest; a plain NAME: every version."
        ),
    ],
    out: Annotated[Path, typer.Option("--output", "-o", help="File to write.")] = Path(
        "monitor.html"
    ),
    since: Annotated[
        str | None, typer.Option("--since", help="Windows from then: 24h, 7d or a date.")
    ] = None,
    all_versions: Annotated[
        bool, typer.Option("--all-versions", help="Every version of the model, marked.")
    ] = False,
) -> None:
    """Write a self-contained HTML page of a model version's monitoring over time: drift
    tests and live performance against evaluation, the checked windows and the alerts."""
    from assay.report.monitoring import counts  # noqa: PLC0415 - matplotlib only for a report

    start = _since(since)
    with output.team(ctx.obj, create=False) as team:
        found, page = team.monitoring(ref, since=start, all_versions=all_versions)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {out}: {exc.strerror}") from None
    n = counts(found["windows"], found["alerts"])
    output.console().print(
        output.escape(
            f"wrote the monitoring of {found['ref']} to {out} ({n['windows']} window(s), "
            f"{n['alarms']} alarming; {n['open_alerts']} open alert(s))"
        )
    )


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
    stored = f"{added.stored} label{'' if added.stored == 1 else 's'} stored"
    replaced = "an earlier one" if added.replaced == 1 else "earlier ones"
    con.print(f"{stored} ({added.replaced} replaced {replaced})")
    if added.unknown:
        shown = ", ".join(added.unknown[:5]) + (" ..." if len(added.unknown) > 5 else "")
        con.print(f"{len(added.unknown)} not in the prediction log, not stored: {shown}")


# ---- assay monitor replay: simulated traffic through a running server --------------------


@app.command("replay")
def replay_traffic(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="The served model: NAME, NAME@VERSION or NAME@ALIAS.")],
    input_path: Annotated[Path, typer.Option("--input", "-i", help="CSV file of texts.")],
    column: Annotated[str, typer.Option("--column", help="The column of texts to send.")],
    labels: Annotated[
        str | None, typer.Option("--labels", help="A column of true labels to post after.")
    ] = None,
    url: Annotated[
        str, typer.Option("--url", help="The running server.")
    ] = "http://127.0.0.1:8080",
    batch: Annotated[int, typer.Option("--batch", help="Texts per request.")] = 1,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="Requests in flight at once.")
    ] = 1,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Only the first N rows of the file.")
    ] = None,
    protocol: Annotated[str, typer.Option("--protocol", help="v1 (KServe) or v2 (OIP).")] = "v1",
    as_json: _Json = False,
) -> None:
    """Send a CSV's texts through a running `assay serve` as live traffic, then post the
    true labels of the answered requests as late labels (with --labels). Prints what was
    sent and failed, the labels stored and how often each label was predicted; exits 1
    when every request failed."""
    # Loaded here, not at the top, so that other commands do not pay for the HTTP client.
    from rich.progress import BarColumn, MofNCompleteColumn, Progress  # noqa: PLC0415

    from assay.monitoring.replay import alias_version, read_traffic, replay  # noqa: PLC0415

    traffic = read_traffic(input_path, column, labels, limit)
    with output.existing(ctx.obj) as ws:
        expected = alias_version(ws, ref)
    con = output.console()
    bar = Progress(
        "replaying",
        BarColumn(),
        MofNCompleteColumn(),
        console=con,
        transient=True,
        disable=as_json or not con.is_terminal,  # piped output gets only the summary
    )
    task = bar.add_task("replaying", total=len(traffic.texts))
    with bar:
        done = replay(
            url,
            ref,
            traffic,
            batch=batch,
            concurrency=concurrency,
            protocol=protocol,
            expected_alias_version=expected,
            labels_token=os.environ.get("ASSAY_LABELS_TOKEN") or None,
            progress=lambda rows, _total: bar.update(task, completed=rows),
        )
    if as_json:
        output.print_json(asdict(done))
    else:
        for warning in done.warnings:
            con.print(f"[yellow]warning:[/yellow] {output.escape(warning)}")
        con.print(
            f"{done.requests} requests ({done.rows} rows) sent to {done.model}@{done.version} "
            f"at {output.escape(done.url)} in {done.seconds:.1f}s: {done.failed_requests} "
            f"failed ({done.failed_rows} rows)"
        )
        lab = done.labels
        if lab is not None:
            con.print(
                f"labels: {lab.stored} stored ({lab.replaced} replaced earlier ones), "
                f"{lab.unknown} not in the prediction log, {lab.failed} failed, "
                f"{lab.skipped} not posted (no label, or the request failed)"
            )
        for error in done.errors + (lab.errors if lab else []):
            con.print(f"  failed: {output.escape(error)}")
        answered = sum(done.predicted.values()) or 1
        shares = [(k, n, f"{n / answered:.1%}") for k, n in done.predicted.items()]
        con.print(output.table("predicted", ["label", "rows", "share"], shares))
    if done.failed_requests == done.requests:
        output.error(f"every request to {done.url} failed", "see the errors above")
        raise typer.Exit(1)
