"""``assay run``: trace a pipeline with parameters, run it, show progress and metrics."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import time
import tomllib
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from assay.cli import output
from assay.errors import ConfigError
from assay.metadata import MetricRecord
from assay.runner import RunResult
from assay.runner.api import open_recorder
from assay.runner.api import run as run_pipeline
from assay.runner.loader import load_pipeline

__all__ = ["StepProgress", "pairs", "run"]


def run(
    ctx: typer.Context,
    pipeline: Annotated[
        str, typer.Argument(help="Folder with a pipeline.py, a .py file, or module:name.")
    ],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Parameter as NAME=VALUE; repeat for more."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="YAML, JSON or TOML file of parameters."),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Run every step, reusing nothing.")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, help="Independent steps run at once.")
    ] = 1,
    experiment: Annotated[
        str, typer.Option("--experiment", "-e", help="Experiment the run belongs to.")
    ] = "default",
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Tag as NAME=VALUE; repeat for more.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Free text about the run.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Run a pipeline; steps whose code, parameters and inputs are unchanged are reused."""
    params = {**_config_params(config), **pairs(param or [], "--param")}
    pipe, source = load_pipeline(pipeline)
    observer = StepProgress(quiet=as_json)
    previous = signal.signal(signal.SIGTERM, _terminate)
    # With --json, standard output carries the JSON alone; what steps print goes to stderr.
    printed = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
    try:
        with printed, observer:
            result = run_pipeline(
                pipe,
                params,
                settings=ctx.obj,
                workers=workers,
                cache=not no_cache,
                observer=observer,
                source=source,
                experiment=experiment,
                tags=pairs(tag or [], "--tag"),
                note=note,
            )
    finally:
        signal.signal(signal.SIGTERM, previous)
    _report(ctx, result, observer.started, as_json)


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    # Turn SIGTERM into the same clean stop as Ctrl-C, so the run is recorded as interrupted.
    raise KeyboardInterrupt


def pairs(items: list[str], flag: str) -> dict[str, Any]:
    """``["a=1", "b=x"]`` as ``{"a": "1", "b": "x"}``; a malformed item names ``flag``."""
    values: dict[str, Any] = {}
    for pair in items:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigError(
                f"malformed {flag} {pair!r}", hint=f"write {flag} NAME=VALUE, e.g. {flag} C=4"
            )
        values[name.strip()] = value
    return values


def _config_params(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        if path.suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif path.suffix == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"config file {path} is not valid: {first}") from None
    if isinstance(data, dict) and isinstance(data.get("params"), dict):
        data = data["params"]
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path} must hold a mapping of parameter names to values",
            hint="write NAME: VALUE lines, optionally under a `params:` key",
        )
    return {str(k): v for k, v in data.items()}


class StepProgress:
    """Shows a bar over the run's steps and one line per finished step."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet = quiet
        self.started = time.perf_counter()
        self.console = output.console()
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=self.console,
            transient=True,
            disable=quiet,
        )
        self.task = self.bar.add_task("starting", total=None)

    def __enter__(self) -> StepProgress:
        self.bar.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.bar.stop()

    def run_started(self, run_id: str, steps: list[str]) -> None:
        if not self.quiet:
            self.console.print(f"run [bold]{run_id[:12]}[/bold] ({len(steps)} steps)")
        self.bar.update(self.task, total=len(steps), description="running")

    def step_started(self, name: str) -> None:
        self.bar.update(self.task, description=name)

    def step_finished(self, name: str, status: str, seconds: float) -> None:
        self.bar.advance(self.task)
        if self.quiet:
            return
        mark = {"succeeded": "[green]✓[/green]", "cached": "[cyan]↺[/cyan]"}.get(
            status, "[red]✗[/red]"
        )
        detail = "reused from cache" if status == "cached" else f"{seconds:.2f}s"
        self.console.print(f" {mark} {name:<24} {detail}")


def _metrics_by_name(records: list[MetricRecord], result: RunResult) -> dict[str, float]:
    """The last value of each metric; a name logged by several steps gets ``step.name``."""
    steps = {e.execution_id: e.step for e in result.executions}
    loggers: dict[str, set[str]] = {}
    for m in records:
        loggers.setdefault(m.key, set()).add(steps.get(m.execution_id or "", ""))
    return {
        (
            f"{steps.get(m.execution_id or '', '')}.{m.key}" if len(loggers[m.key]) > 1 else m.key
        ): m.value
        for m in records
    }


def _report(ctx: typer.Context, result: RunResult, started: float, as_json: bool) -> None:
    ws = open_recorder(ctx.obj)
    try:
        metrics = _metrics_by_name(ws.runs.metrics(result.run_id), result)
        # The versions this run's outputs are registered as, by this run or an earlier one.
        versions = ws.models.versions_of_digests(
            [d for e in result.executions for d in e.outputs.values()]
        )
        verdicts = {
            (v.name, v.version): found[-1]
            for v in versions
            if (found := ws.models.verdicts(v.name, v.version))
        }
    finally:
        ws.close()
    elapsed = time.perf_counter() - started
    if as_json:
        output.print_json(
            {
                "run_id": result.run_id,
                "pipeline": result.pipeline,
                "status": result.status,
                "seconds": round(elapsed, 3),
                "steps": [
                    {
                        "step": e.step,
                        "status": e.status,
                        "seconds": round(e.seconds, 4),
                        "outputs": e.outputs,
                    }
                    for e in result.executions
                ],
                "metrics": metrics,
                "models": [f"{v.name}@{v.version}" for v in versions],
                "gates": {
                    f"{name}@{version}": {
                        "passed": g.passed,
                        "failed": [r["gate"] for r in g.results if not r["passed"]],
                    }
                    for (name, version), g in verdicts.items()
                },
            }
        )
        return
    out = output.console()
    out.print(
        f"run {result.run_id} [green]{result.status}[/green] in {elapsed:.1f}s: "
        f"{len(result.executions)} steps, {result.reused} reused from cache"
    )
    if metrics:
        out.print(
            output.table(
                "metrics",
                ["metric", "value"],
                sorted((k, output.number(v)) for k, v in metrics.items()),
            )
        )
    for v in versions:
        out.print(f"model [bold]{v.name}@{v.version}[/bold] (artifact {v.digest[:12]})")
        verdict = verdicts.get((v.name, v.version))
        if verdict is not None and verdict.passed:
            out.print(f"gates [green]passed[/green] ({len(verdict.results)} checked)")
        elif verdict is not None:
            failed = "; ".join(output.escape(r["gate"]) for r in verdict.results if not r["passed"])
            out.print(f"gates [red]FAILED[/red]: {failed}")
