"""sesame: sentiment (negative / neutral / positive) of sentences from financial reports.

Run it with ``assay run examples/sesame``; every parameter below can be changed with
``--param NAME=VALUE``. The gates a version must pass are in ``policy.yaml``; the team's
part of the model card is in ``model_card.yaml``.
"""

from __future__ import annotations

from pathlib import Path

from steps import LABELS, evaluate, ingest, split, train, validate, with_feedback

from assay import pipeline, register_model
from assay.governance import check_gates, model_card
from assay.monitoring import reference_sample

HERE = Path(__file__).parent
DATA = HERE / "data" / "financial_phrasebank"

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
    policy: Path = HERE / "policy.yaml",
    card: Path = HERE / "model_card.yaml",
    feedback: Path | None = None,
) -> None:
    """Ingest, validate, split, train, evaluate, describe, sample a monitoring reference,
    register and gate sesame. ``feedback``: a CSV of live inputs with late labels (``text``,
    ``label``) added to the training split, as a retraining started by monitoring passes."""
    raw = ingest(data)
    clean, validation = validate(
        raw, min_rows_per_class=min_rows_per_class, max_imbalance=max_imbalance
    )
    train_set, test_set = split(clean, test_size=test_size, seed=seed)
    if feedback is not None:
        # Live inputs with late labels, from a retraining that monitoring started.
        train_set = with_feedback(train_set, feedback)
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
    described = model_card(
        card,
        evaluation=metrics,
        training_data=train_set,
        evaluation_data=test_set,
        label_column="label",
        model=model_name,
    )
    # What monitoring compares live requests with: held-out sentences, with their labels.
    reference = reference_sample(test_set, text_column="sentence", label_column="label")
    registration = register_model(
        model, name=model_name, metrics=metrics, card=described, reference=reference
    )
    check_gates(registration, policy=policy, validation=validation)
