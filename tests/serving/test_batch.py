from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from assay.errors import RegistryError
from assay.serving import predict_frame


def test_probabilities_per_class_and_argmax_prediction() -> None:
    x = pd.DataFrame({"v": [0.0, 1.0, 2.0, 3.0]})
    model = LogisticRegression().fit(x, ["lo", "lo", "hi", "hi"])
    out = predict_frame(model, x)
    assert list(out.columns) == ["prediction", "proba_hi", "proba_lo"]
    np.testing.assert_allclose(out[["proba_hi", "proba_lo"]].sum(axis=1), 1.0)
    assert out.prediction.tolist() == model.predict(x).tolist()


def test_models_without_probabilities_still_predict() -> None:
    x = pd.DataFrame({"v": [0.0, 1.0]})
    out = predict_frame(LinearRegression().fit(x, [0.0, 2.0]), x)
    assert list(out.columns) == ["prediction"]


def test_objects_that_cannot_predict_are_refused() -> None:
    with pytest.raises(RegistryError, match="has no predict method"):
        predict_frame({"not": "a model"}, [])
