"""Batch scoring: class predictions and one probability column per class."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.errors import DataError, RegistryError
from assay.metadata import ModelVersionRecord
from assay.registry import load_model
from assay.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["predict_frame", "score_csv"]


def predict_frame(model: Any, inputs: Any) -> pd.DataFrame:
    """Predictions for ``inputs``: a ``prediction`` column and ``proba_<class>`` per class.

    Raises:
        RegistryError: the model cannot predict (it has no ``predict``).
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
            out["prediction"] = model.predict(inputs)
    except (ValueError, TypeError) as exc:
        raise DataError(
            f"the model cannot score these inputs: {str(exc).splitlines()[0]}",
            hint="give the model the kind of input it was trained on (for a text model, a "
            "column of text)",
        ) from None
    return out


def score_csv(
    ws: Workspace, ref: str, source: Path, column: str, target: Path
) -> tuple[ModelVersionRecord, int]:
    """Score column ``column`` of CSV ``source`` with model ``ref``; write ``target``.

    The output holds the input columns plus ``prediction`` and the probability columns.

    Raises:
        DataError: the CSV is missing, unreadable or lacks the column.
        ModelNotFoundError: ``ref`` resolves to nothing.
    """
    import pandas as pd  # noqa: PLC0415

    frame = _read_csv(source)
    if column not in frame.columns:
        raise DataError(
            f"{source} has no column {column!r}",
            hint=f"columns are: {', '.join(map(str, frame.columns))}",
        )
    texts = frame[column]
    if texts.isna().any():
        rows = ", ".join(str(i + 2) for i in texts.index[texts.isna()][:5])
        raise DataError(
            f"column {column!r} of {source} has empty values (CSV lines {rows})",
            hint="fill or drop the empty rows",
        )
    record, model = load_model(ws, ref)
    scored = pd.concat([frame, predict_frame(model, texts.astype(str))], axis=1)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        scored.to_csv(target, index=False)
    except OSError as exc:
        raise DataError(f"cannot write {target}: {exc.strerror}") from None
    return record, len(scored)


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
