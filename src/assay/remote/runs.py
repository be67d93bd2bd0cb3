"""The runs repository over a team server's REST API: a run recorded by the server, as the
user the credential stands for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from assay.core import restored, spelled_out
from assay.metadata import MetricRecord, RunRecord, shallow_dict
from assay.remote.connection import Connection, number, parsed, spelled

__all__ = ["BATCH", "HttpRuns"]

BATCH = 10_000
"""Metric values sent in one request (one transaction on the server): what an ad hoc run
buffers before it writes. A longer list goes as several requests, each whole."""


class HttpRuns:
    """``RunRepository`` through ``connection``. The server records who authenticated as
    the run's user (the record's ``user`` is not believed), and only that user, or an
    admin, may add to a run."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def insert_run(self, run: RunRecord) -> None:
        body = {**shallow_dict(run), "params": spelled_out(run.params)}
        self.connection.call("POST", "/runs", body=body)

    def annotate_run(
        self, run_id: str, *, tags: Mapping[str, str] | None = None, note: str | None = None
    ) -> None:
        body = {"tags": dict(tags or {}), "note": note}
        self.connection.call("PATCH", f"/runs/{run_id}", body=body)

    def log_run_data(
        self, run_id: str, params: Mapping[str, Any], metrics: Sequence[MetricRecord]
    ) -> None:
        batches = _batches(metrics)
        for i, batch in enumerate(batches):
            body = {"params": spelled_out(dict(params)) if i == 0 else {}, "metrics": batch}
            self.connection.call("POST", f"/runs/{run_id}/data", body=body)

    def finish_run(
        self,
        run_id: str,
        status: str,
        *,
        error: str | None = None,
        traceback: str | None = None,
        params: Mapping[str, Any] | None = None,
        metrics: Sequence[MetricRecord] = (),
    ) -> None:
        *before, last = _batches(metrics)
        for batch in before:
            self.connection.call("POST", f"/runs/{run_id}/data", body={"metrics": batch})
        body = {"status": status, "error": error, "traceback": traceback, "metrics": last}
        body["params"] = spelled_out(dict(params or {}))
        self.connection.call("POST", f"/runs/{run_id}/finish", body=body)

    def get_run(self, ref: str, *, whole: bool = True) -> RunRecord:
        found = self.connection.call("GET", f"/runs/{ref}/record", params={"whole": whole})
        return parsed(RunRecord, {**found, "params": restored(found["params"])})

    def metrics(self, run_id: str) -> list[MetricRecord]:
        found = self.connection.call("GET", f"/runs/{run_id}/metrics")
        return [
            parsed(MetricRecord, {**m, "run_id": found["run_id"], "value": number(m["value"])})
            for m in found["metrics"]
        ]


def _batches(metrics: Sequence[MetricRecord]) -> list[list[dict[str, Any]]]:
    """The metric values as the server takes them, in requests of at most BATCH (at least
    one request, maybe empty)."""
    wire = [
        {
            "key": m.key,
            "value": spelled(m.value),
            "timestamp": m.timestamp,
            "step": m.step,
            "execution_id": m.execution_id,
        }
        for m in metrics
    ]
    return [wire[i : i + BATCH] for i in range(0, len(wire), BATCH)] or [[]]
