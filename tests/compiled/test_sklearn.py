"""The compiled form gives scikit-learn's own numbers, across the options it supports."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from assay.compiled import CompiledTextModel, compile_model, probe_texts, verify
from assay.errors import CompileError
from assay.store import BundleCodec

ODD = [
    "",
    "   ",
    "A",
    "İSTANBUL Ünïcödé façade",
    "tabs\tand\nnewlines\r\nand  doubles",
    "😀😀 profit 😀",
    "operating profit rose to EUR 13.1 mn from EUR 8.7 mn",
]


def fit(
    features: Any, classifier: Any, corpus: tuple[list[str], list[str]], binary: bool = False
) -> Pipeline:
    texts, labels = corpus
    if binary:
        labels = ["positive" if y == "positive" else "other" for y in labels]
    return Pipeline([("features", features), ("classifier", classifier)]).fit(
        texts[:1500], labels[:1500]
    )


def sgd(loss: str = "modified_huber") -> SGDClassifier:
    return SGDClassifier(loss=loss, max_iter=20, tol=None, random_state=0)


CASES = {
    "sesame-like": (
        lambda: FeatureUnion(
            [
                ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                (
                    "chars",
                    TfidfVectorizer(
                        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
                    ),
                ),
            ]
        ),
        sgd,
    ),
    "char with l1, no idf": (
        lambda: TfidfVectorizer(analyzer="char", ngram_range=(1, 3), norm="l1", use_idf=False),
        lambda: sgd("log_loss"),
    ),
    "char_wb long n-grams": (lambda: TfidfVectorizer(analyzer="char_wb", ngram_range=(4, 7)), sgd),
    "counts, stop words, accents": (
        lambda: CountVectorizer(stop_words="english", strip_accents="unicode", ngram_range=(1, 3)),
        lambda: LogisticRegression(max_iter=300),
    ),
    "binary, ascii accents, no lowercase, no norm": (
        lambda: TfidfVectorizer(binary=True, strip_accents="ascii", lowercase=False, norm=None),
        lambda: LogisticRegression(max_iter=300),
    ),
    "weighted union with a dropped part": (
        lambda: FeatureUnion(
            [
                ("w", TfidfVectorizer(token_pattern=r"(?u)\b\w+\b", ngram_range=(2, 2))),
                ("gone", "drop"),
                ("c", TfidfVectorizer(analyzer="char", ngram_range=(2, 2))),
            ],
            transformer_weights={"w": 2.0, "c": 0.5},
        ),
        sgd,
    ),
}


@pytest.mark.parametrize("binary", [False, True], ids=["three classes", "two classes"])
@pytest.mark.parametrize("case", list(CASES))
def test_compiled_probabilities_equal_scikit_learns(case: str, binary: bool, corpus: Any) -> None:
    features, classifier = CASES[case]
    model = fit(features(), classifier(), corpus, binary)
    compiled = compile_model(model)
    held_out = corpus[0][1500:] + ODD
    expected = model.predict_proba(held_out)
    assert np.abs(compiled.predict_proba(held_out) - expected).max() <= 1e-12
    assert list(compiled.predict(held_out)) == list(model.predict(held_out))
    np.testing.assert_allclose(
        compiled.decision_function(held_out), model.decision_function(held_out), atol=1e-12
    )
    assert compiled.feature_names() == list(model[:-1].get_feature_names_out())


def test_the_stored_form_gives_the_same_numbers(corpus: Any) -> None:
    model = fit(*[f() for f in CASES["sesame-like"]], corpus)
    codec = BundleCodec()
    back = CompiledTextModel.from_bundle(
        codec.decode(codec.encode(compile_model(model).to_bundle()))
    )
    texts = corpus[0][1500:]
    assert np.abs(back.predict_proba(texts) - model.predict_proba(texts)).max() <= 1e-12


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(st.text(max_size=80), min_size=1, max_size=8))
def test_any_text_gets_scikit_learns_numbers(texts: list[str], corpus: Any) -> None:
    model, compiled = _sesame_like(corpus)
    assert np.abs(compiled.predict_proba(texts) - model.predict_proba(texts)).max() <= 1e-12


def _sesame_like(corpus: Any, cache: dict[str, Any] = {}) -> tuple[Pipeline, CompiledTextModel]:  # noqa: B006 - a cache across hypothesis examples
    if "model" not in cache:
        cache["model"] = fit(*[f() for f in CASES["sesame-like"]], corpus)
        cache["compiled"] = compile_model(cache["model"])
    return cache["model"], cache["compiled"]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda c: fit(TfidfVectorizer(tokenizer=str.split, token_pattern=None), sgd(), c),
            "own preprocessor or tokenizer",
        ),
        (lambda c: fit(TfidfVectorizer(dtype=np.float32), sgd(), c), "float32"),
        (lambda c: fit(TfidfVectorizer(), sgd("hinge"), c), "gives no probabilities"),
        (
            lambda c: Pipeline(
                [("a", FunctionTransformer()), ("b", TfidfVectorizer()), ("c", sgd())]
            ),
            "is not a Pipeline of",
        ),
        (
            lambda c: Pipeline(
                [
                    ("u", FeatureUnion([("t", TfidfVectorizer()), ("f", FunctionTransformer())])),
                    ("c", sgd()),
                ]
            ),
            "not a text vectorizer",
        ),
    ],
)
def test_what_does_not_compile_says_why(build: Any, message: str, corpus: Any) -> None:
    with pytest.raises(CompileError, match=message):
        compile_model(build(corpus))


def test_verify_names_the_text_that_differs(corpus: Any) -> None:
    model = fit(TfidfVectorizer(), LogisticRegression(max_iter=300), corpus)
    compiled = compile_model(model)
    coef = compiled.coef.copy()
    coef[0, 0] += 5.0
    compiled = dataclasses.replace(compiled, coef=coef)  # no longer matches its model
    first = next(t for t in corpus[0] if "00" in t.lower().split())
    with pytest.raises(CompileError, match="differs from the scikit-learn model by"):
        verify(compiled, model, [first])


def test_probe_texts_are_the_same_every_time_and_use_the_vocabulary(corpus: Any) -> None:
    _, compiled = _sesame_like(corpus)
    first, second = probe_texts(compiled), probe_texts(compiled)
    assert first == second and len(first) == 300
    assert "" in first and sum(" profit" in t.lower() for t in first) >= 1


def test_words_kept_between_batches_and_forgotten_give_the_same_numbers(
    corpus: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assay.compiled import ngrams

    model, compiled = _sesame_like(corpus)
    texts = corpus[0][1500:1700] + ODD
    expected = model.predict_proba(texts)
    # Warm: every word of the second pass was kept from the first.
    for _ in range(2):
        assert np.abs(compiled.predict_proba(texts) - expected).max() <= 1e-12
    # A vocabulary that may keep only a few words forgets them all again and again.
    monkeypatch.setattr(ngrams, "WORDS_KEPT", 50)
    fresh = compile_model(model)
    for start in range(0, len(texts), 20):
        batch = texts[start : start + 20]
        got = fresh.predict_proba(batch)
        assert np.abs(got - model.predict_proba(batch)).max() <= 1e-12
    chars = next(p.vocabulary for p in fresh.parts if p.vocabulary.analyzer == "char_wb")
    assert len(chars._words.index) <= 50 + len(set(" ".join(texts[-20:]).split()))
