"""Finding runs, and saying why a search found none when a name in it is unknown."""

from __future__ import annotations

from collections.abc import Iterator

from assay.errors import ParameterError, RecordNotFoundError
from assay.metadata import RunRecord
from assay.metadata.search import All, AnyOf, Condition, Filter
from assay.tracking.query import parse_order, parse_where
from assay.workspace import Workspace

__all__ = ["find_runs"]


def find_runs(
    ws: Workspace,
    *,
    experiment: str | None = None,
    where: str | None = None,
    order_by: str | None = None,
    limit: int | None = None,
    pipeline: str | None = None,
) -> list[RunRecord]:
    """Runs matching a filter text, sorted; a typo in a name is an error, not an empty list.

    Raises:
        ParameterError: a malformed filter or order, or a metric no run has logged.
        RecordNotFoundError: an experiment with no runs.
    """
    condition = parse_where(where) if where else None
    order = parse_order(order_by) if order_by else []
    runs = ws.metadata.list_runs(
        limit=limit, pipeline=pipeline, experiment=experiment, where=condition, order=order
    )
    if runs:
        return runs
    if experiment and experiment not in {name for name, _, _ in ws.metadata.experiments()}:
        known = ", ".join(name for name, _, _ in ws.metadata.experiments()) or "none yet"
        raise RecordNotFoundError(
            f"unknown experiment {experiment!r}", hint=f"experiments: {known}"
        )
    names = {c.name for c in _conditions(condition) if c.scope == "metrics"}
    names |= {o.name for o in order if o.scope == "metrics"}
    for name in sorted(names):
        if not ws.metadata.has_metric(name):
            raise ParameterError(
                f"no run has logged a metric named {name!r}",
                hint="check the spelling; `assay runs show RUN` lists a run's metrics",
            )
    return runs


def _conditions(node: Filter | None) -> Iterator[Condition]:
    if isinstance(node, Condition):
        yield node
    elif isinstance(node, All | AnyOf):
        for part in node.parts:
            yield from _conditions(part)
