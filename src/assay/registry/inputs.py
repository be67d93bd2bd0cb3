"""Checking inputs against a model version's signature and building the table it scores:
from JSON values (what a request gives), from logged rows, or from a CSV read as text."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from assay.errors import SignatureError
from assay.registry.signature import InputColumn, Signature

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "columns_from_json",
    "columns_from_rows",
    "table_from_columns",
    "table_from_csv",
    "table_from_rows",
]

_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})
_WANTED = {
    "float64": "a number",
    "int64": "a whole number",
    "bool": "true or false",
    "string": "a string",
    "category": "a string",
}


def columns_from_json(
    signature: Signature, columns: Mapping[str, Sequence[Any]], *, model: str = "the model"
) -> dict[str, Any]:
    """The columns of ``columns`` (input column name -> its values, one per row, as JSON
    gives them) as NumPy arrays in the signature's column order, each of its type.

    A ``float64`` column takes numbers (``None``: missing, NaN); ``int64`` whole numbers;
    ``bool`` true or false; ``string`` and ``category`` strings (``None``: missing).
    Booleans are not numbers and numbers are not strings. ``model`` names the model in
    messages.

    Raises:
        SignatureError: a column the signature names is missing, one it does not name is
            given, a value is not of its column's type, the columns differ in length, or
            there are no rows. The message names the column and the type it takes.
    """
    unknown = [str(name) for name in columns if signature.column(str(name)) is None]
    if unknown:
        raise SignatureError(
            f"{model} takes no column {unknown[0]!r}",
            column=unknown[0],
            hint=f"it takes {_takes(signature)}",
        )
    missing = [c.name for c in signature.inputs if c.name not in columns]
    if missing:
        raise SignatureError(
            f"column {missing[0]!r} is missing: {model} takes {_takes(signature)}",
            column=missing[0],
            hint=f"send every column it takes; missing: {', '.join(missing)}",
        )
    lengths: dict[int, str] = {}
    for c in signature.inputs:
        values = columns[c.name]
        if isinstance(values, str | bytes) or not isinstance(values, Sequence):
            raise SignatureError(
                f"column {c.name!r} must be a list of values, one per row; got {_kind(values)}",
                column=c.name,
                hint=f'send {{"{c.name}": [...]}}',
            )
        lengths.setdefault(len(values), c.name)
    if len(lengths) > 1:
        (n, first), (m, other) = sorted(lengths.items(), key=lambda kv: -kv[0])[:2]
        raise SignatureError(
            f"column {other!r} has {m} value{'s' if m != 1 else ''} but column {first!r} has {n}",
            column=other,
            hint="send one value per row in every column",
        )
    if not lengths or 0 in lengths:
        raise SignatureError("the input has no rows", hint="send at least one row")
    return {c.name: _json_values(c, columns[c.name], signature, model) for c in signature.inputs}


def table_from_columns(
    signature: Signature, columns: Mapping[str, Sequence[Any]], *, model: str = "the model"
) -> pd.DataFrame:
    """The table of ``columns``, checked as :func:`columns_from_json` checks them.

    Raises:
        SignatureError: as :func:`columns_from_json`.
    """
    import pandas as pd  # noqa: PLC0415

    return pd.DataFrame(columns_from_json(signature, columns, model=model))


def table_from_rows(
    signature: Signature, rows: Sequence[Mapping[str, Any]], *, model: str = "the model"
) -> pd.DataFrame:
    """The table of ``rows``, checked as :func:`columns_from_rows` checks them.

    Raises:
        SignatureError: as :func:`columns_from_rows`.
    """
    import pandas as pd  # noqa: PLC0415

    return pd.DataFrame(columns_from_rows(signature, rows, model=model))


def columns_from_rows(
    signature: Signature, rows: Sequence[Mapping[str, Any]], *, model: str = "the model"
) -> dict[str, Any]:
    """The columns of ``rows`` (one ``{column: value}`` per row, as a request of instances
    or the prediction log gives them); checked as ``columns_from_json`` checks columns.

    Raises:
        SignatureError: a row is not an object, or lacks or adds a column (the message
            names the row), or a value is not of its column's type.
    """
    names = signature.columns
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise SignatureError(
                f"row {i} must be an object of column values; got {_kind(row)}",
                hint=f"{model} takes {_takes(signature)}",
            )
        if len(row) != len(names) or any(name not in row for name in names):
            extra = sorted(str(k) for k in row if str(k) not in names)
            absent = [n for n in names if n not in row]
            what = f"has no column {absent[0]!r}" if absent else f"has column {extra[0]!r}"
            raise SignatureError(
                f"row {i} {what}: {model} takes {_takes(signature)}",
                column=absent[0] if absent else extra[0],
                hint="give every row the same columns, those the model takes",
            )
    return columns_from_json(signature, {n: [row[n] for row in rows] for n in names}, model=model)


def table_from_csv(
    signature: Signature,
    frame: pd.DataFrame,
    source: str,
    *,
    renamed: Mapping[str, str] | None = None,
    model: str = "the model",
) -> pd.DataFrame:
    """The table a CSV gives: ``frame`` read as text (empty cells missing), its columns
    named as the signature's (or ``renamed[name]``), each parsed to its type. Other columns
    are left out. Errors name the CSV line (the header is line 1).

    Raises:
        SignatureError: a column is missing, or a value cannot be read as its type.
    """
    import pandas as pd  # noqa: PLC0415

    where = dict(renamed or {})
    missing = [c.name for c in signature.inputs if where.get(c.name, c.name) not in frame]
    if missing:
        absent = where.get(missing[0], missing[0])
        raise SignatureError(
            f"{source} has no column {absent!r}: {model} takes {_takes(signature)}",
            column=missing[0],
            hint=f"columns are: {', '.join(map(str, frame.columns))}",
        )
    table = {
        c.name: _csv_values(c, frame[where.get(c.name, c.name)], source, model)
        for c in signature.inputs
    }
    return pd.DataFrame(table, index=frame.index)


def _json_values(
    column: InputColumn, values: Sequence[Any], signature: Signature, model: str
) -> Any:
    """``values`` as an array of the column's type; the first value that is not of it is a
    ``SignatureError``."""
    import numpy as np  # noqa: PLC0415

    # Numbers as JSON gives them (int and float, never bool) are taken whole at once;
    # anything else is checked value by value, so that the first wrong one is named.
    quick = _QUICK.get(column.type)
    if quick is not None and all(type(v) in quick for v in values):
        try:
            return np.array(values, dtype=column.type)
        except OverflowError:  # a whole number out of the column's range: named below
            pass
    convert, dtype = _CONVERTERS[column.type]
    out = np.empty(len(values), dtype=dtype)
    for i, v in enumerate(values):
        try:
            converted = convert(v)
            if converted is _NOT:
                raise _wrong(column, i, v, signature, model)
            out[i] = converted
        except OverflowError:  # a whole number too large for the column's type
            raise _wrong(column, i, v, signature, model) from None
    return out


_NOT = object()  # what a converter gives for a value not of its type
_QUICK: dict[str, tuple[type, ...]] = {"float64": (float, int), "int64": (int,)}


def _as_float(v: Any) -> Any:
    if v is None:
        return math.nan
    return float(v) if isinstance(v, numbers.Real) and not _is_bool(v) else _NOT


def _as_int(v: Any) -> Any:
    whole = isinstance(v, numbers.Integral) or (isinstance(v, float) and v.is_integer())
    return int(v) if whole and not _is_bool(v) else _NOT


def _as_bool(v: Any) -> Any:
    return bool(v) if _is_bool(v) else _NOT


def _as_text(v: Any) -> Any:
    return v if v is None or isinstance(v, str) else _NOT


_CONVERTERS = {
    "float64": (_as_float, "float64"),
    "int64": (_as_int, "int64"),
    "bool": (_as_bool, "bool"),
    "string": (_as_text, "object"),
    "category": (_as_text, "object"),
}


def _csv_values(column: InputColumn, values: pd.Series, source: str, model: str) -> Any:
    import pandas as pd  # noqa: PLC0415

    kind = column.type
    given = values.notna()
    if kind in ("string", "category"):
        return values.astype(object).where(given, None).to_numpy()
    if kind == "bool":
        lowered = values.str.strip().str.lower()
        parsed = lowered.map(lambda v: True if v in _TRUE else (False if v in _FALSE else None))
        bad = parsed.isna()
    else:
        parsed = pd.to_numeric(values, errors="coerce")
        bad = given & parsed.isna()
        if kind == "int64":
            bad = bad | ~given | (parsed.notna() & ((parsed % 1 != 0) | (parsed.abs() >= 2**63)))
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        value = values.iloc[first]
        shown = "an empty value" if not isinstance(value, str) else repr(value)
        read = "" if values.name == column.name else f", read from {values.name!r}"
        raise SignatureError(
            f"column {values.name!r} of {source} holds {shown} (CSV line {first + 2}), not "
            f"{_WANTED[kind]}",
            column=column.name,
            hint=f"{model} takes {column.name!r} as {kind}{read}; fix or drop the row",
        )
    if kind == "bool":
        return parsed.astype(bool).to_numpy()
    return parsed.astype("int64" if kind == "int64" else "float64").to_numpy()


def _wrong(
    column: InputColumn, row: int, value: Any, signature: Signature, model: str
) -> SignatureError:
    wanted = _WANTED[column.type]
    if value is None:
        what, why = "has no value", f" ({column.type} has no missing value)"
    else:
        what, why = f"holds {_kind(value)}, not {wanted}", ""
    return SignatureError(
        f"column {column.name!r} ({column.type}) row {row} {what}",
        column=column.name,
        hint=f"send {wanted} in every row of {column.name!r}{why}; {model} takes "
        f"{_takes(signature)}",
    )


def _takes(signature: Signature) -> str:
    return ", ".join(f"{c.name} ({c.type})" for c in signature.inputs)


def _is_bool(value: Any) -> bool:
    """Python's and NumPy's booleans (NumPy's are not ``bool`` instances)."""
    return isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if _is_bool(value):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {_cut(value)!r}"
    if isinstance(value, numbers.Number):
        return f"the number {_cut(repr(value))}"
    named = {Mapping: "an object", Sequence: "a list"}
    return next((v for k, v in named.items() if isinstance(value, k)), f"a {type(value).__name__}")


def _cut(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
