"""Comparing tables with what the chain records: a row missing, a row with no event behind
it, or a column holding another value than the event that sealed it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assay.chain.projection import Expected, Key
from assay.core import canonical_json
from assay.metadata.writes import packages_digest

__all__ = ["TABLES", "Difference", "Table", "differences", "label", "same"]

Row = dict[str, Any]


def _runs(row: Row) -> Row:
    return row | {"packages_sha256": packages_digest(row.get("packages") or {})}


def _versions(row: Row) -> Row:
    return row | {"archived": row.get("archived_at") is not None}


@dataclass(frozen=True, slots=True)
class Table:
    """How a table's rows are matched with the chain's: the columns that identify a row
    (with ``numbered``, the group whose rows are numbered in the order they were written),
    the column telling when a row was made (rows older than the chain are not compared),
    and the columns derived from the stored ones before comparing."""

    key: tuple[str, ...]
    created: str | None = None
    numbered: bool = False
    view: Callable[[Row], Row] | None = None


TABLES: dict[str, Table] = {
    "runs": Table(("id",), "started_at", view=_runs),
    "executions": Table(("id",), "started_at"),
    "events": Table(("execution_id", "direction", "name")),
    "artifacts": Table(("digest",), "created_at"),
    "models": Table(("name",), "created_at"),
    "model_versions": Table(("name", "version"), "created_at", view=_versions),
    "gate_verdicts": Table(("name", "version"), "created_at", numbered=True),
    "role_grants": Table(("user", "role"), "granted_at"),
    "api_tokens": Table(("id",), "created_at"),
    "model_aliases": Table(("name", "alias"), "moved_at"),
    "alias_moves": Table(("name", "alias"), "moved_at", numbered=True),
    "promotion_requests": Table(("id",), "requested_at"),
    "reviews": Table(("request_id", "reviewer"), "at"),
    "alerts": Table(("id",), "first_at"),
    "retrains": Table(("id",), "started_at"),
}
"""Every table the chain records, as :data:`assay.metadata.chain.SEALED_TABLES` lists them."""


@dataclass(frozen=True, slots=True)
class Difference:
    """One way a table differs from the chain: which row, what, and the event (if any)."""

    table: str
    key: Key
    message: str
    seq: int | None = None

    @property
    def row(self) -> str:
        """The table and the row's key, for people."""
        return f"{self.table} {label(self.table, self.key)}"

    def __str__(self) -> str:
        where = f" (event {self.seq})" if self.seq is not None else ""
        return f"{self.row}: {self.message}{where}"


_HEX_ID = re.compile(r"[0-9a-f]{32,64}")


def label(table: str, key: Key) -> str:
    """A row's key for people: ids cut to 12 characters, a numbered row as ``#N``."""
    numbered = TABLES[table].numbered
    parts = [str(p) for p in (key[:-1] if numbered else key)]
    text = "/".join(p[:12] if _HEX_ID.fullmatch(p) else p for p in parts)
    return f"{text} #{int(key[-1]) + 1}" if numbered else text


def _keyed(
    table: str, rows: Sequence[Row], since: float
) -> tuple[dict[Key, Row], list[Key], set[Key]]:
    # The rows by key, the keys held by more than one row (a copy added), and the keys of
    # rows written before this store had an audit chain, which are not compared.
    spec = TABLES[table]
    found: dict[Key, Row] = {}
    twice: list[Key] = []
    older: set[Key] = set()
    counts: dict[Key, int] = {}
    for row in rows:
        if spec.created and since and (row.get(spec.created) or 0) < since:
            if not spec.numbered:
                older.add(tuple(row[c] for c in spec.key))
            continue
        view = spec.view(row) if spec.view else row
        key = tuple(row[c] for c in spec.key)
        if spec.numbered:
            number = counts.get(key, 0)
            counts[key] = number + 1
            key = (*key, number)
        if key in found:
            twice.append(key)
        found[key] = view
    return found, twice, older


def same(a: Any, b: Any) -> bool:
    """Whether two column values are equal as the chain means it (NaN equals NaN, a tuple
    equals a list)."""
    try:
        return canonical_json(a) == canonical_json(b)
    except TypeError:
        return bool(a == b)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def differences(
    table: str,
    expected: Mapping[Key, Expected],
    rows: Sequence[Row],
    *,
    since: float = 0.0,
    columns: Sequence[str] | None = None,
) -> list[Difference]:
    """How ``rows`` of ``table`` differ from the chain's ``expected`` rows (only in
    ``columns``, if given), rows made before ``since`` left out."""
    actual, twice, older = _keyed(table, rows, since)
    # A row from before the chain that a later event touches (a model given a new version,
    # an old artifact read again) has no record of its own to compare with.
    expected = {k: v for k, v in expected.items() if k not in older}
    found = [
        Difference(table, key, "a second row with this key, which no audit event records "
                   "(added outside assay)")
        for key in twice
    ]  # fmt: skip
    for key in sorted(set(expected) - set(actual), key=str):
        found.append(
            Difference(
                table, key, "the row is gone, but the audit chain records it",
                expected[key].seq,
            )
        )  # fmt: skip
    for key in sorted(set(actual) - set(expected), key=str):
        found.append(
            Difference(table, key, "no audit event records this row (added outside assay)")
        )
    for key in sorted(set(actual) & set(expected), key=str):
        row = actual[key]
        for column, (value, seq) in sorted(expected[key].columns.items()):
            if columns is not None and column not in columns:
                continue
            if not same(row.get(column), value):
                message = (
                    f"column {column} is {_shown(row.get(column))}, but the audit chain "
                    f"sealed {_shown(value)}"
                )
                found.append(Difference(table, key, message, seq))
    return found
