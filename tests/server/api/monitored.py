"""Monitoring records of toy@1 for the API's tests: two drift windows (the second drifted,
raising an alert whose details hold a NaN), a performance window, and a retraining."""

from __future__ import annotations

from dataclasses import dataclass

from assay.metadata import AlertDraft, AlertRecord, RetrainRecord, WindowRecord
from assay.workspace import Workspace

NAN = float("nan")


def _drift(p: float, status: str) -> dict[str, object]:
    column = {
        "column": "text",
        "test": "ks",
        "adjusted_p_value": p,
        "effect": "d",
        "effect_size": 0.4,
        "status": status,
        "details": {"statistic": NAN},
    }
    return {"alpha": 0.01, "drifted": ["text"] if status == "drift" else [], "columns": [column]}


@dataclass
class Monitored:
    windows: list[WindowRecord]
    alert: AlertRecord
    retrain: RetrainRecord


def monitor(ws: Workspace) -> Monitored:
    """Store toy@1's windows, its alert and a retraining through ``ws``."""
    stored = []
    for i, (p, status) in enumerate([(0.5, "ok"), (1e-6, "drift")]):
        window = WindowRecord("toy", 1, "drift", 1000.0 + i * 60, 1060.0 + i * 60, 200, status,
                              _drift(p, status))  # fmt: skip
        draft = (
            AlertDraft("toy", 1, "drift", "f" * 64, "toy@1: drift in text", {"p": NAN})
            if status == "drift"
            else None
        )
        found, alert, _ = ws.metadata.record_window(window, draft)
        stored.append(found)
    assert alert is not None
    live = {"accuracy": 0.7, "macro_f1": 0.68, "per_class": {"a": {"recall": 0.7}}}
    performance = WindowRecord(
        "toy", 1, "performance", 1000.0, 1120.0, 150, "ok",
        {"alpha": 0.01, "tolerance": 0.05, "live": live, "metrics": []},
    )  # fmt: skip
    stored.append(ws.metadata.record_window(performance)[0])
    started = ws.metadata.start_retrain(
        RetrainRecord("toy", "alert", {"alert": alert.id, "versions": [1]}, ws.user)
    )
    retrain = ws.metadata.finish_retrain(
        started.id, status="unchanged", outcome={"note": "no new version"}
    )
    return Monitored(stored, alert, retrain)
