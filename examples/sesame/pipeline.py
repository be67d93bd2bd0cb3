"""sesame: sentiment (negative / neutral / positive) of sentences from financial reports.

Run it with ``assay run examples/sesame``; every parameter below can be changed with
``--param NAME=VALUE``. It uses only assay's public API.
"""

from __future__ import annotations

from pathlib import Path

from steps import LABELS, evaluate, ingest, split, train, validate

from assay import pipeline, register_model

DATA = Path(__file__).parent / "data" / "financial_phrasebank"

__all__ = ["LABELS", "sesame"]


@pipeline
def sesame(
    data: Path = DATA,
    min_rows_per_class: int = 50,
    max_imbalance: float = 10.0,
    test_size: float = 0.2,
    seed: int = 42,
    word_ngram_max: int = 2,
    char_ngram_min: int = 2,
    char_ngram_max: int = 5,
    max_features: int = 50_000,
    loss: str = "modified_huber",
    alpha: float = 1e-4,
    class_weight: str = "balanced",
    epochs: int = 50,
    agreement_power: float = 4.0,
    model_name: str = "sesame",
) -> None:
    """Ingest, validate, split, train, evaluate and register the sesame model."""
    raw = ingest(data)
    clean, _report = validate(
        raw, min_rows_per_class=min_rows_per_class, max_imbalance=max_imbalance
    )
    train_set, test_set = split(clean, test_size=test_size, seed=seed)
    model = train(
        train_set,
        word_ngram_max=word_ngram_max,
        char_ngram_min=char_ngram_min,
        char_ngram_max=char_ngram_max,
        max_features=max_features,
        loss=loss,
        alpha=alpha,
        class_weight=class_weight,
        epochs=epochs,
        agreement_power=agreement_power,
        seed=seed,
    )
    metrics = evaluate(model, test_set)
    register_model(model, name=model_name, metrics=metrics)
