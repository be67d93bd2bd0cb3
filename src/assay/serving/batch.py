"""Batch scoring: class predictions and one probability column per class, or a regressor's
numbers, for a CSV of a model's input columns."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.errors import DataError, RegistryError
from assay.metadata import ModelVersionRecord
from assay.registry import (
    TEXT_INPUT,
    Signature,
    load_model,
    table_from_csv,
    version_signature,
)
from assay.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["predict_frame", "score_csv"]


def predict_frame(model: Any, inputs: Any) -> pd.DataFrame:
    """Predictions for ``inputs``: a ``prediction`` column and ``proba_<class>`` per class,
    or for a model without ``predict_proba`` (a regressor) only ``prediction``.

    Raises:
        RegistryError: the model cannot predict (it has no ``predict``).
        DataError: the model rejects the inputs.
    """
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    if not hasattr(model, "predict"):
        raise RegistryError(
            f"the model ({type(model).__name__}) has no predict method",
            hint="register a fitted scikit-learn estimator or pipeline",
        )
    out = pd.DataFrame(index=getattr(inputs, "index", None))
    try:
        if hasattr(model, "predict_proba"):
            proba = np.asarray(model.predict_proba(inputs))
            classes = list(model.classes_)
            out["prediction"] = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
            for i, label in enumerate(classes):
                out[f"proba_{label}"] = proba[:, i]
        else:
            values = np.asarray(model.predict(inputs))
            one = values.ndim == 2 and values.shape[1] == 1  # a regressor fitted on a column
            out["prediction"] = values[:, 0] if one else values
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"the model cannot score these inputs: {str(exc).splitlines()[0]}",
            hint="give the model the kind of input it was trained on (for a text model, a "
            "column of text; for a table, its columns as `assay models show` lists them)",
        ) from None
    return out


def score_csv(
    ws: Workspace, ref: str, source: Path, column: str | None, target: Path
) -> tuple[ModelVersionRecord, int]:
    """Score CSV ``source`` with model ``ref``; write ``target``.

    A text model scores column ``column`` (by default the one called ``text``). A tabular
    model scores the columns its signature names, parsed to their types; with ``column``,
    a model of one input column reads it from that column instead. The output holds every
    input column unchanged, then ``prediction`` and, for a classifier, ``proba_<class>``.

    Raises:
        DataError: the CSV is missing or unreadable, lacks a column, holds a value not of
            its column's type (``SignatureError``), or already has a prediction column.
        ModelNotFoundError: ``ref`` resolves to nothing.
    """
    import pandas as pd  # noqa: PLC0415

    frame = _read_csv(source)
    record, model = load_model(ws, ref)
    signature = version_signature(record, model)
    label = f"{record.name}@{record.version}"
    if signature.kind == "text":
        inputs: Any = _texts(frame, source, column or TEXT_INPUT, label, given=column is not None)
    else:
        renamed = _renamed(signature, column, label)
        table = table_from_csv(signature, frame, str(source), renamed=renamed, model=label)
        inputs = table if signature.named else table.to_numpy()
    predicted = predict_frame(model, inputs)
    predicted.index = frame.index
    taken = [str(c) for c in predicted.columns if c in frame.columns]
    if taken:
        raise DataError(
            f"{source} already has a column {taken[0]!r}, which scoring adds",
            hint="rename or drop it first",
        )
    scored = pd.concat([frame, predicted], axis=1)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        scored.to_csv(target, index=False)
    except OSError as exc:
        raise DataError(f"cannot write {target}: {exc.strerror}") from None
    return record, len(scored)


def _texts(frame: pd.DataFrame, source: Path, column: str, model: str, *, given: bool) -> Any:
    if column not in frame.columns:
        raise DataError(
            f"{source} has no column {column!r}"
            + ("" if given else f": {model} is a text model; name its column with --column"),
            hint=f"columns are: {', '.join(map(str, frame.columns))}",
        )
    texts = frame[column]
    if texts.isna().any():
        rows = ", ".join(str(i + 2) for i in texts.index[texts.isna()][:5])
        raise DataError(
            f"column {column!r} of {source} has empty values (CSV lines {rows})",
            hint="fill or drop the empty rows",
        )
    return texts.astype(str)


def _renamed(signature: Signature, column: str | None, model: str) -> dict[str, str]:
    """Where a tabular model's inputs are read from: their own columns, or ``column`` for a
    model of one input."""
    if column is None:
        return {}
    if len(signature.inputs) == 1:
        return {signature.inputs[0].name: column}
    raise DataError(
        f"{model} takes {len(signature.inputs)} columns ({', '.join(signature.columns)}), not one",
        hint="leave out --column: the CSV's columns of those names are scored, and the "
        "others are kept in the output",
    )


def _read_csv(source: Path) -> pd.DataFrame:
    import pandas as pd  # noqa: PLC0415

    try:
        return pd.read_csv(source, dtype=str, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise DataError(f"input file not found: {source}", hint="check the --input path") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(
            f"cannot read {source} as CSV: {str(exc).splitlines()[0]}",
            hint="give a UTF-8 CSV file with a header row",
        ) from None
