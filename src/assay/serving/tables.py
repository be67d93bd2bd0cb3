"""Scoring the tables of concurrent tabular requests together, in one model call."""

from __future__ import annotations

from typing import Any

from assay.serving.loaded import LoadedModel

__all__ = ["score_tables"]


def score_tables(model: LoadedModel, parts: list[Any]) -> tuple[list[Any], list[list[float]]]:
    """A batch of tabular requests (each a table ``LoadedModel.validate`` built): one table
    of all their rows, scored at once; answers and probabilities (none for a regressor) in
    row order.

    Raises:
        DataError: the model rejects the inputs.
    """
    import pandas as pd  # noqa: PLC0415

    table = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    answers = model.predict_table(table)
    return list(answers.predictions), answers.probabilities or []
