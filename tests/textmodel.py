"""A small scikit-learn text classifier registered as `tiny`, for serving tests: `flip`
swaps its labels, so two versions answer differently."""

from __future__ import annotations

from typing import Any

import pandas as pd

from assay import pipeline, register_model, step


@step
def sentences(n: int = 30, flip: bool = False) -> pd.DataFrame:
    good = [f"profit rose strongly {i}" for i in range(n)]
    bad = [f"loss widened sharply {i}" for i in range(n)]
    up, down = ("down", "up") if flip else ("up", "down")
    return pd.DataFrame({"text": good + bad, "label": [up] * n + [down] * n})


@step(outputs={"model": "model"})
def fit(frame: pd.DataFrame) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    model = Pipeline([("tfidf", TfidfVectorizer()), ("clf", LogisticRegression())])
    return model.fit(frame.text, frame.label)


@pipeline
def tiny(n: int = 30, flip: bool = False) -> None:
    register_model(fit(sentences(n, flip)), name="tiny")
