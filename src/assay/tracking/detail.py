"""One run in full, as ``assay runs show`` prints it: the record, its steps with what each
wrote, and every metric value it logged."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from assay.metadata import ExecutionRecord, MetricRecord, RunRecord
from assay.workspace import Workspace

__all__ = ["RunDetail", "run_detail"]


@dataclass(frozen=True, slots=True)
class RunDetail:
    """A run, its steps (oldest first), the digests each step wrote by output name, and
    its metrics in the order they were logged."""

    record: RunRecord
    executions: list[ExecutionRecord]
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    metrics: list[MetricRecord] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """As ``assay runs show --json`` prints it."""
        return {
            **asdict(self.record),
            "executions": [
                {**asdict(e), "outputs": self.outputs.get(e.id, {})} for e in self.executions
            ],
            "metrics": [asdict(m) for m in self.metrics],
        }


def run_detail(ws: Workspace, ref: str) -> RunDetail:
    """The run whose id is or starts with ``ref``, in full.

    Raises:
        RecordNotFoundError: no run, or more than one, matches.
    """
    record = ws.metadata.get_run(ref)
    executions = ws.metadata.executions(record.id)
    outputs: dict[str, dict[str, str]] = {}
    for ev in ws.metadata.events_of([e.id for e in executions]):
        if ev.direction == "output":
            outputs.setdefault(ev.execution_id, {})[ev.name] = ev.digest
    return RunDetail(record, executions, outputs, ws.metadata.metrics(record.id))
