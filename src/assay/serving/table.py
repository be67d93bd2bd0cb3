"""A checked table as the model server scores and logs it: NumPy columns by name."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["Table"]


class Table:
    """A checked table as the server scores it: input column name -> a NumPy array of its
    values, in the signature's order, all of one length (no DataFrame is built unless the
    model needs its column names). Its length is its number of rows."""

    __slots__ = ("columns", "rows")

    def __init__(self, columns: dict[str, Any]) -> None:
        self.columns = columns
        self.rows = len(next(iter(columns.values()))) if columns else 0

    def __len__(self) -> int:
        return self.rows

    def __getitem__(self, name: str) -> Any:
        return self.columns[name]

    @classmethod
    def stacked(cls, tables: Sequence[Table]) -> Table:
        """One table of the rows of ``tables``, in their order."""
        import numpy as np  # noqa: PLC0415

        if len(tables) == 1:
            return tables[0]
        names = tables[0].columns
        return cls({name: np.concatenate([t.columns[name] for t in tables]) for name in names})

    def logged(self, most: int | None = None) -> list[dict[str, Any]]:
        """The rows as the prediction log keeps a tabular request's inputs: one
        ``{column: value}`` each, a missing value as null (never NaN, which JSON has no
        word for), and texts cut to ``most`` characters."""
        names = list(self.columns)
        values = [_plain(self.columns[name], most) for name in names]
        return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]

    def long_rows(self, most: int) -> list[int]:
        """The rows holding a text of more than ``most`` characters."""
        long: set[int] = set()
        for values in self.columns.values():
            if values.dtype.kind == "O":
                long.update(i for i, v in enumerate(values) if isinstance(v, str) and len(v) > most)
        return sorted(long)

    def row(self, i: int) -> dict[str, Any]:
        """Row ``i`` as ``logged`` gives it, its texts whole."""
        return {name: _plain(values[i : i + 1], None)[0] for name, values in self.columns.items()}


def _plain(values: Any, most: int | None) -> list[Any]:
    plain: list[Any] = values.tolist()  # NumPy scalars become Python's
    if values.dtype.kind == "f":
        plain = [None if math.isnan(v) else v for v in plain]
    elif most is not None and values.dtype.kind == "O":
        plain = [v[:most] if isinstance(v, str) else v for v in plain]
    return plain
