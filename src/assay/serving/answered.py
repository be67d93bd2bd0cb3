"""An answered request as the server hands it to the prediction log, and the record the log
keeps of it (built by the log's writer, off the server's event loop)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assay.metadata import PredictionRecord
from assay.serving.table import Table

__all__ = ["Answered", "answer_rows"]


def answer_rows(
    predictions: Sequence[Any],
    probabilities: Sequence[Sequence[float]] | None,
    classes: Sequence[str],
) -> list[dict[str, Any]]:
    """One dict per row, as V1 answers and the prediction log keep them: ``{"label",
    "probabilities": {class: p}}`` for a classifier, ``{"value": x}`` for a regressor
    (``probabilities`` None)."""
    if probabilities is None:
        return [{"value": v} for v in predictions]
    return [
        {"label": label, "probabilities": dict(zip(classes, row, strict=True))}
        for label, row in zip(predictions, probabilities, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class Answered:
    """What the server answered to one request, in the raw (texts or a table, labels and
    probabilities as they came from the model): cheap to make on the event loop and to
    send to another process; :meth:`record` makes the prediction log's record of it.

    ``most`` is how many characters of each text the log keeps (``log_max_chars``).
    """

    request_id: str
    model: str
    version: int
    at: float
    latency_ms: float
    protocol: str
    inputs: Sequence[str] | Table
    predictions: Sequence[Any]  # labels, or a regressor's numbers
    probabilities: Sequence[Sequence[float]] | None
    classes: tuple[str, ...]
    most: int

    def record(self) -> PredictionRecord:
        """The log's record: the inputs (a tabular request's as rows ``{column: value}``)
        with each text cut to ``most`` characters, and beside the answer of a row that was
        cut, the whole text's length and sha256 (of a tabular row: of its JSON)."""
        most = self.most
        wholes: dict[int, str]
        if isinstance(self.inputs, Table):
            cut = self.inputs.long_rows(most)
            logged: list[Any] = self.inputs.logged(most)
            wholes = {i: json.dumps(self.inputs.row(i), sort_keys=True) for i in cut}
        else:
            wholes = {i: text for i, text in enumerate(self.inputs) if len(text) > most}
            logged = [text[:most] for text in self.inputs] if wholes else list(self.inputs)
        outputs = answer_rows(self.predictions, self.probabilities, self.classes)
        for i, whole in wholes.items():
            digest = hashlib.sha256(whole.encode("utf-8", "replace")).hexdigest()
            outputs[i] = {**outputs[i], "input_chars": len(whole), "input_sha256": digest}
        return PredictionRecord(
            request_id=self.request_id,
            model=self.model,
            version=self.version,
            at=self.at,
            latency_ms=self.latency_ms,
            protocol=self.protocol,
            inputs=logged,
            outputs=outputs,
        )
