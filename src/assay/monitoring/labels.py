"""Late labels: the true class of logged predictions, matched by request id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from assay.metadata.late_labels import LabelsAdded, parse_labels, store_labels
from assay.workspace import Workspace

__all__ = ["LabelsAdded", "add_labels"]


def add_labels(ws: Workspace, rows: Iterable[Mapping[str, object]]) -> LabelsAdded:
    """Store labels given as ``{"request_id", "label"[, "row"]}`` (``row``: which text of a
    multi-text request, from 0; default 0), as ``ws``'s user. Labels for requests or rows
    the prediction log does not hold are not stored but listed in ``unknown``.

    The matching itself lives in ``assay.metadata.late_labels`` so that a model server,
    which may not import monitoring, stores labels the same way.

    Raises:
        DataError: a row lacks ``request_id`` or ``label``, or its ``row`` is not a
            non-negative integer; or no label matched a logged request.
    """
    return store_labels(ws.metadata, parse_labels(rows), user=ws.user)
