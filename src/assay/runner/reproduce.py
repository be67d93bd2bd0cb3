"""Reproducing a run: the same code, parameters and data run again without the cache, compared.

Before anything runs, the recorded pipeline file is loaded and traced with the recorded
parameters; the run is refused when a step's code (its fingerprint) or a file or folder
passed as a ``Path`` differs from what the original run recorded. The new run then executes
every step, and each output is compared with the original's: identical bytes, or for JSON
values (metrics, reports) equal structure with numbers within a tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.core import Dag, Pipeline
from assay.errors import (
    ConfigError,
    PipelineNotFoundError,
    ReproductionError,
    StepFailedError,
    StoreError,
)
from assay.metadata import EventRecord, ExecutionRecord, RunRecord
from assay.runner.api import run
from assay.runner.imports import import_path
from assay.runner.loader import load_pipeline
from assay.runner.results import RunObserver, RunResult
from assay.workspace import Workspace

__all__ = [
    "DIFFERENT",
    "IDENTICAL",
    "MISSING",
    "WITHIN_TOLERANCE",
    "MetricComparison",
    "OutputComparison",
    "ReproductionReport",
    "reproduce",
]

IDENTICAL = "identical"
WITHIN_TOLERANCE = "within tolerance"
DIFFERENT = "different"
MISSING = "missing"
_AGREE = (IDENTICAL, WITHIN_TOLERANCE)


@dataclass(frozen=True, slots=True)
class OutputComparison:
    """One output of one step: its digest in the original and the new run, and how they agree.

    ``difference`` is the largest absolute difference between numbers of a JSON value found
    within tolerance; ``detail`` says where a different value first differs.
    """

    step: str
    output: str
    status: str
    original: str | None
    new: str | None
    detail: str = ""
    difference: float | None = None


@dataclass(frozen=True, slots=True)
class MetricComparison:
    """The last value of one run-level metric in the original and the new run."""

    key: str
    status: str
    original: float | None
    new: float | None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ReproductionReport:
    """What re-running a run produced, output by output and metric by metric."""

    original_run: str
    new_run: str
    tolerance: float
    outputs: tuple[OutputComparison, ...]
    metrics: tuple[MetricComparison, ...]
    environment: tuple[str, ...] = ()
    """How the new run's Python, packages and git commit differ from the original's."""

    @property
    def reproduced(self) -> bool:
        """True when every output and metric is identical or within tolerance."""
        statuses = [c.status for c in self.outputs] + [m.status for m in self.metrics]
        return all(s in _AGREE for s in statuses)

    @property
    def verdict(self) -> str:
        """``reproduced`` or ``not reproduced``."""
        return "reproduced" if self.reproduced else "not reproduced"


def reproduce(
    workspace: Workspace,
    run_ref: str,
    *,
    tolerance: float = 1e-9,
    workers: int = 1,
    observer: RunObserver | None = None,
) -> ReproductionReport:
    """Run the run ``run_ref`` again, reusing nothing, and compare what it produces.

    The new run belongs to the original's experiment, is tagged ``reproduces=<run id>``,
    and once compared ``reproduction=confirmed`` (or ``failed``).

    Args:
        workspace: the store holding the run; the new run is recorded there too.
        run_ref: the run's id or an unambiguous prefix of it.
        tolerance: relative and absolute tolerance for numbers in JSON outputs and metrics.
        workers: how many independent steps may run at once.
        observer: told as each step of the new run starts and finishes.

    Raises:
        RecordNotFoundError: no run, or several, match ``run_ref``.
        ReproductionError: the run did not succeed; its pipeline file is gone or holds
            another pipeline; a step's code, or a file or folder it read, has changed.
        PipelineNotFoundError: the pipeline file no longer imports.
        PermissionDenied: the user may not run pipelines.
        StepFailedError: a step of the new run raised; it is tagged ``reproduction=failed``.
    """
    if not (tolerance >= 0 and math.isfinite(tolerance)):
        raise ConfigError(f"tolerance must be a number of at least 0, got {tolerance}")
    ws = workspace
    original = ws.metadata.get_run(run_ref)
    executions = ws.metadata.executions(original.id)
    if original.status != "succeeded" or not executions:
        why = f"its status is {original.status!r}" if executions else "it ran no pipeline steps"
        raise ReproductionError(
            f"run {original.id[:12]} cannot be reproduced: {why}",
            hint="reproduce a succeeded pipeline run (`assay runs list`)",
        )
    pipe, source = _load(original)
    declared = {p.name for p in pipe.params}
    params = {k: v for k, v in original.params.items() if k in declared}
    dag = pipe.trace(params)
    _check_code(original, dag, executions)
    events = ws.metadata.events_of([e.id for e in executions])
    _check_data(ws, original, dag, executions, events)
    try:
        # Through assay.run, so a reproduction is held to every rule a run is.
        result = run(
            pipe,
            params,
            workspace=ws,
            workers=workers,
            cache=False,
            observer=observer,
            source=source,
            experiment=original.experiment,
            tags={"reproduces": original.id},
        )
    except StepFailedError as exc:
        ws.metadata.annotate_run(exc.run_id, tags={"reproduction": "failed"})
        raise
    report = _report(ws, original, dag, executions, events, result, tolerance)
    verdict = "confirmed" if report.reproduced else "failed"
    ws.metadata.annotate_run(result.run_id, tags={"reproduction": verdict})
    return report


def _checkout(run: RunRecord) -> str:
    if run.git_commit is None:
        return "restore the code the run was made with, then reproduce it again"
    dirty = " and restore the uncommitted changes the run was made with" if run.git_dirty else ""
    return f"run `git checkout {run.git_commit}`{dirty}, then reproduce it again"


def _load(run: RunRecord) -> tuple[Pipeline, Path]:
    if not run.source:
        raise ReproductionError(
            f"run {run.id[:12]} recorded no pipeline file",
            hint="only runs of a pipeline loaded from a file can be reproduced",
        )
    path = Path(run.source)
    if not path.is_file():
        raise ReproductionError(
            f"the pipeline file of run {run.id[:12]} is gone: {path}", hint=_checkout(run)
        )
    try:
        pipe, _ = load_pipeline(str(path))
    except PipelineNotFoundError:  # a file of several pipelines: pick the run's by name
        pipe, _ = load_pipeline(f"{path}:{run.pipeline}")
    if pipe.name != run.pipeline:
        raise ReproductionError(
            f"{path} now holds pipeline {pipe.name!r}, not {run.pipeline!r}", hint=_checkout(run)
        )
    return pipe, path


def _check_code(run: RunRecord, dag: Dag, executions: Sequence[ExecutionRecord]) -> None:
    recorded = {e.step: e.fingerprint for e in executions}
    now = {n.name: n.step.fingerprint for n in dag.nodes}
    changed = [step for step, fp in now.items() if step in recorded and recorded[step] != fp]
    added = sorted(set(now) - set(recorded))
    removed = sorted(set(recorded) - set(now))
    if not (changed or added or removed):
        return
    parts = [f"the code of {_steps(changed)} has changed"] if changed else []
    parts += [f"{_steps(added)} {'is' if len(added) == 1 else 'are'} new"] if added else []
    parts += [f"{_steps(removed)} {'is' if len(removed) == 1 else 'are'} gone"] if removed else []
    commit = f" (recorded at commit {run.git_commit[:12]})" if run.git_commit else ""
    raise ReproductionError(
        f"cannot reproduce run {run.id[:12]}{commit}: {'; '.join(parts)}", hint=_checkout(run)
    )


def _steps(names: Sequence[str]) -> str:
    return ("step " if len(names) == 1 else "steps ") + ", ".join(repr(n) for n in names)


def _check_data(
    ws: Workspace,
    run: RunRecord,
    dag: Dag,
    executions: Sequence[ExecutionRecord],
    events: Sequence[EventRecord],
) -> None:
    execution_of = {e.step: e.id for e in executions}
    recorded = {(ev.execution_id, ev.name): ev.digest for ev in events if ev.direction == "input"}
    params = {v.resolve(): k for k, v in dag.params.items() if isinstance(v, Path)}
    digests: dict[Path, str] = {}
    hint = "restore the data the run read: a reproduction runs on the same inputs"
    for node in dag.nodes:
        for arg, value in node.params.items():
            if not isinstance(value, Path):
                continue
            path = value.resolve()
            name = params.get(path)
            what = f"parameter {name!r}" if name else f"argument {arg!r} of step {node.name!r}"
            if not path.exists():
                raise ReproductionError(f"{what}: {path} no longer exists", hint=hint)
            if path not in digests:
                where = f"step {node.name!r} argument {arg!r}"
                digests[path] = import_path(ws.artifacts, path, where, arg)[0].digest
            before = recorded.get((execution_of[node.name], arg))
            if before is not None and before != digests[path]:
                raise ReproductionError(
                    f"cannot reproduce run {run.id[:12]}: the data of {what} changed "
                    f"({path} was {before[:12]}, is now {digests[path][:12]})",
                    hint=hint,
                )


def _report(
    ws: Workspace,
    original: RunRecord,
    dag: Dag,
    executions: Sequence[ExecutionRecord],
    events: Sequence[EventRecord],
    result: RunResult,
    tolerance: float,
) -> ReproductionReport:
    before = _outputs({e.id: e.step for e in executions}, events)
    after = _outputs(
        {e.execution_id: e.step for e in result.executions},
        ws.metadata.events_of([e.execution_id for e in result.executions]),
    )
    order = {n.name: i for i, n in enumerate(dag.nodes)}
    keys = sorted(
        [*before, *(k for k in after if k not in before)],
        key=lambda k: order.get(k[0], len(order)),
    )
    outputs = tuple(_compare_output(ws, k, before.get(k), after.get(k), tolerance) for k in keys)
    latest = ws.metadata.latest_metrics([original.id, result.run_id])
    metrics = _compare_metrics(latest[original.id], latest[result.run_id], tolerance)
    new = ws.metadata.get_run(result.run_id)
    return ReproductionReport(
        original.id, result.run_id, tolerance, outputs, metrics, _environment(original, new)
    )


def _outputs(
    steps: Mapping[str, str], events: Sequence[EventRecord]
) -> dict[tuple[str, str], EventRecord]:
    return {
        (steps[ev.execution_id], ev.name): ev
        for ev in events
        if ev.direction == "output" and ev.execution_id in steps
    }


def _compare_output(
    ws: Workspace,
    key: tuple[str, str],
    old: EventRecord | None,
    new: EventRecord | None,
    tolerance: float,
) -> OutputComparison:
    status, detail, difference = _agreement(ws, old, new, tolerance)
    digests = (old.digest if old else None, new.digest if new else None)
    return OutputComparison(*key, status, *digests, detail, difference)


def _agreement(
    ws: Workspace, old: EventRecord | None, new: EventRecord | None, tolerance: float
) -> tuple[str, str, float | None]:
    if old is None or new is None:
        return MISSING, f"only in the {'original' if new is None else 'new'} run", None
    if old.digest == new.digest:
        return IDENTICAL, "", None
    if old.codec != "json" or new.codec != "json":
        return DIFFERENT, f"the {new.codec} bytes differ", None
    try:
        a = ws.artifacts.get(old.digest, old.codec)
        b = ws.artifacts.get(new.digest, new.codec)
    except StoreError as exc:
        return DIFFERENT, exc.message, None
    where, largest = _first_difference(a, b, "$", tolerance)
    if where:
        return DIFFERENT, where, None
    return WITHIN_TOLERANCE, f"largest difference {largest:.3g}", largest


def _close(a: float, b: float, tolerance: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)


def _first_difference(a: Any, b: Any, path: str, tolerance: float) -> tuple[str, float]:
    """Where JSON values ``a`` and ``b`` first differ beyond ``tolerance`` ('' for nowhere),
    and the largest difference between numbers that are within it."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b)):
        if not _close(a, b, tolerance):
            return f"{path}: {a!r} vs {b!r}", 0.0
        return "", 0.0 if math.isnan(a) or a == b else abs(a - b)
    found, members = _members(a, b, path)
    largest = 0.0
    for where, x, y in members:
        found, difference = _first_difference(x, y, where, tolerance)
        if found:
            return found, 0.0
        largest = max(largest, difference)
    return found, largest


def _members(a: Any, b: Any, path: str) -> tuple[str, list[tuple[str, Any, Any]]]:
    """How containers ``a`` and ``b`` differ in shape, or '' and their members side by side."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            odd = sorted(a.keys() ^ b.keys())[0]
            return f"{path}.{odd}: only in the {'original' if odd in a else 'new'} value", []
        return "", [(f"{path}.{k}", a[k], b[k]) for k in sorted(a)]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items vs {len(b)}", []
        return "", [(f"{path}[{i}]", x, y) for i, (x, y) in enumerate(zip(a, b, strict=True))]
    same = type(a) is type(b) and a == b
    return ("" if same else f"{path}: {_short(a)} vs {_short(b)}"), []


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _compare_metrics(
    old: Mapping[str, float], new: Mapping[str, float], tolerance: float
) -> tuple[MetricComparison, ...]:
    found = []
    for key in sorted({*old, *new}):
        a, b = old.get(key), new.get(key)
        if a is None or b is None:
            where = "the original run" if b is None else "the new run"
            found.append(MetricComparison(key, MISSING, a, b, f"only in {where}"))
        elif a == b or (math.isnan(a) and math.isnan(b)):
            found.append(MetricComparison(key, IDENTICAL, a, b))
        elif _close(a, b, tolerance):
            found.append(
                MetricComparison(key, WITHIN_TOLERANCE, a, b, f"difference {abs(a - b):.3g}")
            )
        else:
            found.append(MetricComparison(key, DIFFERENT, a, b, f"{a!r} vs {b!r}"))
    return tuple(found)


def _environment(old: RunRecord, new: RunRecord) -> tuple[str, ...]:
    changes = []
    if old.git_commit != new.git_commit:
        changes.append(f"git commit {old.git_commit} -> {new.git_commit}")
    if old.python_version != new.python_version:
        changes.append(f"python {old.python_version} -> {new.python_version}")
    for name in sorted({*old.packages, *new.packages}, key=str.lower):
        a, b = old.packages.get(name), new.packages.get(name)
        if a != b:
            changes.append(f"{name} {a or '(none)'} -> {b or '(none)'}")
    return tuple(changes)
