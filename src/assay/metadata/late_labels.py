"""Late labels matched to the prediction log by request id: the one implementation that
``assay monitor label`` (through monitoring) and a model server's labels route share."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from assay.errors import DataError, SignatureError
from assay.metadata.monitoring import LabelRecord
from assay.metadata.predictions import LoggedRequest
from assay.metadata.repository import MetadataStore

__all__ = ["LabelsAdded", "LateLabel", "parse_labels", "store_labels", "unmatched"]


@dataclass(frozen=True, slots=True)
class LateLabel:
    """The true class of text ``row`` (from 0) of logged request ``request_id``."""

    request_id: str
    row: int
    label: str

    @property
    def key(self) -> str:
        """How an unmatched label is named: the request id, with ``#row`` past row 0."""
        return self.request_id if self.row == 0 else f"{self.request_id}#{self.row}"


@dataclass(frozen=True, slots=True)
class LabelsAdded:
    """What became of a batch of labels."""

    stored: int
    replaced: int  # of those stored, how many replaced an earlier label
    unknown: list[str]  # request ids (or ``id#row``) the prediction log does not hold


def parse_labels(rows: Iterable[Mapping[str, object]]) -> list[LateLabel]:
    """Labels given as ``{"request_id", "label"[, "row"]}`` (``row``: which text of a
    multi-text request, from 0; default 0), as CSV rows or JSON objects give them.

    Raises:
        DataError: a row lacks ``request_id`` or ``label``, or its ``row`` is not a
            non-negative integer.
    """
    wanted: list[LateLabel] = []
    for i, item in enumerate(rows, start=1):
        request_id, label = item.get("request_id"), item.get("label")
        if request_id in (None, "") or label in (None, ""):
            raise DataError(
                f"label {i} has no request_id or no label",
                hint="give columns request_id and label (and row for multi-text requests)",
            )
        row = item.get("row", 0)
        try:
            row_number = int(str(row)) if row not in (None, "") else 0
        except ValueError:
            row_number = -1
        if row_number < 0:
            raise DataError(f"label {i} has row {row!r}, not a whole number from 0")
        for name, value, most in (("request_id", request_id, 128), ("label", label, 200)):
            if len(str(value)) > most:
                raise DataError(
                    f"label {i} has a {name} of {len(str(value))} characters; at most "
                    f"{most} are kept"
                )
        wanted.append(LateLabel(str(request_id), row_number, str(label)))
    return wanted


def unmatched(
    store: MetadataStore, labels: Sequence[LateLabel], model: str | None = None
) -> list[LateLabel]:
    """The labels whose request (or row of it) the prediction log does not hold (for
    ``model``, when given)."""
    logged = store.logged_requests([lab.request_id for lab in labels], model)
    return _partition(logged, labels)[1]


def store_labels(
    store: MetadataStore,
    labels: Sequence[LateLabel],
    *,
    user: str,
    model: str | None = None,
) -> LabelsAdded:
    """Store the labels that match a logged request (of ``model``, when given), as given by
    ``user``; list the others.

    Raises:
        DataError: labels were given but none matched a logged request.
    """
    logged = store.logged_requests([lab.request_id for lab in labels], model)
    known, unknown = _partition(logged, labels)
    _refuse_outside(logged, known)
    if labels and not known:
        raise DataError(
            f"none of the {len(labels)} labels matches a logged request "
            f"(first: {unknown[0].key!r})",
            hint="labels are matched by the request id a server answered with (the `id` of "
            "its response, or the X-Request-ID header sent)",
        )
    now = time.time()
    records = [LabelRecord(lab.request_id, lab.row, lab.label, now, user) for lab in known]
    replaced = store.add_labels(records)
    return LabelsAdded(len(records), replaced, [lab.key for lab in unknown])


def _partition(
    logged: Mapping[str, LoggedRequest], labels: Sequence[LateLabel]
) -> tuple[list[LateLabel], list[LateLabel]]:
    known: list[LateLabel] = []
    unknown: list[LateLabel] = []
    for lab in labels:
        found = logged.get(lab.request_id)
        (known if found is not None and lab.row < found.rows else unknown).append(lab)
    return known, unknown


def _refuse_outside(logged: Mapping[str, LoggedRequest], labels: Sequence[LateLabel]) -> None:
    # Labels feed retraining: one that is not an answer the model could give (a class it
    # does not have, a word for a regressor) would poison the next training set.
    bad: list[str] = []
    allowed: frozenset[str] = frozenset()
    for lab in labels:
        found = logged[lab.request_id]
        if found.classes is not None and lab.label not in found.classes:
            bad.append(f"{lab.label!r} for {lab.key}")
            allowed = found.classes
        elif found.numeric and not _is_number(lab.label):
            bad.append(f"{lab.label!r} for {lab.key}")
    if not bad:
        return
    shown = ", ".join(bad[:5]) + (" ..." if len(bad) > 5 else "")
    # A SignatureError: the label does not fit what the model answers (its signature's
    # classes or numbers), as a mistyped column does not fit what it takes.
    if allowed:
        raise SignatureError(
            f"{len(bad)} label(s) are not classes of the model that answered: {shown}",
            hint=f"labels are one of its classes: {', '.join(sorted(allowed))} (case matters); "
            "nothing was stored",
        )
    raise SignatureError(
        f"{len(bad)} label(s) are not numbers, as the regressor's answers are: {shown}",
        hint="give the true value as a number; nothing was stored",
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
