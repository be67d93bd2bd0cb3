"""Ad hoc runs: tracking from a notebook or script, with no pipeline around it."""

from __future__ import annotations

import numbers
import sys
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assay.core import use_context
from assay.errors import DataError, DefinitionError
from assay.governance import require
from assay.metadata import MetricRecord, RunRecord
from assay.metadata.runs import RunRepository
from assay.remote import connect, runs_for
from assay.runner import environment
from assay.settings import Settings
from assay.tracking import check_experiment, check_params, check_tags, same_value
from assay.tracking.values import MAX_NAME
from assay.workspace import Workspace, open_workspace

__all__ = ["AdHocRun", "start_run"]

FLUSH_EVERY = 10_000  # buffered metric values; a flush is one transaction


class AdHocRun:
    """A run logged by hand; values wait in memory and are written in large batches."""

    def __init__(self, runs: RunRepository, run_id: str) -> None:
        self._runs = runs
        self._run_id = run_id
        self._params: dict[str, Any] = {}
        self._pending_params: dict[str, Any] = {}
        self._metrics: list[MetricRecord] = []

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def step_name(self) -> str:
        return ""

    def log_metrics(self, metrics: Mapping[str, float], *, step: int | None = None) -> None:
        now = time.time()
        for key, value in metrics.items():
            name = str(key)
            if not name or len(name) > MAX_NAME:
                raise DataError(
                    f"metric name {name[:40]!r} is {len(name)} characters long",
                    hint=f"use names of 1 to {MAX_NAME} characters",
                )
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise DataError(f"metric {name!r} is not a number: {value!r}")
            self._metrics.append(MetricRecord(self._run_id, name, float(value), now, None, step))
        if len(self._metrics) >= FLUSH_EVERY:
            self.flush()

    def log_params(self, params: Mapping[str, Any]) -> None:
        for key, value in check_params(params).items():
            if key in self._params and not same_value(self._params[key], value):
                raise DataError(
                    f"parameter {key!r} is already {self._params[key]!r} in this run; "
                    f"it cannot also be {value!r}",
                    hint="log each parameter once per run, or give the second another name",
                )
            self._params[key] = self._pending_params[key] = value

    def annotate(self, *, tags: Mapping[str, str] | None = None, note: str | None = None) -> None:
        self._runs.annotate_run(self._run_id, tags=check_tags(tags or {}), note=note)

    def register_model(
        self, name: str, *, input_name: str, metadata: Mapping[str, Any]
    ) -> dict[str, Any]:
        raise DefinitionError(
            "models are registered by a pipeline step, not from an ad hoc run",
            hint="call register_model(model, name=...) inside a @pipeline",
        )

    def add_output(self, name: str, value: Any, *, kind: str | None = None) -> None:
        raise DefinitionError(
            "an ad hoc run has no step to add an output to",
            hint="return the value from a @step instead",
        )

    def flush(self) -> None:
        """Write every buffered parameter and metric now, in one transaction."""
        self._runs.log_run_data(self._run_id, *self.take())

    def take(self) -> tuple[dict[str, Any], list[MetricRecord]]:
        """The buffered parameters and metrics, leaving the buffers empty."""
        params, self._pending_params = self._pending_params, {}
        metrics, self._metrics = self._metrics, []
        return params, metrics


@contextmanager
def start_run(
    experiment: str = "default",
    *,
    name: str = "ad hoc",
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    note: str | None = None,
    settings: Settings | None = None,
    workspace: Workspace | None = None,
) -> Iterator[AdHocRun]:
    """Record an ad hoc run: ``log_params``, ``log_metrics``, ``set_tags`` inside go to it.

    Values are buffered and written when the block ends (and every 10,000 metric values);
    an exception in the block is recorded with its traceback, then raised again. With a
    team server in ``settings`` (``ASSAY_SERVER_URL``), the run is recorded through it, as
    whoever the credential stands for.

    Example::

        with assay.start_run(experiment="notebook"):
            assay.log_params({"C": 1.0})
            assay.log_metrics({"loss": 0.3}, step=1)
    """
    # This generator's caller is contextlib's __enter__; the one above is the user's code.
    frame = sys._getframe(2)
    caller = Path(frame.f_code.co_filename)
    with _recording(settings, workspace) as (runs, user):
        env = environment.capture(caller if caller and caller.is_file() else None)
        record = environment.start_record(
            env,
            user=user,
            pipeline=name,
            source=str(caller or ""),
            params={},
            experiment=check_experiment(experiment),
            tags=check_tags(tags or {}),
            note=note,
        )
        yield from _record(runs, record, params)


def _record(
    runs: RunRepository, record: RunRecord, params: Mapping[str, Any] | None
) -> Iterator[AdHocRun]:
    run_id = record.id
    runs.insert_run(record)
    run = AdHocRun(runs, run_id)
    try:
        with use_context(run):
            if params:
                run.log_params(params)
            yield run
    except BaseException as exc:
        params, metrics = run.take()
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        runs.finish_run(
            run_id,
            status,
            error=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(),
            params=params,
            metrics=metrics,
        )
        raise
    else:
        params, metrics = run.take()  # written with the run's end, in one transaction
        runs.finish_run(run_id, "succeeded", params=params, metrics=metrics)


@contextmanager
def _recording(
    settings: Settings | None, workspace: Workspace | None
) -> Iterator[tuple[RunRepository, str]]:
    """Where a run is recorded, and as whom: the workspace given, the team server the
    settings name (which records the run as whoever authenticated, and checks their role),
    or the store they name."""
    if workspace is not None:
        require(workspace, "developer", "start runs")
        yield workspace.metadata, workspace.user
        return
    settings = settings or Settings.from_env()
    if settings.server_url:
        connection = connect(settings)
        try:
            yield runs_for(settings, connection), settings.user
        finally:
            connection.close()
        return
    ws = open_workspace(settings)
    try:
        require(ws, "developer", "start runs")
        yield ws.metadata, ws.user
    finally:
        ws.close()
