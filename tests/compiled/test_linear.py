"""Linear models of numeric columns, compiled: scikit-learn's own answers, without it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import (
    ElasticNet,
    Lasso,
    LinearRegression,
    LogisticRegression,
    Ridge,
    SGDClassifier,
    SGDRegressor,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from assay.compiled import compile_linear
from assay.errors import CompileError

RNG = np.random.default_rng(3)
X = RNG.normal(loc=[0.0, 50.0, -3.0, 1000.0], scale=[1.0, 10.0, 0.1, 300.0], size=(300, 4))
SCORE = X @ np.array([1.0, 0.05, -4.0, 0.002])
Y3 = np.array(["low", "middle", "high"])[np.digitize(SCORE, np.quantile(SCORE, [0.33, 0.66]))]
Y2 = np.where(np.median(SCORE) < SCORE, "up", "down")
# Columns of about one unit: a model fitted without a scaler converges on them.
UNIT = (X - X.mean(axis=0)) / X.std(axis=0)
FRESH = RNG.normal(loc=[0.0, 50.0, -3.0, 1000.0], scale=[2.0, 20.0, 0.2, 600.0], size=(50, 4))


@pytest.mark.parametrize(
    ("model", "y"),
    [
        (LogisticRegression(), Y3),
        (LogisticRegression(), Y2),
        (make_pipeline(StandardScaler(), LogisticRegression()), Y3),
        (make_pipeline(StandardScaler(with_mean=False), LogisticRegression()), Y2),
        (make_pipeline(StandardScaler(), SGDClassifier(loss="log_loss", random_state=0)), Y3),
        (
            make_pipeline(StandardScaler(), SGDClassifier(loss="modified_huber", random_state=0)),
            Y2,
        ),
    ],
)
def test_classifiers_answer_as_scikit_learn(model: Any, y: Any) -> None:
    model.fit(X if hasattr(model, "steps") else UNIT, y)
    compiled = compile_linear(model)
    np.testing.assert_allclose(compiled.predict_proba(FRESH), model.predict_proba(FRESH), rtol=1e-9)
    assert compiled.predict(FRESH).tolist() == model.predict(FRESH).tolist()
    assert compiled.columns is None  # fitted on an array: columns by position


@pytest.mark.parametrize(
    "model",
    [
        LinearRegression(),
        Ridge(alpha=3.0),
        Lasso(alpha=0.01),
        ElasticNet(alpha=0.01),
        make_pipeline(StandardScaler(), SGDRegressor(random_state=0)),
    ],
)
def test_regressors_answer_as_scikit_learn(model: Any) -> None:
    model.fit(X, SCORE)
    compiled = compile_linear(model)
    np.testing.assert_allclose(compiled.predict(FRESH), model.predict(FRESH), rtol=1e-9)
    with pytest.raises(CompileError, match="no probabilities"):
        compiled.predict_proba(FRESH)


def test_a_model_fitted_on_named_columns_keeps_their_order() -> None:
    frame = pd.DataFrame(X, columns=["rooms", "area", "rate", "price"])
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, Y3)
    compiled = compile_linear(model)
    assert compiled.columns == ("rooms", "area", "rate", "price")
    fresh = pd.DataFrame(FRESH, columns=list(compiled.columns))
    np.testing.assert_allclose(compiled.predict_proba(FRESH), model.predict_proba(fresh), rtol=1e-9)


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (RandomForestClassifier(n_estimators=3, random_state=0), "is not a LogisticRegression"),
        (make_pipeline(MinMaxScaler(), LogisticRegression()), "a Pipeline of 2 steps"),
        (make_pipeline(StandardScaler(), StandardScaler(), Ridge()), "a Pipeline of 3 steps"),
        (SGDClassifier(loss="hinge", random_state=0), "hinge'? gives no probabilities"),
    ],
)
def test_what_does_not_compile_says_why(model: Any, message: str) -> None:
    regressor = type(model[-1] if hasattr(model, "steps") else model).__name__ == "Ridge"
    model.fit(UNIT, SCORE if regressor else Y2)
    with pytest.raises(CompileError, match=message):
        compile_linear(model)


def test_a_compiled_form_that_differs_from_its_model_is_refused() -> None:
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y2)
    with pytest.raises(CompileError, match="differs from the scikit-learn model by"):
        compile_linear(model, tolerance=-1.0)  # no difference is small enough
