"""A linear model of numeric columns compiled to arrays: a fitted scikit-learn linear
classifier or regressor (after a StandardScaler, or none) scored with NumPy alone, checked
against the model when it is compiled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from assay.compiled.links import probabilities
from assay.errors import CompileError

__all__ = ["CompiledLinearModel", "compile_linear"]

_CLASSIFIERS = ("LogisticRegression", "SGDClassifier")
_REGRESSORS = ("LinearRegression", "Ridge", "Lasso", "ElasticNet", "SGDRegressor")
_SUPPORTED = (
    "a LogisticRegression, an SGDClassifier (log_loss or modified_huber) or a linear "
    "regressor (LinearRegression, Ridge, Lasso, ElasticNet, SGDRegressor), alone or after "
    "a StandardScaler in a Pipeline"
)
_PROBE_ROWS = 64


@dataclass(frozen=True, slots=True)
class CompiledLinearModel:
    """Rows of numbers in (columns in the order the model was fitted on: ``columns``, when
    it was fitted on named ones), the model's answers out: ``x`` is scaled as ``(x - mean)
    / scale``, then scored as ``coef @ x + intercept``. ``link`` turns a classifier's
    scores into probabilities; a regressor (``classes_`` None) answers its score."""

    columns: tuple[str, ...] | None
    mean: Any
    scale: Any
    coef: Any  # weight rows x columns
    intercept: Any
    classes_: Any | None
    link: str | None

    @property
    def n_features_in_(self) -> int:
        """How many columns it takes (as scikit-learn names it)."""
        return int(self.coef.shape[1])

    @property
    def feature_names_in_(self) -> Any:
        """The columns' names when it was fitted on named ones, else None."""
        return None if self.columns is None else np.asarray(self.columns, dtype=object)

    def decision_function(self, rows: Any) -> Any:
        """Scores, one row per input row (one column per weight row).

        Raises:
            ValueError: a value is missing (NaN) or infinite, which scikit-learn refuses too.
        """
        x = np.asarray(rows, dtype=np.float64)
        if not np.isfinite(x).all():
            what = "NaN" if np.isnan(x).any() else "infinity or a value too large"
            raise ValueError(f"Input X contains {what}.")
        return ((x - self.mean) / self.scale) @ self.coef.T + self.intercept

    def predict_proba(self, rows: Any) -> Any:
        """Class probabilities, one column per class in ``classes_`` order."""
        if self.link is None:
            raise CompileError("a regressor gives no probabilities")
        return probabilities(self.decision_function(rows), self.link)

    def predict(self, rows: Any) -> Any:
        """A classifier's classes, as scikit-learn's ``predict``; a regressor's numbers."""
        scores = self.decision_function(rows)
        if self.classes_ is None:
            return scores[:, 0]
        if scores.shape[1] == 1:
            return self.classes_[(scores[:, 0] > 0).astype(int)]
        return self.classes_[scores.argmax(axis=1)]


def compile_linear(model: Any, *, tolerance: float = 1e-9) -> CompiledLinearModel:
    """Compile ``model`` (see ``_SUPPORTED``) to arrays, then check that it answers as the
    model does on probe rows (to within ``tolerance``, relative to the size of the answer).

    Raises:
        CompileError: the model is not one of those, or the check fails.
    """
    steps = getattr(model, "steps", None)
    scaler, estimator = (None, model) if steps is None else _scaler_and_estimator(steps)
    kind = type(estimator).__name__
    if kind not in (*_CLASSIFIERS, *_REGRESSORS):
        raise CompileError(f"{type(model).__name__} is not {_SUPPORTED}")
    coef = np.atleast_2d(np.asarray(estimator.coef_, dtype=np.float64))
    width = coef.shape[1]
    mean, scale = np.zeros(width), np.ones(width)
    if scaler is not None and scaler.with_mean:
        mean = np.asarray(scaler.mean_, dtype=np.float64)
    if scaler is not None and scaler.with_std:
        scale = np.asarray(scaler.scale_, dtype=np.float64)
    intercept = np.atleast_1d(np.asarray(estimator.intercept_, dtype=np.float64))
    names = getattr(model, "feature_names_in_", None)
    columns = None if names is None else tuple(str(n) for n in names)
    if kind in _CLASSIFIERS:
        classes, link = np.asarray(estimator.classes_), _link(estimator)
    else:
        classes, link = None, None
    compiled = CompiledLinearModel(columns, mean, scale, coef, intercept, classes, link)
    _verify(compiled, model, width, tolerance)
    return compiled


def _scaler_and_estimator(steps: list[tuple[str, Any]]) -> tuple[Any, Any]:
    parts = [step for _, step in steps if step not in (None, "passthrough")]
    if len(parts) == 1:
        return None, parts[0]
    if len(parts) == 2 and type(parts[0]).__name__ == "StandardScaler":
        return parts[0], parts[1]
    raise CompileError(f"a Pipeline of {len(parts)} steps is not {_SUPPORTED}")


def _link(classifier: Any) -> str:
    if type(classifier).__name__ == "SGDClassifier":
        links = {"modified_huber": "modified_huber", "log_loss": "logistic_ovr"}
        if classifier.loss not in links:
            raise CompileError(
                f"SGDClassifier with loss {classifier.loss!r} gives no probabilities"
            )
        return links[classifier.loss]
    return "logistic_ovr" if len(classifier.classes_) <= 2 else "softmax"


def _verify(compiled: CompiledLinearModel, model: Any, width: int, tolerance: float) -> None:
    rows = np.random.default_rng(0).normal(size=(_PROBE_ROWS, width)) * compiled.scale
    rows = np.vstack([np.zeros(width), rows + compiled.mean])
    given: Any = rows
    if compiled.columns is not None:  # fitted on a DataFrame: asked with one
        import pandas as pd  # noqa: PLC0415

        given = pd.DataFrame(rows, columns=list(compiled.columns))
    if compiled.classes_ is None:
        expected = np.asarray(model.predict(given), dtype=np.float64).reshape(-1)
        got = compiled.predict(rows)
    else:
        expected = np.asarray(model.predict_proba(given), dtype=np.float64)
        got = compiled.predict_proba(rows)
    worst = float(np.max(np.abs(got - expected) / np.maximum(1.0, np.abs(expected))))
    if not worst <= tolerance:
        raise CompileError(
            f"the compiled form differs from the scikit-learn model by {worst:.3g}",
            hint="serve the model as it is registered",
        )
