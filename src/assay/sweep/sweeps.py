"""Running a sweep: every trial a run of the pipeline, in worker processes, sharing the cache."""

from __future__ import annotations

import contextlib
import difflib
import multiprocessing
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

from assay.errors import AssayError, ConfigError, ParameterError
from assay.runner.api import open_recorder
from assay.runner.loader import load_pipeline
from assay.settings import Settings
from assay.sweep.best import REGISTER_MODES, Registered, register_trial, run_quietly
from assay.sweep.space import Range, grid_trials

__all__ = ["SweepResult", "TrialResult", "run_sweep"]


@dataclass(frozen=True, slots=True)
class TrialResult:
    """One trial: its parameters, run, outcome, objective and how many steps it reused;
    ``logged`` names the metrics a trial logged when the objective is not one of them."""

    number: int
    params: dict[str, Any]
    run_id: str | None
    status: str
    error: str | None = None
    executed: int = 0
    reused: int = 0
    value: float | None = None
    logged: tuple[str, ...] | None = None


@dataclass
class SweepResult:
    """Every trial of a sweep, the best one, the step executions reused in all, and what
    was registered (``register``: none, best or all)."""

    experiment: str
    objective: str
    direction: str
    trials: list[TrialResult] = field(default_factory=list)
    seconds: float = 0.0
    register: str = "none"
    registered: Registered | None = None

    @property
    def best(self) -> TrialResult | None:
        """The succeeded trial with the best objective value, if any has one."""
        scored = [t for t in self.trials if t.value is not None and t.value == t.value]
        if not scored:
            return None
        pick = max if self.direction == "max" else min
        return pick(scored, key=lambda t: t.value or 0.0)

    @property
    def executed(self) -> int:
        """Step executions that ran."""
        return sum(t.executed for t in self.trials)

    @property
    def reused(self) -> int:
        """Step executions reused from the cache instead of run."""
        return sum(t.reused for t in self.trials)


def run_sweep(
    target: str,
    settings: Settings,
    *,
    grid: Mapping[str, list[str]],
    ranges: Mapping[str, Range] | None = None,
    search: str = "grid",
    trials: int | None = None,
    objective: str = "",
    direction: str = "max",
    base_params: Mapping[str, Any] | None = None,
    experiment: str | None = None,
    workers: int = 1,
    observer: Callable[[TrialResult], None] | None = None,
    register: str = "none",
) -> SweepResult:
    """Run the pipeline at ``target`` once per trial and record every run in one experiment.

    The first trial runs alone so that the steps every trial shares run once; the others
    reuse them from the cache while up to ``workers`` processes run trials at once.

    ``register`` says what enters the model registry: ``none`` (trials record their models,
    metrics and lineage, but no version), ``best`` (once the sweep is done, the best trial
    is run again with registering on: its steps come from the cache, its version is
    registered and gated as by ``assay run``) or ``all`` (every trial registers).

    Raises:
        ConfigError: a bad search, objective, direction or register mode; or a trial that
            succeeded without logging the objective (the sweep stops there).
        ParameterError: a trial's parameters do not fit the pipeline (checked before any run).
    """
    pipe, _ = load_pipeline(target)
    base = dict(base_params or {})
    ranges = dict(ranges or {})
    metric = _objective(objective, required=search == "optuna" or register == "best")
    if direction not in ("max", "min"):
        raise ConfigError(f"unknown direction {direction!r}", hint="use max or min")
    if register not in REGISTER_MODES:
        raise ConfigError(
            f"unknown --register {register!r}", hint=f"use {', '.join(REGISTER_MODES)}"
        )
    known = {p.name for p in pipe.params}
    for name in [*grid, *ranges]:
        if name not in known:
            raise ParameterError(
                f"the sweep names {name!r}, which is not a parameter of pipeline {pipe.name!r}",
                hint=f"parameters are: {', '.join(sorted(known))}",
            )
    result = SweepResult(
        experiment or f"{pipe.name}-sweep", objective, direction, register=register
    )
    started = time.perf_counter()
    if search == "grid":
        if ranges:
            raise ConfigError("--range needs --search optuna", hint="give --grid values instead")
        plan = [{**base, **trial} for trial in grid_trials(dict(grid))]
        for params in plan:
            pipe.coerce_params(params)  # every trial is checked before the first one runs
        _run_all(target, settings, result, plan, metric, workers, observer)
    elif search == "optuna":
        if not trials or trials < 1:
            raise ConfigError("--search optuna needs --trials N", hint="for example --trials 50")
        _run_optuna(
            target, settings, result, dict(grid), ranges, base, trials, metric, workers, observer
        )
    else:
        raise ConfigError(f"unknown search {search!r}", hint="use --search grid or optuna")
    best = result.best
    if register == "best" and best is not None:
        result.registered = register_trial(
            target, settings, result.experiment, best.number, best.params
        )
    result.seconds = time.perf_counter() - started
    return result


def _objective(text: str, *, required: bool) -> str | None:
    if not text:
        if required:
            raise ConfigError(
                "an Optuna search and --register best need --objective metrics.NAME",
                hint="name the metric that picks the best trial, e.g. metrics.macro_f1",
            )
        return None
    scope, dot, name = text.partition(".")
    if scope != "metrics" or not dot or not name:
        raise ConfigError(f"bad objective {text!r}", hint="write metrics.NAME, e.g. metrics.f1")
    return name


def _run_all(
    target: str,
    settings: Settings,
    result: SweepResult,
    plan: list[dict[str, Any]],
    metric: str | None,
    workers: int,
    observer: Callable[[TrialResult], None] | None,
) -> None:
    if not plan:
        return
    registers = result.register == "all"
    first = run_trial(target, settings, result.experiment, plan[0], 0, metric, registers)
    _add(result, first, observer)
    if workers <= 1:
        for number, params in enumerate(plan[1:], start=1):
            _add(
                result,
                run_trial(target, settings, result.experiment, params, number, metric, registers),
                observer,
            )
        return
    with _pool(workers) as pool, _cancelled_on_error(pool):
        futures = [
            pool.submit(
                run_trial, target, settings, result.experiment, params, number, metric, registers
            )
            for number, params in enumerate(plan[1:], start=1)
        ]
        for future in futures:
            _add(result, future.result(), observer)


def _run_optuna(
    target: str,
    settings: Settings,
    result: SweepResult,
    grid: dict[str, list[str]],
    ranges: dict[str, Range],
    base: dict[str, Any],
    trials: int,
    metric: str | None,
    workers: int,
    observer: Callable[[TrialResult], None] | None,
) -> None:
    import optuna  # noqa: PLC0415 - only Optuna searches need it

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize" if result.direction == "max" else "minimize",
        sampler=optuna.samplers.TPESampler(seed=0),
    )

    def ask() -> tuple[Any, dict[str, Any]]:
        trial = study.ask()
        chosen: dict[str, Any] = {n: trial.suggest_categorical(n, v) for n, v in grid.items()}
        for name, r in ranges.items():
            if r.integer:
                chosen[name] = trial.suggest_int(name, int(r.low), int(r.high), log=r.log)
            else:
                chosen[name] = trial.suggest_float(name, r.low, r.high, log=r.log)
        return trial, {**base, **chosen}

    def tell(trial: Any, outcome: TrialResult) -> None:
        ok = outcome.status == "succeeded" and outcome.value is not None
        if ok:
            study.tell(trial, outcome.value)
        else:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        _add(result, outcome, observer)

    registers = result.register == "all"
    first, params = ask()
    tell(first, run_trial(target, settings, result.experiment, params, 0, metric, registers))
    asked = 1
    with _pool(max(workers, 1)) as pool, _cancelled_on_error(pool):
        running: dict[Future[TrialResult], Any] = {}
        while asked < trials or running:
            while asked < trials and len(running) < max(workers, 1):
                trial, params = ask()
                future = pool.submit(
                    run_trial, target, settings, result.experiment, params, asked, metric, registers
                )
                running[future] = trial
                asked += 1
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                tell(running.pop(future), future.result())


def _pool(workers: int) -> ProcessPoolExecutor:
    # Fresh interpreters: a forked copy of this process would share its database connections.
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


@contextlib.contextmanager
def _cancelled_on_error(pool: ProcessPoolExecutor) -> Iterator[None]:
    # Leaving the pool waits for every queued trial; a sweep that stops must not.
    try:
        yield
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise


def _add(
    result: SweepResult, trial: TrialResult, observer: Callable[[TrialResult], None] | None
) -> None:
    if trial.logged is not None:
        raise _not_logged(result.objective, trial)
    result.trials.append(trial)
    if observer:
        observer(trial)


def _not_logged(objective: str, trial: TrialResult) -> ConfigError:
    name = objective.partition(".")[2]
    logged = list(trial.logged or ())
    close = difflib.get_close_matches(name, logged, n=1)
    guess = f"did you mean metrics.{close[0]}? " if close else ""
    return ConfigError(
        f"--objective {objective}: trial {trial.number} (run {(trial.run_id or '')[:12]}) "
        f"logged no metric {name!r}; the sweep stopped",
        hint=f"{guess}it logged: {', '.join(logged)}"
        if logged
        else "it logged no metrics; a step logs one with assay.log_metrics",
    )


def run_trial(
    target: str,
    settings: Settings,
    experiment: str,
    params: dict[str, Any],
    number: int,
    metric: str | None,
    register: bool = False,
) -> TrialResult:
    """Run one trial (in this process or a worker) and read its objective from the store;
    with ``register`` False, the versions its pipeline registers are left out."""
    outcome = TrialResult(number, dict(params), None, "failed")
    try:
        run = run_quietly(target, params, settings, experiment, register=register)
    except AssayError as exc:
        run_id = getattr(exc, "run_id", None)
        return replace(outcome, run_id=run_id, error=str(exc))
    except Exception as exc:  # a trial's crash must not end the sweep
        return replace(outcome, error=f"{type(exc).__name__}: {exc}")
    value, missing = None, None
    if metric is not None:
        store = open_recorder(settings)  # the team server's, or the store's
        try:
            logged = store.runs.latest_metrics([run.run_id])[run.run_id]
        finally:
            store.close()
        value = logged.get(metric)
        missing = None if metric in logged else tuple(sorted(logged))
    return replace(
        outcome,
        run_id=run.run_id,
        status=run.status,
        executed=len(run.executions) - run.reused,
        reused=run.reused,
        value=value,
        logged=missing,
    )
