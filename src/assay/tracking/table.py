"""Runs as a table: one row a run, one column each attribute, parameter, tag and metric."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assay.metadata import RunRecord
from assay.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["compare_runs", "runs_frame"]

_ATTRIBUTES = ("id", "experiment", "pipeline", "status", "user", "started_at", "ended_at")


def runs_frame(ws: Workspace, runs: Sequence[RunRecord]) -> pd.DataFrame:
    """A DataFrame of ``runs``: attributes, ``params.*``, ``tags.*`` and last ``metrics.*``.

    ``started_at`` and ``ended_at`` are UTC timestamps; a missing value is empty (NaN).
    """
    import pandas as pd  # noqa: PLC0415 - only tables need pandas

    metrics = ws.metadata.latest_metrics([r.id for r in runs])
    rows = []
    for run in runs:
        row: dict[str, Any] = {a: getattr(run, a) for a in _ATTRIBUTES}
        row.update({f"params.{k}": v for k, v in run.params.items()})
        row.update({f"tags.{k}": v for k, v in run.tags.items()})
        row.update({f"metrics.{k}": v for k, v in metrics[run.id].items()})
        rows.append(row)
    frame = pd.DataFrame(rows, columns=_columns(rows))
    for column in ("started_at", "ended_at"):
        frame[column] = pd.to_datetime(frame[column], unit="s", utc=True)
    return frame


def compare_runs(ws: Workspace, refs: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """Runs side by side: one column a run, one row a field; and the fields that differ.

    Raises:
        RecordNotFoundError: a reference matches no run, or several.
    """
    runs = [ws.metadata.get_run(ref) for ref in refs]
    frame = runs_frame(ws, runs).set_index("id").T
    frame.columns = [c[:12] for c in frame.columns]
    differing = [
        field
        for field, values in frame.iterrows()
        if field not in ("started_at", "ended_at") and len({_key(v) for v in values}) > 1
    ]
    return frame, [str(f) for f in differing]


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    seen = dict.fromkeys(_ATTRIBUTES)
    for prefix in ("params.", "tags.", "metrics."):
        names = sorted({k for row in rows for k in row if k.startswith(prefix)})
        seen.update(dict.fromkeys(names))
    return list(seen)


def _key(value: Any) -> str:
    # NaN differs from itself, and a missing value is NaN in the table: compare by text.
    return repr(value)
