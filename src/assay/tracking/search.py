"""Finding runs, and saying why a search found none when a name in it is unknown."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from assay.errors import ParameterError, RecordNotFoundError
from assay.metadata import RunRecord
from assay.metadata.search import All, AnyOf, Condition, Filter, Order
from assay.tracking.query import parse_order, parse_where
from assay.workspace import Workspace

__all__ = ["RunPage", "find_runs", "search_runs"]


@dataclass(frozen=True, slots=True)
class RunPage:
    """The runs a search shows, how many matched in all, and what the search was about.

    Attributes:
        runs: the runs shown, in order.
        total: how many runs match; more than ``len(runs)`` when the limit cut some off.
        metrics: each shown run's last value of each metric, by run id.
        fields: the ``metrics``, ``params`` and ``tags`` fields (scope, name) that the
            filter or the order names, first named first: what a listing shows beside
            each run.
    """

    runs: list[RunRecord]
    total: int
    metrics: dict[str, dict[str, float]]
    fields: list[tuple[str, str]]

    def value(self, run: RunRecord, field: tuple[str, str]) -> object:
        """The value of ``field`` for ``run``, or None when the run has none."""
        scope, name = field
        found = {"metrics": self.metrics.get(run.id, {}), "params": run.params, "tags": run.tags}
        return found[scope].get(name)


def search_runs(
    ws: Workspace,
    *,
    experiment: str | None = None,
    where: str | None = None,
    order_by: str | None = None,
    limit: int | None = None,
    pipeline: str | None = None,
    offset: int = 0,
) -> RunPage:
    """:func:`find_runs` for a listing (from the ``offset``-th match): with how many runs
    match in all, the shown runs' last metrics, and the fields the search names.

    Raises:
        ParameterError: a malformed filter or order, or a metric no run has logged.
        RecordNotFoundError: an experiment with no runs.
    """
    condition = parse_where(where) if where else None
    order = parse_order(order_by) if order_by else []
    runs = _find(
        ws, condition, order, experiment=experiment, limit=limit, pipeline=pipeline, offset=offset
    )
    total = offset + len(runs)
    if (limit is not None and len(runs) >= limit) or (offset and not runs):  # some cut off
        total = ws.metadata.count_runs(pipeline=pipeline, experiment=experiment, where=condition)
    named = [(c.scope, c.name) for c in _conditions(condition)]
    named += [(o.scope, o.name) for o in order]
    fields = [f for f in dict.fromkeys(named) if f[0] != "attributes"]
    metrics = ws.metadata.latest_metrics([r.id for r in runs])
    return RunPage(runs, total, metrics, fields)


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
    return _find(ws, condition, order, experiment=experiment, limit=limit, pipeline=pipeline)


def _find(
    ws: Workspace,
    condition: Filter | None,
    order: Sequence[Order],
    *,
    experiment: str | None,
    limit: int | None,
    pipeline: str | None,
    offset: int = 0,
) -> list[RunRecord]:
    runs = ws.metadata.list_runs(
        limit=limit,
        pipeline=pipeline,
        experiment=experiment,
        where=condition,
        order=order,
        offset=offset,
    )
    if runs or offset:
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
