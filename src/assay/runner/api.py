"""``assay.run``: trace a pipeline with parameters and run it on the local runner."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from assay.core import Pipeline
from assay.errors import DefinitionError
from assay.governance import require
from assay.remote.recording import recording
from assay.runner.loader import load_pipeline
from assay.runner.local import RunObserver, RunResult, run_dag
from assay.settings import Settings
from assay.tracking import check_experiment, check_tags
from assay.workspace import Recorder, Workspace, open_workspace

__all__ = ["launch", "open_recorder", "run"]


def run(
    pipeline: Pipeline,
    params: Mapping[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    workspace: Workspace | None = None,
    workers: int = 1,
    cache: bool = True,
    observer: RunObserver | None = None,
    source: Path | None = None,
    experiment: str = "default",
    tags: Mapping[str, Any] | None = None,
    note: str | None = None,
    register: bool = True,
) -> RunResult:
    """Run ``pipeline`` with ``params`` and record everything in the store.

    Args:
        pipeline: a ``@pipeline`` function.
        params: parameter values; strings are converted to the declared types.
        settings: where the store is; default: ``Settings.from_env()`` (``./.assay``).
            With a ``server_url``, the run is recorded through that team server, with
            the artifact root as the local cache of artifact bytes.
        workspace: an already open store to use instead of ``settings`` (left open).
        workers: how many independent steps may run at once.
        cache: reuse executions whose code, parameters and inputs are unchanged.
        observer: told as each step starts and finishes.
        source: the file the pipeline came from (default: where its function is defined).
        experiment: the experiment the run belongs to (runs are grouped and compared by it).
        tags: labels of the run, name to text.
        note: free text about the run.
        register: write the versions ``register_model`` asks for, with their gate
            verdicts; False (a sweep's trials) leaves the registry as it is, while the
            model, its metrics and its lineage are recorded as usual.

    Raises:
        ParameterError: invalid parameters.
        PermissionDenied: the user lacks the developer role (the first user of a store
            becomes its admin).
        StepFailedError: a step raised; the run is recorded as failed.
    """
    if not isinstance(pipeline, Pipeline):
        raise DefinitionError(
            f"{pipeline!r} is not a pipeline", hint="decorate the function with @assay.pipeline"
        )
    if workers < 1:
        raise DefinitionError(f"workers must be at least 1, got {workers}")
    experiment = check_experiment(experiment)
    labels = check_tags(tags or {})
    dag = pipeline.trace(params)
    if source is None:
        file = inspect.getsourcefile(pipeline.func)
        source = Path(file).resolve() if file else None
    ws = workspace or open_recorder(settings or Settings.from_env())
    try:
        if isinstance(ws, Workspace):  # a team server checks the role of whoever it is
            require(ws, "developer", "run pipelines")
        return run_dag(
            ws,
            dag,
            source=source,
            workers=workers,
            use_cache=cache,
            observer=observer,
            experiment=experiment,
            tags=labels,
            note=note,
            register=register,
        )
    finally:
        if workspace is None:  # a workspace given by the caller stays open
            ws.close()


def open_recorder(settings: Settings) -> Recorder:
    """Where a run records: the team server the settings name, else the store they name
    (created when missing)."""
    return recording(settings) if settings.server_url else open_workspace(settings)


def launch(
    ws: Workspace,
    target: str,
    params: Mapping[str, Any],
    *,
    experiment: str = "default",
    tags: Mapping[str, str] | None = None,
    note: str | None = None,
) -> str:
    """Load the pipeline at ``target`` (a folder, a ``.py`` file or ``module:attribute``),
    run it on ``ws`` with the cache on, and return the run's id: what a monitoring policy's
    retraining trigger calls.

    Raises:
        PipelineNotFoundError: nothing loadable at ``target``.
        StepFailedError: a step raised; the run is recorded as failed and named.
    """
    pipe, source = load_pipeline(target)
    result = run(
        pipe, params, workspace=ws, source=source, experiment=experiment, tags=tags, note=note
    )
    return result.run_id
