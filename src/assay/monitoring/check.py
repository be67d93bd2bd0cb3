"""Checking a served model version over a window of its prediction log: input and
prediction drift against its reference data, and live performance from late labels."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assay.errors import DataError
from assay.metadata import (
    AlertDraft,
    AlertRecord,
    ModelVersionRecord,
    PredictionRecord,
    WindowRecord,
)
from assay.monitoring.drift import DriftReport
from assay.monitoring.performance import live_performance
from assay.monitoring.steps import TEXT
from assay.monitoring.tabular import logged_table, reference_table, tabular_drift
from assay.monitoring.text import text_drift, words
from assay.registry import (
    Signature,
    load_scorer,
    recorded_signature,
    reference_data,
    resolve,
    version_signature,
)
from assay.workspace import Workspace

__all__ = ["Checked", "Window", "check_drift", "check_performance", "logged_rows"]


@dataclass(frozen=True, slots=True)
class Window:
    """Which logged requests to check: those answered in [``since``, ``until``), then at
    most the ``last`` of them (the newest)."""

    since: float | None = None
    until: float | None = None
    last: int | None = None


@dataclass(frozen=True, slots=True)
class Checked:
    """A stored window and, if it raised one, its alert (``new`` when not a repeat)."""

    window: WindowRecord
    alert: AlertRecord | None
    new: bool


def logged_rows(
    ws: Workspace, record: ModelVersionRecord, window: Window
) -> tuple[list[PredictionRecord], list[str]]:
    """The version's logged requests in ``window`` and their texts, row by row."""
    logged = ws.metadata.predictions(
        record.name,
        version=record.version,
        since=window.since,
        until=window.until,
        newest=window.last,
    )
    return logged, [str(t) for p in logged for t in p.inputs]


def check_drift(
    ws: Workspace,
    ref: str,
    window: Window,
    *,
    alpha: float = 0.01,
    min_rows: int = 100,
) -> Checked:
    """Compare the inputs ``ref``'s version answered in ``window`` with its reference data,
    store the result, and raise a drift alert if any test moved (all Holm-corrected at
    ``alpha``). Fewer than ``min_rows`` rows: stored as ``too few rows``, no alert.

    A text model's texts are tested for token length, out-of-vocabulary share, predicted
    labels and probabilities, and with a domain classifier; a tabular model's rows column
    by column (the columns of its signature), then its predictions (labels and
    probabilities, or numbers). See ``tabular_drift``.

    Raises:
        DataError: the version has no reference data, or none with its input columns (for
            a text model, a text column); a logged tabular row does not fit its signature.
        ModelNotFoundError: ``ref`` names no version.
    """
    record = resolve(ws, ref)
    model, _ = load_scorer(ws, record)
    signature = version_signature(record, model)
    if signature.kind == "tabular":
        logged, rows, report = _tabular_report(
            ws, record, window, model, signature, alpha, min_rows
        )
    else:
        logged, rows, report = _text_report(ws, record, window, model, alpha, min_rows)
    statuses = {c.status for c in report.columns}
    status = (
        "drift" if report.drifted else ("too few rows" if statuses == {"too few rows"} else "ok")
    )
    stored = _window(record, "drift", window, logged, rows, status, report.to_dict())
    alert = None
    if report.drifted:
        tests = ", ".join(report.drifted)
        alert = AlertDraft(
            model=record.name,
            version=record.version,
            kind="drift",
            fingerprint=_fingerprint(record, "drift", report.drifted),
            summary=f"{record.name}@{record.version}: input or prediction drift in {tests}",
            details={"drifted": report.drifted, "rows": rows, "alpha": alpha},
        )
    saved, raised, new = ws.metadata.record_window(stored, alert)
    return Checked(saved, raised, new)


def _text_report(
    ws: Workspace,
    record: ModelVersionRecord,
    window: Window,
    model: Any,
    alpha: float,
    min_rows: int,
) -> tuple[list[PredictionRecord], int, DriftReport]:
    reference = _reference_texts(ws, record)
    logged, texts = logged_rows(ws, record, window)
    # A text regressor gives no labels to test: its texts alone are.
    scores = hasattr(model, "predict_proba") and hasattr(model, "classes_")
    classes = [str(c) for c in model.classes_] if scores else []

    def scorer(batch: Sequence[str]) -> tuple[list[str], Any]:
        proba = model.predict_proba(list(batch))
        return [classes[i] for i in proba.argmax(axis=1)], proba

    report = text_drift(
        reference,
        texts,
        vocabulary=_vocabulary(model, reference),
        scorer=scorer if scores else None,
        classes=classes,
        alpha=alpha,
        min_rows=min_rows,
    )
    return logged, len(texts), report


def _tabular_report(
    ws: Workspace,
    record: ModelVersionRecord,
    window: Window,
    model: Any,
    signature: Signature,
    alpha: float,
    min_rows: int,
) -> tuple[list[PredictionRecord], int, DriftReport]:
    label = f"{record.name}@{record.version}"
    reference = reference_table(signature, _reference_frame(ws, record), label)
    logged, _ = logged_rows(ws, record, window)
    current = logged_table(signature, logged, label)

    def scorer(table: Any) -> tuple[Sequence[Any], Any]:
        given = table if signature.named else table.to_numpy()
        if signature.task == "regression":
            return model.predict(given), None
        proba = model.predict_proba(given)
        return [signature.classes[i] for i in proba.argmax(axis=1)], proba

    report = tabular_drift(
        reference, current, signature, scorer=scorer, alpha=alpha, min_rows=min_rows
    )
    return logged, len(current), report


def check_performance(
    ws: Workspace,
    ref: str,
    window: Window,
    *,
    alpha: float = 0.01,
    tolerance: float = 0.05,
    min_rows: int = 100,
    min_class_rows: int = 20,
) -> Checked:
    """Score the logged predictions of ``ref``'s version in ``window`` that have late labels
    (accuracy, macro-F1, per-class recall) against its evaluation metrics, and raise a
    performance alert for the metrics that fell short by more than ``tolerance`` beyond
    chance: one-sided tests, Holm-corrected at ``alpha`` (see ``live_performance``). A class
    with fewer than ``min_class_rows`` labelled rows is not tested; fewer than ``min_rows``
    labelled rows in all: stored as ``too few rows``, no alert.

    Raises:
        DataError: the version was registered without evaluation metrics to compare with,
            or it is a regressor.
        ModelNotFoundError: ``ref`` names no version.
    """
    record = resolve(ws, ref)
    signature = recorded_signature(record)
    if signature is not None and signature.task == "regression":
        raise DataError(
            f"{record.name}@{record.version} is a regressor; live performance is checked "
            "for classifiers, from their late labels",
            hint="check its drift only (assay monitor check --kind drift)",
        )
    baseline = record.info.get("metrics") or {}
    if "per_class" not in baseline or "labels" not in baseline:
        raise DataError(
            f"{record.name}@{record.version} has no evaluation metrics to compare live "
            "performance with",
            hint="register it with register_model(..., metrics=classification_report(...))",
        )
    # Before the reads: a label stored while this check runs is news for the next one.
    read_at = time.time()
    logged, _ = logged_rows(ws, record, window)
    known = ws.metadata.labels_for([p.request_id for p in logged])
    truth, predicted = [], []
    for p in logged:
        for row, output in enumerate(p.outputs):
            if (p.request_id, row) in known and isinstance(output, dict):
                truth.append(known[(p.request_id, row)])
                predicted.append(str(output.get("label")))
    found = live_performance(
        baseline,
        truth,
        predicted,
        alpha=alpha,
        tolerance=tolerance,
        min_rows=min_rows,
        min_class_rows=min_class_rows,
    )
    report = found.to_dict() | {"labels_read_at": read_at}
    stored = _window(record, "performance", window, logged, len(truth), found.status, report)
    alert = None
    drops = {m.metric: m for m in found.metrics if m.status == "drop"}
    if drops:
        worst = max(drops.values(), key=lambda m: m.drop or 0.0)
        alert = AlertDraft(
            model=record.name,
            version=record.version,
            kind="performance",
            fingerprint=_fingerprint(record, "performance", sorted(drops)),
            summary=(
                f"{record.name}@{record.version}: live {worst.metric} {worst.live:.3f} "
                f"against {worst.evaluation:.3f} at evaluation (adjusted p "
                f"{worst.adjusted_p_value:.2g})"
            ),
            details={
                "drops": report["drops"],
                "labelled_rows": len(truth),
                "alpha": alpha,
                "tolerance": tolerance,
            },
        )
    saved, raised, new = ws.metadata.record_window(stored, alert)
    return Checked(saved, raised, new)


def _window(
    record: ModelVersionRecord,
    kind: str,
    window: Window,
    logged: list[PredictionRecord],
    rows: int,
    status: str,
    report: dict[str, Any],
) -> WindowRecord:
    """The record of one check: its span is that of the requests it read, else the window's."""
    return WindowRecord(
        model=record.name,
        version=record.version,
        kind=kind,
        start_at=logged[0].at if logged else (window.since or time.time()),
        end_at=logged[-1].at if logged else (window.until or time.time()),
        rows=rows,
        status=status,
        report=report,
    )


def _reference_frame(ws: Workspace, record: ModelVersionRecord) -> Any:
    event = reference_data(ws, record)
    if event is None:
        raise DataError(
            f"{record.name}@{record.version} has no reference data to compare live requests with",
            hint="register it with register_model(..., reference=reference_sample(test_set, "
            "text_column=...)) for a text model, or reference_sample(test_set, "
            "label_column=...) for a table, and run the pipeline again",
        )
    return ws.artifacts.get(event.digest, event.codec)


def _reference_texts(ws: Workspace, record: ModelVersionRecord) -> list[str]:
    frame = _reference_frame(ws, record)
    if TEXT not in frame.columns:
        raise DataError(
            f"{record.name}@{record.version}'s reference data has no {TEXT!r} column",
            hint="make it with reference_sample(..., text_column=...) for a text model",
        )
    return [str(t) for t in frame[TEXT]]


def _vocabulary(model: Any, reference: Sequence[str]) -> set[str]:
    """The words the model knows: a compiled model's word vocabulary, else the reference's."""
    for part in getattr(model, "parts", ()):
        if part.vocabulary.analyzer == "word":
            return {w for unit in part.vocabulary.units for w in unit.split()}
    return {w for text in reference for w in words(text)}


def _fingerprint(record: ModelVersionRecord, kind: str, parts: Sequence[str]) -> str:
    """Repeats of the same finding on the same version are one alert."""
    text = f"{record.name}@{record.version}:{kind}:{','.join(sorted(parts))}"
    return hashlib.sha256(text.encode()).hexdigest()
