"""Scoring the tables of concurrent tabular requests together, in one model call."""

from __future__ import annotations

from typing import Any

from assay.serving.loaded import LoadedModel, Table

__all__ = ["score_tables"]


def score_tables(model: LoadedModel, parts: list[Any]) -> tuple[list[Any], list[list[float]]]:
    """A batch of tabular requests (each a ``Table`` that ``LoadedModel.validate`` built): one
    table of all their rows, scored at once; answers and probabilities (none for a
    regressor) in row order.

    Raises:
        DataError: the model rejects the inputs.
    """
    answers = model.predict_table(Table.stacked(parts))
    return list(answers.predictions), answers.probabilities or []
