"""The built-in step that makes a model version's reference data for monitoring."""

from __future__ import annotations

from typing import Any

from assay.core import step
from assay.errors import DataError

__all__ = ["TEXT", "reference_sample"]

TEXT = "text"  # the column holding the input of a text model, in reference data


@step(version="1", outputs={"reference": "reference"})
def reference_sample(
    data: Any,
    text_column: str | None = None,
    label_column: str | None = None,
    max_rows: int = 5_000,
    seed: int = 0,
) -> Any:
    """A sample of ``data`` (a DataFrame the model did not learn from, such as the evaluation
    split) for ``register_model(..., reference=...)``: what monitoring compares live
    requests with.

    For a text model name ``text_column``: the sample holds it as ``text``. Otherwise every
    column but ``label_column`` is kept. With ``label_column`` the labels are kept as
    ``label``, for the live performance to be compared with. At most ``max_rows`` rows,
    drawn with ``seed``.

    Raises:
        DataError: a named column is missing, or ``data`` is empty.
    """
    import pandas as pd  # noqa: PLC0415

    named = [c for c in (text_column, label_column) if c is not None]
    missing = [c for c in named if c not in data.columns]
    if missing or len(data) == 0:
        raise DataError(
            f"reference data has no column {missing[0]!r}"
            if missing
            else "reference data is empty",
            hint=f"columns: {', '.join(map(str, data.columns))}",
        )
    if len(data) > max_rows:
        data = data.sample(n=max_rows, random_state=seed)
    if text_column is not None:
        sample = pd.DataFrame({TEXT: data[text_column].astype(str).to_numpy()})
    else:
        sample = data.drop(columns=[label_column] if label_column else []).reset_index(drop=True)
    if label_column is not None:
        sample["label"] = data[label_column].to_numpy()
    return sample.reset_index(drop=True)
