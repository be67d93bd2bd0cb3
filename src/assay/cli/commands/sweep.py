"""``assay sweep``: a grid or an Optuna search over a pipeline's parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assay.cli import output
from assay.cli.commands.run import pairs
from assay.errors import AssayError
from assay.sweep import Registered, SweepResult, TrialResult, parse_grid, parse_range, run_sweep
from assay.sweep.plot import plot_sweep

__all__ = ["sweep"]


def sweep(
    ctx: typer.Context,
    pipeline: Annotated[
        str, typer.Argument(help="Folder with a pipeline.py, a .py file, or module:name.")
    ],
    grid: Annotated[
        list[str] | None, typer.Option("--grid", "-g", help="NAME=V1,V2,...; repeat for more.")
    ] = None,
    search_range: Annotated[
        list[str] | None,
        typer.Option("--range", help="NAME=LOW:HIGH[:log] for --search optuna; repeat."),
    ] = None,
    search: Annotated[str, typer.Option(help="grid (every combination) or optuna.")] = "grid",
    trials: Annotated[int | None, typer.Option(min=1, help="Trials of an Optuna search.")] = None,
    objective: Annotated[str, typer.Option(help="Metric to optimise, e.g. metrics.macro_f1.")] = "",
    direction: Annotated[str, typer.Option(help="max or min.")] = "max",
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Fixed NAME=VALUE for every trial.")
    ] = None,
    experiment: Annotated[
        str | None, typer.Option("--experiment", "-e", help="Default: PIPELINE-sweep.")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Processes.")] = 1,
    register: Annotated[
        str,
        typer.Option(
            help="What enters the model registry: none, best (the best trial, gated; needs "
            "--objective) or all (every trial)."
        ),
    ] = "none",
    plot: Annotated[
        Path | None, typer.Option(help="PNG of the objective per parameter (default: none).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Run the pipeline once per trial; shared steps run once and are reused by every trial."""
    grid_values = parse_grid(grid or [])
    ranges = parse_range(search_range or [])
    if not grid_values and not ranges:
        raise AssayError("nothing to sweep", hint="give --grid NAME=V1,V2 (or --range)")
    out = output.console()

    def show(trial: TrialResult) -> None:
        if as_json:
            return
        mark = "[green]✓[/green]" if trial.status == "succeeded" else "[red]✗[/red]"
        value = "" if trial.value is None else f"  {objective}={output.number(trial.value)}"
        detail = trial.error or f"{trial.reused} steps reused, {trial.executed} run"
        out.print(f" {mark} trial {trial.number:>3} {trial.params}{value}  ({detail})")

    result = run_sweep(
        pipeline,
        ctx.obj,
        grid=grid_values,
        ranges=ranges,
        search=search,
        trials=trials,
        objective=objective,
        direction=direction,
        base_params=pairs(param or [], "--param"),
        experiment=experiment,
        workers=workers,
        observer=show,
        register=register,
    )
    picture = plot_sweep(result, plot, [*grid_values, *ranges]) if plot else None
    failed = [t for t in result.trials if t.status != "succeeded"]
    best = result.best
    if as_json:
        output.print_json(
            {
                "experiment": result.experiment,
                "trials": len(result.trials),
                "failed": len(failed),
                "seconds": round(result.seconds, 3),
                "steps_executed": result.executed,
                "steps_reused": result.reused,
                "best": None
                if best is None
                else {"run_id": best.run_id, "params": best.params, "value": best.value},
                "plot": str(picture) if picture else None,
                "errors": sorted({t.error for t in failed if t.error}),
                "register": result.register,
                "registered": _registered_json(result.registered),
            }
        )
    else:
        total = result.executed + result.reused
        out.print(
            f"sweep {result.experiment}: {len(result.trials)} trials in {result.seconds:.1f}s, "
            f"{len(failed)} failed; {result.reused} of {total} step executions reused"
        )
        if best is not None:
            out.print(f"best: run {best.run_id} {best.params} {objective}={best.value}")
        if picture:
            out.print(f"plot: {picture}")
        out.print(_registered_line(result))
    if result.trials and len(failed) == len(result.trials):
        first = failed[0].error or "unknown error"
        raise AssayError(f"every trial failed; the first: {first}")


def _registered_json(registered: Registered | None) -> dict[str, object] | None:
    if registered is None:
        return None
    return {
        "run_id": registered.run_id,
        "trial": registered.trial,
        "versions": [{"model": m, "gates": g} for m, g in registered.versions.items()],
    }


def _registered_line(result: SweepResult) -> str:
    registered = result.registered
    if result.register == "all":
        return "registered: every trial's model (--register all)"
    if result.register == "none":
        return "registered: nothing (--register best registers the best trial)"
    if registered is None:
        return "registered: nothing; no trial has a value of the objective"
    if not registered.versions:
        return f"registered: nothing; the pipeline registers no model (run {registered.run_id})"
    notes = {"passed": " (gates passed)", "failed": " (gates FAILED, so not @latest)"}
    shown = ", ".join(m + notes.get(g or "", "") for m, g in registered.versions.items())
    return f"registered: {shown} from trial {registered.trial}, run {registered.run_id}"
