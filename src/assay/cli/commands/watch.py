"""``assay monitor run|retrains``: the long-running monitor and the retrainings it started."""

from __future__ import annotations

import functools
import signal
import threading
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from assay.cli import output
from assay.monitoring.loop import MonitorLoop, Round
from assay.monitoring.policy import load_monitor_policy
from assay.runner.api import launch

__all__ = ["retrains", "run_monitor"]


def run_monitor(
    ctx: typer.Context,
    policy_path: Annotated[
        Path, typer.Option("--policy", "-p", help="The monitoring policy (YAML).")
    ],
    once: Annotated[bool, typer.Option("--once", help="Run one round, then exit.")] = False,
    rounds: Annotated[
        int | None, typer.Option("--rounds", min=1, help="Stop after this many rounds.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print each round as JSON.")] = False,
) -> None:
    """Watch a served model as its policy says: every round, check fresh windows of its
    prediction log for drift and live performance, deliver new alerts to the webhook, and
    start the training pipeline again when a trigger is due. SIGTERM or Ctrl-C stops it
    after the round in progress; a second one stops at once."""
    policy = load_monitor_policy(policy_path)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt  # a second signal: stop now (a run in progress is interrupted)
        # Set from another thread: this handler may run inside ``stop.wait`` while the main
        # thread holds the event's lock, which ``set`` would then wait for forever.
        threading.Thread(target=stop.set, name="assay-monitor-stop").start()

    con = output.console()
    problems: list[str] = []

    def report(done: Round) -> None:
        problems.extend(done.problems)
        if as_json:
            output.print_json(_round(done))
        else:
            _print_round(con, done)

    previous = signal.signal(signal.SIGTERM, on_signal), signal.signal(signal.SIGINT, on_signal)
    try:
        with output.opened(ctx.obj) as ws:
            loop = MonitorLoop(
                ws,
                policy,
                base=policy_path.resolve().parent,
                launcher=functools.partial(launch, ws),
            )
            if not as_json:
                con.print(_banner(policy.model, policy.every, 1 if once else rounds))
            ran = loop.run(stop, rounds=1 if once else rounds, on_round=report)
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    if not as_json:
        con.print(f"stopped after {ran} round{'s' if ran != 1 else ''}")
    if once and problems:
        raise typer.Exit(1)


def _banner(model: str, every: str, rounds: int | None) -> str:
    if rounds == 1:
        return f"monitoring {model}: one round"  # no wait between rounds for Ctrl-C to cut
    many = f", {rounds} rounds" if rounds else ""
    return f"monitoring {model} every {every}{many} (Ctrl-C stops)"


def _round(done: Round) -> dict[str, Any]:
    return {
        "watched": done.watched,
        "checked": [
            {"window": asdict(c.window), "alert": asdict(c.alert) if c.alert else None,
             "new_alert": c.new}
            for c in done.checked
        ],
        "skipped": done.skipped,
        "delivery": asdict(done.delivery) if done.delivery else None,
        "retrain": asdict(done.retrain) if done.retrain else None,
        "problems": done.problems,
    }  # fmt: skip


def _print_round(con: Any, done: Round) -> None:
    con.print(f"round on {done.watched}:")
    for c in done.checked:
        w = c.window
        line = f"  {w.kind}: {w.status} ({w.rows} rows, window {w.id})"
        if c.alert is not None:
            line += f"; {'new alert' if c.new else 'alert repeated'} {c.alert.id}"
        con.print(output.escape(line))
    for kind in done.skipped:
        con.print(f"  {kind}: nothing new since the last check")
    if done.delivery is not None and (done.delivery.delivered or done.delivery.failed):
        con.print(
            f"  webhook: {len(done.delivery.delivered)} delivered, "
            f"{len(done.delivery.failed)} failed"
        )
    if done.retrain is not None:
        r = done.retrain
        con.print(output.escape(f"  retraining {r.id} ({r.cause}): {r.status}"))
        con.print(output.escape("    " + _outcome(r.version, r.outcome, r.error)))
    for problem in done.problems:
        con.print(output.escape(f"  problem: {problem}"))


def _outcome(version: int | None, outcome: dict[str, Any], error: str | None) -> str:
    if error:
        return f"failed: {error}"
    if version is None:
        return str(outcome.get("note", "no new version"))
    parts = [f"version {version}", f"gates {outcome.get('gates')}"]
    if "staging" in outcome:
        parts.append("moved to staging")
    if "production" in outcome:
        parts.append("moved to production")
    if "request" in outcome:
        parts.append(f"production request {outcome['request'][:12]} waits for approval")
    if "refused" in outcome:
        parts.append(f"refused: {outcome['refused']}")
    return ", ".join(parts)


def retrains(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Option("--model", help="Only this model.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Retrainings started by monitoring, newest first: cause, run, version and outcome."""
    with output.team(ctx.obj, create=False) as team:
        found = team.retrains(model)
    if as_json:
        output.print_json([asdict(r) for r in found])
        return
    rows = [
        (r.id, r.model, r.cause, output.when(r.started_at), r.status, r.run_id or "",
         _outcome(r.version, r.outcome, r.error))
        for r in found
    ]  # fmt: skip
    columns = ["id", "model", "cause", "started", "status", "run", "outcome"]
    output.console().print(output.table(None, columns, rows))
