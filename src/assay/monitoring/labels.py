"""Late labels: the true class of logged predictions, matched by request id."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from assay.errors import DataError
from assay.metadata import LabelRecord
from assay.workspace import Workspace

__all__ = ["LabelsAdded", "add_labels"]


@dataclass(frozen=True, slots=True)
class LabelsAdded:
    """What became of a batch of labels."""

    stored: int
    replaced: int  # of those stored, how many replaced an earlier label
    unknown: list[str]  # request ids (or ``id#row``) the prediction log does not hold


def add_labels(ws: Workspace, rows: Iterable[Mapping[str, object]]) -> LabelsAdded:
    """Store labels given as ``{"request_id", "label"[, "row"]}`` (``row``: which text of a
    multi-text request, from 0; default 0). Labels for requests or rows the prediction log
    does not hold are not stored but listed in ``unknown``.

    Raises:
        DataError: a row lacks ``request_id`` or ``label``, or its ``row`` is not a
            non-negative integer; or no label matched a logged request.
    """
    wanted: list[tuple[str, int, str]] = []
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
        wanted.append((str(request_id), row_number, str(label)))
    sizes = ws.metadata.request_sizes([w[0] for w in wanted])
    known, unknown = [], []
    for rid, row, label in wanted:
        if row < sizes.get(rid, 0):
            known.append((rid, row, label))
        else:
            unknown.append(rid if row == 0 else f"{rid}#{row}")
    if wanted and not known:
        raise DataError(
            f"none of the {len(wanted)} labels matches a logged request (first: {unknown[0]!r})",
            hint="labels are matched by the request id a server answered with (the `id` of "
            "its response, or the X-Request-ID header sent)",
        )
    now = time.time()
    records = [LabelRecord(rid, row, label, now, ws.user) for rid, row, label in known]
    replaced = ws.metadata.add_labels(records)
    return LabelsAdded(len(records), replaced, unknown)
