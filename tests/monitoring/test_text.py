"""Text drift: held-back sentences of the same source raise nothing; posts of another kind
of finance text raise the length, vocabulary, prediction and domain-classifier tests."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from assay.compiled import compile_model
from assay.monitoring import domain_classifier, text_drift, text_features
from tests.monitoring.phrasebank import social_posts

DATA = Path(__file__).parents[2] / "examples/sesame/data/financial_phrasebank/Sentences_50Agree.txt"


@pytest.fixture(scope="module")
def corpus() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for line in DATA.read_text(encoding="iso-8859-1").splitlines():
        sentence, sep, label = line.rpartition("@")
        if sep:
            texts.append(sentence)
            labels.append(label)
    order = random.Random(7).sample(range(len(texts)), len(texts))
    return [texts[i] for i in order], [labels[i] for i in order]


@pytest.fixture(scope="module")
def model(corpus: tuple[list[str], list[str]]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import Pipeline

    texts, labels = corpus
    fitted = Pipeline(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            ("clf", SGDClassifier(loss="modified_huber", random_state=0)),
        ]
    ).fit(texts[:3000], labels[:3000])
    return compile_model(fitted)


def scorer(model: Any) -> Any:
    def score(texts: list[str]) -> tuple[list[str], Any]:
        proba = model.predict_proba(texts)
        return [str(model.classes_[i]) for i in proba.argmax(axis=1)], proba

    return score


def vocabulary(model: Any) -> set[str]:
    return set(model.parts[0].vocabulary.units)


def test_held_back_sentences_of_the_same_source_raise_nothing(corpus: Any, model: Any) -> None:
    # The reference is text the model did not learn from, as the evaluation split is: on
    # its own training text a model sees no unknown words and is over-confident.
    texts = corpus[0]
    report = text_drift(
        texts[3000:3800], texts[3800:4600], vocabulary=vocabulary(model),
        scorer=scorer(model), classes=list(model.classes_),
    )  # fmt: skip
    assert report.drifted == [], [(c.column, c.adjusted_p_value) for c in report.columns]
    names = [c.column for c in report.columns]
    assert names == ["tokens", "out_of_vocabulary", "predicted", "p(negative)", "p(neutral)",
                     "p(positive)", "texts"]  # fmt: skip


def test_posts_of_another_kind_are_flagged_by_several_tests(corpus: Any, model: Any) -> None:
    report = text_drift(
        corpus[0][3000:3800], social_posts(400), vocabulary=vocabulary(model),
        scorer=scorer(model), classes=list(model.classes_),
    )  # fmt: skip
    assert {"tokens", "out_of_vocabulary", "texts"} <= set(report.drifted)
    domain = next(c for c in report.columns if c.column == "texts")
    assert domain.test == "domain classifier" and domain.effect_size > 0.9


def test_out_of_vocabulary_share_and_length_per_text() -> None:
    frame = text_features(["Profit rose", "", "zzz qqq profit"], {"profit", "rose"})
    assert frame["tokens"].tolist() == [2, 0, 3]
    assert frame["out_of_vocabulary"].tolist() == pytest.approx([0.0, 0.0, 2 / 3])


def test_a_small_window_of_texts_never_alarms(corpus: Any, model: Any) -> None:
    report = text_drift(corpus[0][:1000], social_posts(20), vocabulary=vocabulary(model))
    assert report.drifted == []
    assert {c.status for c in report.columns} == {"too few rows"}


def test_the_domain_classifier_is_near_chance_on_one_source(corpus: Any) -> None:
    texts = corpus[0]
    for start in (0, 800, 1600, 2400):  # four disjoint pairs of same-source samples
        auc, p = domain_classifier(texts[start : start + 400], texts[start + 400 : start + 800])
        assert 0.4 < auc < 0.6 and p > 0.01, (start, auc, p)
    auc, p = domain_classifier(texts[:800], social_posts(300))
    assert auc > 0.95 and p < 1e-10
