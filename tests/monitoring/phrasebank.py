"""A small Financial PhraseBank text model registered as `pb` with held-out reference data,
and traffic for it: held-back sentences of the same source, or social-media posts."""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

from assay import pipeline, register_model, step
from assay.evaluation import classification_report
from assay.metadata import PredictionRecord
from assay.monitoring import reference_sample
from assay.workspace import Workspace

DATA = Path(__file__).parents[2] / "examples/sesame/data/financial_phrasebank"
LABELS = ["negative", "neutral", "positive"]


def sentences() -> pd.DataFrame:
    """Every Sentences_50Agree sentence with its label, shuffled the same way every time."""
    rows = []
    for line in (DATA / "Sentences_50Agree.txt").read_text(encoding="iso-8859-1").splitlines():
        sentence, sep, label = line.rpartition("@")
        if sep:
            rows.append((sentence, label))
    random.Random(11).shuffle(rows)
    return pd.DataFrame(rows, columns=["sentence", "label"])


@step(outputs=["train", "test"])
def split_corpus() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = sentences()
    return frame.iloc[:2500].reset_index(drop=True), frame.iloc[2500:3300].reset_index(drop=True)


@step(outputs={"model": "model"})
def fit(train: pd.DataFrame) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import Pipeline

    model = Pipeline(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            ("clf", SGDClassifier(loss="modified_huber", random_state=0)),
        ]
    )
    return model.fit(train["sentence"], train["label"])


@step(outputs={"metrics": "metrics"})
def evaluate(model: Any, test: pd.DataFrame) -> dict[str, Any]:
    predicted = model.predict(test["sentence"]).tolist()
    return classification_report(test["label"].tolist(), predicted, LABELS)


@pipeline
def phrasebank(with_reference: bool = True) -> None:
    train, test = split_corpus()
    model = fit(train)
    metrics = evaluate(model, test)
    if with_reference:
        reference = reference_sample(test, text_column="sentence", label_column="label")
        register_model(model, name="pb", metrics=metrics, reference=reference)
    else:
        register_model(model, name="pb", metrics=metrics)


def held_back(n: int) -> list[str]:
    """Sentences neither trained on nor in the reference."""
    return sentences()["sentence"].iloc[3300 : 3300 + n].tolist()


def held_back_labels(n: int) -> list[str]:
    """The true labels of ``held_back(n)``."""
    return sentences()["label"].iloc[3300 : 3300 + n].tolist()


def social_posts(n: int, seed: int = 3) -> list[str]:
    """Short, informal market chatter: tickers, hashtags, emoji, slang."""
    rng = random.Random(seed)
    tickers = ["$TSLA", "$AAPL", "$GME", "$NOK", "$AMC", "$BTC", "$NVDA", "$SPY"]
    moods = ["to the moon 🚀🚀", "is tanking lol", "gonna rip tmrw", "bag holders rn 😭",
             "diamond hands 💎🙌", "buy the dip!!", "rug pulled smh", "printing money 🤑"]  # fmt: skip
    tails = ["#stocks", "#wsb", "#investing", "ngl", "imo", "yolo", "", "👀"]
    return [
        f"{rng.choice(tickers)} {rng.choice(moods)} {rng.choice(tails)}".strip() for _ in range(n)
    ]


def log_traffic(
    ws: Workspace,
    texts: list[str],
    per_request: int = 10,
    version: int = 1,
    at: float = 0.0,
    predicted: list[str] | None = None,
) -> list[PredictionRecord]:
    """Write ``texts`` to the prediction log as a server would, ``per_request`` a request,
    a millisecond apart from ``at`` (default: now), answered with ``predicted`` labels."""
    now = at or time.time()
    labels = predicted or ["neutral"] * len(texts)
    records = [
        PredictionRecord(
            uuid.uuid4().hex, "pb", version, now + i * 1e-3, 1.0, "v1",
            texts[start : start + per_request],
            [
                {"label": label, "probabilities": {c: float(c == label) for c in LABELS}}
                for label in labels[start : start + per_request]
            ],
        )
        for i, start in enumerate(range(0, len(texts), per_request))
    ]  # fmt: skip
    ws.metadata.log_predictions(records)
    return records
