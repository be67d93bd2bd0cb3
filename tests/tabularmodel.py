"""Small scikit-learn models of a table of houses, registered as `houses` with held-out
reference data, and traffic for them: `plain` (a scaler and a logistic regression over
the numeric columns), `mixed` (a ColumnTransformer that one-hot encodes the city) and
`ridge` (the same columns into a Ridge regression of the price)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import numpy as np
import pandas as pd

from assay import pipeline, register_model, step
from assay.metadata import PredictionRecord
from assay.monitoring import reference_sample
from assay.workspace import Workspace

CITIES = ["north", "south", "east"]
COLUMNS = {"plain": ["rooms", "area"], "mixed": ["rooms", "area", "city"]}
COLUMNS["ridge"] = COLUMNS["mixed"]


def houses(n: int, seed: int = 0, area_shift: float = 0.0) -> pd.DataFrame:
    """``n`` houses: rooms (int), area (float), city (text), price, and label (dear/cheap)."""
    rng = np.random.default_rng(seed)
    rooms = rng.integers(1, 7, size=n)
    area = rooms * 20.0 + rng.normal(0, 8, size=n) + area_shift
    city = rng.choice(CITIES, size=n)
    price = area * 3.0 + np.where(city == "north", 60.0, 0.0) + rng.normal(0, 10, size=n)
    return pd.DataFrame(
        {
            "id": [f"h{seed}-{i}" for i in range(n)],
            "rooms": rooms,
            "area": area,
            "city": city,
            "price": price,
            "label": np.where(price > 230, "dear", "cheap"),
        }
    )


@step(outputs=["train", "test"])
def split(n: int = 600) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = houses(n).drop(columns=["id"])
    return frame.iloc[: n // 2].reset_index(drop=True), frame.iloc[n // 2 :].reset_index(drop=True)


@step(outputs={"model": "model"})
def fit(train: pd.DataFrame, kind: str = "plain") -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    x = train[COLUMNS[kind]]
    if kind == "plain":
        model = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])
        return model.fit(x, train["label"])
    columns = ColumnTransformer(
        [
            ("numbers", StandardScaler(), ["rooms", "area"]),
            ("city", OneHotEncoder(handle_unknown="ignore"), ["city"]),
        ]
    )
    if kind == "mixed":
        return Pipeline([("columns", columns), ("clf", LogisticRegression())]).fit(
            x, train["label"]
        )
    return Pipeline([("columns", columns), ("reg", Ridge())]).fit(x, train["price"])


@pipeline
def houses_model(kind: str = "plain", name: str = "houses", with_reference: bool = True) -> None:
    train, test = split()
    model = fit(train, kind)
    if with_reference:
        keep = "price" if kind == "ridge" else "label"
        reference = reference_sample(test, label_column=keep)
        register_model(model, name=name, reference=reference)
    else:
        register_model(model, name=name)


def log_rows(ws: Workspace, frame: pd.DataFrame, columns: list[str], name: str = "houses") -> None:
    """Write ``frame``'s rows (their ``columns``) to the prediction log as a server logs a
    tabular request: ``inputs`` one ``{column: value}`` object per row, 10 rows a request."""
    rows = [
        {c: (v.item() if hasattr(v, "item") else v) for c, v in zip(columns, values, strict=True)}
        for values in frame[columns].itertuples(index=False)
    ]
    now = time.time()
    records = [
        PredictionRecord(
            uuid.uuid4().hex,
            name,
            1,
            now + i * 1e-3,
            1.0,
            "v1",
            rows[start : start + 10],
            [{"label": "cheap", "probabilities": {"cheap": 1.0, "dear": 0.0}}] * 10,
        )
        for i, start in enumerate(range(0, len(rows), 10))
    ]
    ws.metadata.log_predictions(records)
