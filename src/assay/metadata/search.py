"""Run search: conditions on attributes, parameters, tags and metrics, compiled to SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from assay.metadata import schema as t

__all__ = [
    "ATTRIBUTES",
    "All",
    "AnyOf",
    "Condition",
    "Filter",
    "Order",
    "compile_filter",
    "order_by",
]

# Columns of a run that a search may name without a prefix.
ATTRIBUTES = ("id", "pipeline", "status", "experiment", "user", "host", "started_at", "ended_at")


@dataclass(frozen=True, slots=True)
class Condition:
    """``FIELD OP VALUE``; ``scope`` is attributes, params, tags or metrics."""

    scope: str
    name: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class All:
    """Every part holds."""

    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """At least one part holds."""

    parts: tuple[Filter, ...]


Filter = Condition | All | AnyOf


@dataclass(frozen=True, slots=True)
class Order:
    """Sort by a field, largest first when ``descending``; runs without a value come last."""

    scope: str
    name: str
    descending: bool = False


def _field(scope: str, name: str, kind: str) -> sa.ColumnElement[Any]:
    if scope == "attributes":
        return t.runs.c[name]
    if scope == "metrics":
        m = t.metrics
        # The last value logged: the highest step, then the latest row.
        return (
            sa.select(m.c.value)
            .where(m.c.run_id == t.runs.c.id, m.c.key == name)
            .order_by(m.c.step.desc().nulls_last(), m.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
    column = t.runs.c.params if scope == "params" else t.runs.c.tags
    element = column[name]
    typed: sa.ColumnElement[Any] = {
        "number": element.as_float,
        "bool": element.as_boolean,
    }.get(kind, element.as_string)()
    return typed


_OPS = {
    "=": lambda f, v: f == v,
    "!=": lambda f, v: f != v,
    "<": lambda f, v: f < v,
    "<=": lambda f, v: f <= v,
    ">": lambda f, v: f > v,
    ">=": lambda f, v: f >= v,
    "like": lambda f, v: f.ilike(v),  # case-insensitive on every database
}


def compile_filter(node: Filter) -> sa.ColumnElement[bool]:
    """The SQL condition of a filter."""
    if isinstance(node, All):
        return sa.and_(*(compile_filter(p) for p in node.parts))
    if isinstance(node, AnyOf):
        return sa.or_(*(compile_filter(p) for p in node.parts))
    value = node.value
    kind = "bool" if isinstance(value, bool) else "number" if isinstance(value, int | float) else ""
    if kind == "bool" and node.scope != "params":
        kind, value = "", str(value)  # tags and attributes hold text
    return _OPS[node.op](_field(node.scope, node.name, kind), value)  # type: ignore[no-any-return]


def order_by(orders: Sequence[Order]) -> list[sa.ColumnElement[Any]]:
    """ORDER BY terms; the newest run first breaks ties, then the id (so that pages of a
    listing never repeat or skip a run started at the same moment as another)."""
    terms: list[sa.ColumnElement[Any]] = []
    for o in orders:
        field = _field(o.scope, o.name, "number" if o.scope == "metrics" else "")
        terms.append((field.desc() if o.descending else field.asc()).nulls_last())
    terms.append(t.runs.c.started_at.desc())
    terms.append(t.runs.c.id.asc())
    return terms
