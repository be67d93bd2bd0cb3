"""The runner's side of the step context: buffered metrics and model registration."""

from __future__ import annotations

import numbers
import time
from collections.abc import Mapping
from typing import Any

from assay.errors import AssayError
from assay.metadata import ArtifactRecord, MetricRecord
from assay.registry import register_version
from assay.workspace import Workspace

__all__ = ["ExecutionContext"]


class ExecutionContext:
    """What one running step can ask for; metrics wait here until the step's records are written."""

    def __init__(
        self,
        ws: Workspace,
        *,
        run_id: str,
        execution_id: str,
        step_name: str,
        inputs: Mapping[str, ArtifactRecord],
    ) -> None:
        self._ws = ws
        self._run_id = run_id
        self._execution_id = execution_id
        self._step_name = step_name
        self._inputs = inputs
        self.metrics: list[MetricRecord] = []

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def step_name(self) -> str:
        return self._step_name

    def log_metrics(self, metrics: Mapping[str, float], *, step: int | None = None) -> None:
        now = time.time()
        for key, value in metrics.items():
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise AssayError(
                    f"metric {key!r} is not a number: {value!r}",
                    hint="log numbers only; put other values in a step output",
                )
            # NaN and inf are recorded as they are so that a diverging model shows as one.
            self.metrics.append(
                MetricRecord(self._run_id, str(key), float(value), now, self._execution_id, step)
            )

    def register_model(
        self, name: str, *, input_name: str, metadata: Mapping[str, Any]
    ) -> dict[str, Any]:
        try:
            artifact = self._inputs[input_name]
        except KeyError:
            raise AssayError(
                f"step {self._step_name!r} has no artifact input {input_name!r} to register",
                hint="pass the model as the output of an earlier step",
            ) from None
        record = register_version(
            self._ws,
            name,
            digest=artifact.digest,
            run_id=self._run_id,
            execution_id=self._execution_id,
            info=metadata,
        )
        return {"name": record.name, "version": record.version, "digest": record.digest}
