"""Inputs checked against a signature: JSON columns and rows (what a request gives) and a
CSV read as text; every mistake names its column and the type it takes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from assay.errors import DataError, SignatureError
from assay.registry import (
    InputColumn,
    Signature,
    table_from_columns,
    table_from_csv,
    table_from_rows,
)

SIGNATURE = Signature(
    "tabular",
    "classification",
    (
        InputColumn("rooms", "int64"),
        InputColumn("area", "float64"),
        InputColumn("city", "category"),
        InputColumn("garden", "bool"),
    ),
    ("cheap", "dear"),
)
GOOD: dict[str, list[Any]] = {
    "rooms": [2, 3.0],
    "area": [41.5, 60],
    "city": ["north", None],
    "garden": [True, False],
}


def test_good_columns_become_a_typed_table_in_signature_order() -> None:
    table = table_from_columns(SIGNATURE, dict(reversed(list(GOOD.items()))))
    assert list(table.columns) == ["rooms", "area", "city", "garden"]
    assert table.rooms.dtype == np.int64 and table.area.dtype == np.float64
    assert table.garden.dtype == bool and table.rooms.tolist() == [2, 3]
    assert table.city.tolist()[0] == "north" and pd.isna(table.city.tolist()[1])


def test_a_missing_float_is_nan() -> None:
    table = table_from_columns(SIGNATURE, {**GOOD, "area": [None, 1]})
    assert np.isnan(table.area[0])


@pytest.mark.parametrize(
    ("change", "column", "message"),
    [
        ({"area": None}, "area", "column 'area' is missing: houses@1 takes rooms (int64)"),
        ({"pool": [1, 2]}, "pool", "houses@1 takes no column 'pool'"),
        (
            {"area": ["41.5", 60]},
            "area",
            "column 'area' (float64) row 0 holds the string '41.5', not a number",
        ),
        ({"area": [True, 1.0]}, "area", "row 0 holds the boolean true, not a number"),
        (
            {"rooms": [2, 2.5]},
            "rooms",
            "column 'rooms' (int64) row 1 holds the number 2.5, not a whole number",
        ),
        ({"rooms": [2, None]}, "rooms", "column 'rooms' (int64) row 1 has no value"),
        # Whole numbers past what the column holds: named, not an overflow.
        ({"rooms": [2, 2**63]}, "rooms", "column 'rooms' (int64) row 1 holds the number 92233"),
        ({"area": [1.0, 10**400]}, "area", "column 'area' (float64) row 1 holds the number 1000"),
        ({"city": ["north", 3]}, "city", "column 'city' (category) row 1 holds the number 3"),
        ({"garden": [1, 0]}, "garden", "column 'garden' (bool) row 0 holds the number 1"),
        ({"area": [1.0]}, "area", "column 'area' has 1 value but column 'rooms' has 2"),
        ({"area": 41.5}, "area", "column 'area' must be a list of values"),
        ({"area": "41.5"}, "area", "got the string '41.5'"),
    ],
)
def test_each_mistake_names_its_column(change: dict[str, Any], column: str, message: str) -> None:
    columns = {**GOOD, **change}
    columns = {k: v for k, v in columns.items() if v is not None}
    with pytest.raises(SignatureError) as caught:
        table_from_columns(SIGNATURE, columns, model="houses@1")
    assert message in str(caught.value), str(caught.value)
    assert caught.value.column == column
    assert isinstance(caught.value, DataError)  # what the CLI and the server already handle


def test_the_hint_lists_what_the_model_takes() -> None:
    with pytest.raises(SignatureError) as caught:
        table_from_columns(SIGNATURE, {**GOOD, "area": ["big", 1]}, model="houses@1")
    assert caught.value.hint == (
        "send a number in every row of 'area'; houses@1 takes rooms (int64), area (float64), "
        "city (category), garden (bool)"
    )


def test_no_rows_is_an_error() -> None:
    with pytest.raises(SignatureError, match="no rows"):
        table_from_columns(SIGNATURE, {k: [] for k in GOOD})


def test_rows_of_column_values() -> None:
    rows = [dict(zip(GOOD, values, strict=True)) for values in zip(*GOOD.values(), strict=True)]
    assert table_from_rows(SIGNATURE, rows).equals(table_from_columns(SIGNATURE, GOOD))
    with pytest.raises(SignatureError, match="row 1 has no column 'garden'") as caught:
        table_from_rows(SIGNATURE, [rows[0], {k: v for k, v in rows[1].items() if k != "garden"}])
    assert caught.value.column == "garden"
    with pytest.raises(SignatureError, match="row 0 has column 'pool'"):
        table_from_rows(SIGNATURE, [{**rows[0], "pool": 1}])
    with pytest.raises(SignatureError, match="row 0 must be an object of column values"):
        table_from_rows(SIGNATURE, [[2, 41.5, "north", True]])  # type: ignore[list-item]


def _csv(**columns: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(columns, dtype=object)


def test_a_csv_is_parsed_to_the_column_types() -> None:
    frame = _csv(
        rooms=["2", "3"], area=["41.5", np.nan], city=["north", np.nan], garden=["True", "0"]
    )
    table = table_from_csv(SIGNATURE, frame, "in.csv")
    assert table.rooms.tolist() == [2, 3] and np.isnan(table.area[1])
    assert table.garden.tolist() == [True, False] and pd.isna(table.city[1])


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("area", ["41.5", "big"], "column 'area' of in.csv holds 'big' (CSV line 3), not a number"),
        ("rooms", ["2", "2.5"], "column 'rooms' of in.csv holds '2.5' (CSV line 3)"),
        ("rooms", [np.nan, "2"], "holds an empty value (CSV line 2), not a whole number"),
        ("garden", ["yes please", "0"], "holds 'yes please' (CSV line 2), not true or false"),
    ],
)
def test_csv_values_not_of_their_type(column: str, values: list[Any], message: str) -> None:
    frame = _csv(rooms=["2", "3"], area=["1", "2"], city=["a", "b"], garden=["1", "0"])
    frame[column] = values
    with pytest.raises(SignatureError) as caught:
        table_from_csv(SIGNATURE, frame, "in.csv", model="houses@1")
    assert message in caught.value.message and caught.value.column == column


def test_a_csv_missing_a_column_lists_the_columns_it_has() -> None:
    with pytest.raises(SignatureError) as caught:
        table_from_csv(SIGNATURE, _csv(rooms=["1"], id=["a"]), "in.csv", model="houses@1")
    assert caught.value.message.startswith("in.csv has no column 'area': houses@1 takes")
    assert caught.value.hint == "columns are: rooms, id"


def test_a_csv_column_can_stand_for_an_input_of_another_name() -> None:
    one = Signature("tabular", "regression", (InputColumn("x0", "float64"),), named=False)
    table = table_from_csv(one, _csv(v=["1.5"]), "in.csv", renamed={"x0": "v"})
    assert table.x0.tolist() == [1.5]
    with pytest.raises(SignatureError, match="'x0' as float64, read from 'v'"):
        table_from_csv(one, _csv(v=["one"]), "in.csv", renamed={"x0": "v"})
