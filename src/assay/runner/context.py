"""The runner's side of the step context: buffered metrics and model registration."""

from __future__ import annotations

import numbers
import threading
import time
from collections.abc import Mapping
from typing import Any

from assay.errors import DataError, DefinitionError
from assay.metadata import ArtifactRecord, GateVerdictRecord, MetricRecord, Registration
from assay.metadata.plan import withheld_key
from assay.metadata.versions import ModelRepository
from assay.registry import check_name, registration
from assay.tracking import check_params, check_tags, same_value
from assay.tracking.values import MAX_NAME
from assay.workspace import Recorder

__all__ = ["ExecutionContext", "withheld_key"]


class ExecutionContext:
    """What one running step can ask for; metrics wait here until the step's records are written."""

    def __init__(
        self,
        ws: Recorder,
        *,
        run_id: str,
        execution_id: str,
        step_name: str,
        inputs: Mapping[str, ArtifactRecord],
        run_params: dict[str, Any],
        lock: threading.Lock,
        register: bool = True,
    ) -> None:
        self._ws = ws
        self._run_id = run_id
        self._execution_id = execution_id
        self._step_name = step_name
        self._inputs = inputs
        self._run_params = run_params  # every parameter of the run so far, shared by its steps
        self._lock = lock
        self.params: dict[str, Any] = {}
        self.metrics: list[MetricRecord] = []
        self.registrations: list[Registration] = []
        self.verdicts: list[GateVerdictRecord] = []
        self.side_outputs: dict[str, tuple[Any, str | None]] = {}
        self._register = register
        self.withheld = False  # the step asked to register while registering was off

    @property
    def registering(self) -> bool:
        """Whether this run writes model versions and gate verdicts (a sweep trial does not)."""
        return self._register

    @property
    def models(self) -> ModelRepository:
        """The registry the run records into, for steps that read its current state."""
        return self._ws.models

    @property
    def user(self) -> str:
        """Who runs the step."""
        return self._ws.user

    @property
    def execution_id(self) -> str:
        return self._execution_id

    @property
    def inputs(self) -> Mapping[str, ArtifactRecord]:
        """The artifacts the step was given, by input name."""
        return self._inputs

    def add_verdict(self, verdict: GateVerdictRecord) -> None:
        """Write a gate verdict with this step's record (none in a run that registers none)."""
        if self._register:
            self.verdicts.append(verdict)

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def step_name(self) -> str:
        return self._step_name

    def log_metrics(self, metrics: Mapping[str, float], *, step: int | None = None) -> None:
        now = time.time()
        for key, value in metrics.items():
            if not str(key) or len(str(key)) > MAX_NAME:
                raise DataError(
                    f"metric name {str(key)[:40]!r}... is {len(str(key))} characters long",
                    hint=f"use names of at most {MAX_NAME} characters",
                )
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise DataError(
                    f"metric {key!r} is not a number: {value!r}",
                    hint="log numbers only; put other values in a step output",
                )
            # NaN and inf are recorded as they are so that a diverging model shows as one.
            self.metrics.append(
                MetricRecord(self._run_id, str(key), float(value), now, self._execution_id, step)
            )

    def log_params(self, params: Mapping[str, Any]) -> None:
        checked = check_params(params)
        with self._lock:
            for key, value in checked.items():
                if key in self._run_params and not same_value(self._run_params[key], value):
                    raise DataError(
                        f"parameter {key!r} is already {self._run_params[key]!r} in this run; "
                        f"it cannot also be {value!r}",
                        hint="log each parameter once per run, or give the second another name",
                    )
            self._run_params.update(checked)
        self.params.update(checked)

    def annotate(self, *, tags: Mapping[str, str] | None = None, note: str | None = None) -> None:
        self._ws.runs.annotate_run(self._run_id, tags=check_tags(tags or {}), note=note)

    def add_output(self, name: str, value: Any, *, kind: str | None = None) -> None:
        self.side_outputs[name] = (value, kind)

    def register_model(
        self, name: str, *, input_name: str, metadata: Mapping[str, Any]
    ) -> dict[str, Any]:
        try:
            artifact = self._inputs[input_name]
        except KeyError:
            raise DefinitionError(
                f"step {self._step_name!r} has no artifact input {input_name!r} to register",
                hint="pass the model as the output of an earlier step",
            ) from None
        if not self._register:
            self.withheld = True
            return {"name": check_name(name), "digest": artifact.digest}
        # Written with this step's execution record, so a step that fails after asking
        # registers nothing.
        self.registrations.append(
            registration(
                name,
                artifact,
                run_id=self._run_id,
                execution_id=self._execution_id,
                user=self._ws.user,
                info=metadata,
            )
        )
        return {"name": name, "digest": artifact.digest}
