"""Drift of a tabular model's inputs and predictions: each column of its signature, then
its predicted labels and class probabilities, or its predicted numbers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from assay.errors import DataError
from assay.metadata import PredictionRecord
from assay.monitoring.drift import DriftReport, column_tests, decide
from assay.registry import Signature, table_from_rows

__all__ = ["logged_table", "reference_table", "tabular_drift"]

# A table of the signature's columns -> predicted labels or numbers, and for a classifier
# the class probabilities (rows by classes), else None.
TableScorer = Callable[[Any], tuple[Sequence[Any], Any]]
PREDICTED = "predicted"  # the column of predicted labels or numbers in a drift report


def logged_table(
    signature: Signature, logged: Sequence[PredictionRecord], model: str = "the model"
) -> Any:
    """The rows of ``logged`` requests as one table of the signature's columns.

    A tabular request is logged with ``inputs`` as a list of one ``{column: value}`` object
    per row (the model server writes it so); the values are checked as a request's are.

    Raises:
        DataError: a logged row is not such an object, or does not fit the signature.
    """
    import pandas as pd  # noqa: PLC0415

    rows = [row for p in logged for row in p.inputs]
    if not rows:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in signature.columns})
    try:
        return table_from_rows(signature, rows, model=model)
    except DataError as exc:
        raise DataError(
            f"the prediction log of {model} holds a row that does not fit its signature: "
            f"{exc.message}",
            hint="a tabular request is logged as one {column: value} object per row",
        ) from None


def reference_table(signature: Signature, frame: Any, model: str = "the model") -> Any:
    """The signature's columns of ``frame``, the version's reference data.

    Raises:
        DataError: the reference data lacks one of them.
    """
    missing = [name for name in signature.columns if name not in frame.columns]
    if missing:
        raise DataError(
            f"{model}'s reference data has no column {missing[0]!r}, which the model takes",
            hint="make it with reference_sample(data, label_column=...) from a table of the "
            "model's input columns",
        )
    return frame[signature.columns].reset_index(drop=True)


def tabular_drift(
    reference: Any,
    current: Any,
    signature: Signature,
    *,
    scorer: TableScorer | None = None,
    alpha: float = 0.01,
    min_rows: int = 100,
) -> DriftReport:
    """Every test of one window, in one family for Holm's correction: each input column
    (Kolmogorov-Smirnov for numbers, chi-square for ``bool``, ``string`` and ``category``
    columns), and given a ``scorer`` the predictions: a classifier's predicted labels
    (chi-square) and each class's probability, or a regressor's numbers
    (Kolmogorov-Smirnov). A side with fewer than ``min_rows`` rows is ``too few rows``."""
    categorical = [c.name for c in signature.inputs if c.type in ("string", "category", "bool")]
    ref, cur = reference.copy(), current.copy()
    if scorer is not None:
        _add_predictions(ref, signature, scorer)
        _add_predictions(cur, signature, scorer)
        if signature.task == "classification":
            categorical.append(PREDICTED)
    names = [str(c) for c in ref.columns]
    return decide(column_tests(ref, cur, names, categorical, min_rows), alpha)


def _add_predictions(table: Any, signature: Signature, scorer: TableScorer) -> None:
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    classes = signature.classes
    if len(table):
        predicted, proba = scorer(table[signature.columns])
    else:  # an empty window still gets every column, so it is reported
        predicted, proba = [], np.zeros((0, len(classes)))
    if signature.task == "regression":
        table[PREDICTED] = np.asarray(predicted, dtype=np.float64)
        return
    table[PREDICTED] = pd.Categorical([str(p) for p in predicted])
    scores = np.asarray(proba, dtype=np.float64).reshape(-1, len(classes))
    for k, cls in enumerate(classes):
        table[f"p({cls})"] = scores[:, k]
