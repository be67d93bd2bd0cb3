"""Explanations: exact per-feature contributions for linear text models, SHAP for others."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assay.compiled import CompiledTextModel
from assay.serving.loaded import LoadedModel
from assay.serving.protocol import BadRequest

__all__ = ["explain", "explain_any", "explain_linear", "is_linear"]


def is_linear(loaded: LoadedModel) -> bool:
    """True when ``loaded`` answers from a compiled linear text model."""
    return isinstance(loaded.model, CompiledTextModel)


def explain_linear(
    loaded: LoadedModel, texts: Sequence[str], top: int = 10
) -> list[dict[str, Any]]:
    """For each text, every class's score split into feature contributions (feature value
    times weight) plus the intercept; the parts add up to the classifier's decision score
    exactly. The ``top`` largest contributions by size are listed per class.

    Raises:
        BadRequest: the model is not linear (422).
    """
    import numpy as np  # noqa: PLC0415

    model = loaded.model
    if not isinstance(model, CompiledTextModel):
        raise BadRequest(
            f"{loaded.name}@{loaded.version} is not a linear text model; exact explanations "
            "need text vectorizers followed by a linear classifier",
            422,
        )
    names = model.feature_names()
    found = model.contributions(texts)
    classes = [str(c) for c in model.classes_]
    # A binary classifier has one row of weights: the score of the second class.
    scored = classes if model.coef.shape[0] == len(classes) else classes[1:]
    labels, _ = loaded.predict(texts)
    explained = []
    for row, label in enumerate(labels):
        mine = found.rows == row
        columns, values = found.columns[mine], found.values[mine]
        per_class = {}
        for k, cls in enumerate(scored):
            contrib = values * model.coef[k, columns]
            order = np.argsort(-np.abs(contrib), kind="stable")[:top]
            per_class[cls] = {
                "score": float(found.decision[row, k]),
                "intercept": float(model.intercept[k]),
                "sum_of_contributions": float(contrib.sum()),
                "top": [
                    {"feature": names[columns[i]], "contribution": float(contrib[i])} for i in order
                ],
            }
        explained.append({"label": label, "classes": per_class})
    return explained


def explain_any(
    loaded: LoadedModel, texts: Sequence[str], top: int = 10, max_evals: int = 300
) -> list[dict[str, Any]]:
    """Model-agnostic explanations with SHAP's partition explainer over word tokens: for each
    class, the base value (the probability with every word masked) plus the tokens' values
    add up to the predicted probability (SHAP's efficiency property)."""
    import numpy as np  # noqa: PLC0415
    import shap  # noqa: PLC0415 - loaded only when a model needs it

    def proba(batch: Any) -> Any:
        return np.asarray(loaded.model.predict_proba([str(t) for t in batch]), dtype=float)

    explainer = shap.Explainer(proba, shap.maskers.Text(r"\W+"), output_names=list(loaded.classes))
    values = explainer(list(texts), max_evals=max_evals, silent=True)
    labels, probabilities = loaded.predict(texts)
    found = []
    for row, label in enumerate(labels):
        tokens = [str(t) for t in values.data[row]]
        contributions = np.asarray(values.values[row], dtype=float)  # tokens x classes
        base = np.asarray(values.base_values[row], dtype=float)
        per_class = {}
        for k, cls in enumerate(loaded.classes):
            column = contributions[:, k]
            order = np.argsort(-np.abs(column))[:top]
            per_class[cls] = {
                "probability": float(probabilities[row][k]),
                "base_value": float(base[k]),
                "sum_of_contributions": float(column.sum()),
                "top": [
                    {"feature": tokens[i].strip() or tokens[i], "contribution": float(column[i])}
                    for i in order
                ],
            }
        found.append({"label": label, "method": "shap-partition", "classes": per_class})
    return found


def explain(
    loaded: LoadedModel, texts: Sequence[str], method: str = "auto"
) -> list[dict[str, Any]]:
    """Exact contributions for a linear model, SHAP for any other (``method``: ``auto``,
    ``linear`` or ``shap``).

    Raises:
        BadRequest: an unknown method, or ``linear`` for a model that is not.
    """
    if method not in {"auto", "linear", "shap"}:
        raise BadRequest(f"unknown explanation method {method!r}; use auto, linear or shap")
    if method == "shap" or (method == "auto" and not is_linear(loaded)):
        return explain_any(loaded, texts)
    return [{**e, "method": "linear-exact"} for e in explain_linear(loaded, texts)]
