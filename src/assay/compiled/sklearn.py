"""Compiling a scikit-learn text pipeline, and checking the result gives the same numbers."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from assay.compiled.model import CompiledTextModel, Part
from assay.compiled.ngrams import NgramVocabulary
from assay.errors import CompileError

__all__ = ["compile_model", "probe_texts", "verify"]

_SUPPORTED = (
    "a Pipeline of a CountVectorizer or TfidfVectorizer (or a FeatureUnion of them) and an "
    "SGDClassifier (modified_huber or log_loss) or LogisticRegression"
)
# Texts that exercise what scikit-learn's analyzers do at the edges: nothing at all, only
# whitespace of several kinds, one letter, case that changes length when lowered ("İ"),
# accents, digits, punctuation glued to words, emoji, a long word.
_EDGE_CASES = (
    "",
    " ",
    "\t\n \u00a0\u3000",
    "a",
    "I",
    "İstanbul ÉCOLE straße Ωmega",
    "!!! ... ???",
    "EUR 1,234.56 (+7.5 %) vs. 2009",
    "profit\u2019s up 😀 — down-turn",
    "x" * 60,
    "  leading and trailing spaces  ",
)


def compile_model(
    model: Any, *, probes: Sequence[str] | None = None, tolerance: float = 1e-9
) -> CompiledTextModel:
    """Compile ``model`` (a fitted scikit-learn text pipeline) to arrays, then check that it
    gives the model's own probabilities on ``probes`` (by default texts made from its
    vocabulary and edge cases) to within ``tolerance``.

    Raises:
        CompileError: a part of the model is not supported, or the check fails.
    """
    steps = getattr(model, "steps", None)
    if not steps or len(steps) != 2:
        raise CompileError(f"{type(model).__name__} is not {_SUPPORTED}")
    featuriser, classifier = steps[0][1], steps[1][1]
    named = _vectorizers(featuriser)
    parts, offset = [], 0
    for name, vectorizer, weight in named:
        vocabulary = _vocabulary(vectorizer, name)
        parts.append(Part(name, vocabulary, offset, weight))
        offset += vocabulary.n_features
    link = _link(classifier)
    coef = np.array(classifier.coef_, dtype=np.float64)
    if coef.ndim != 2 or coef.shape[1] != offset:
        raise CompileError(
            f"the classifier has {coef.shape[-1]} weights per class but the features number "
            f"{offset}"
        )
    compiled = CompiledTextModel(
        parts=tuple(parts),
        coef=coef,
        intercept=np.array(classifier.intercept_, dtype=np.float64).reshape(-1),
        classes_=np.asarray([str(c) for c in classifier.classes_]),
        link=link,
        source={"pipeline": [type(s[1]).__name__ for s in steps], "tolerance": tolerance},
    )
    verify(compiled, model, probes if probes is not None else probe_texts(compiled), tolerance)
    return compiled


def verify(
    compiled: CompiledTextModel, model: Any, texts: Sequence[str], tolerance: float = 1e-9
) -> float:
    """The largest difference between the two models' probabilities on ``texts``.

    Raises:
        CompileError: it is above ``tolerance``, naming the first text that differs.
    """
    texts = list(texts)
    if not texts:
        return 0.0
    expected = np.asarray(model.predict_proba(texts), dtype=np.float64)
    got = compiled.predict_proba(texts)
    difference = np.abs(expected - got).max(axis=1)
    worst = int(difference.argmax())
    if difference[worst] > tolerance:
        raise CompileError(
            f"the compiled model differs from the scikit-learn model by "
            f"{difference[worst]:.2e} on {texts[worst][:80]!r}",
            hint="serve the scikit-learn model as it is (assay does so when compiling fails)",
        )
    return float(difference[worst])


def probe_texts(compiled: CompiledTextModel, count: int = 300, seed: int = 0) -> list[str]:
    """Texts for ``verify``: pieces of the model's own vocabulary, glued with assorted
    whitespace, punctuation and case, plus fixed edge cases. The same every time."""
    rng = random.Random(seed)  # noqa: S311 - reproducible probes, nothing secret
    pieces: list[str] = []
    for part in compiled.parts:
        voc = part.vocabulary
        chosen = rng.sample(range(len(voc.keys)), min(len(voc.keys), 2 * count))
        names = compiled.feature_names()
        pieces.extend(names[part.offset + int(voc.columns[i])].split("__", 1)[-1] for i in chosen)
    separators = [" ", " ", " ", "  ", "\t", "\n", ", ", ". ", "-", "", "'s "]
    cases: list[Callable[[str], str]] = [str, str, str.upper, str.title, str.capitalize]
    texts = list(_EDGE_CASES)
    while len(texts) < count and pieces:
        words = [rng.choice(pieces).strip() or "a" for _ in range(rng.randint(1, 30))]
        text = "".join(w + rng.choice(separators) for w in words)
        texts.append(rng.choice(cases)(text))
    return texts


def _vectorizers(featuriser: Any) -> list[tuple[str, Any, float]]:
    from sklearn.feature_extraction.text import CountVectorizer  # noqa: PLC0415
    from sklearn.pipeline import FeatureUnion  # noqa: PLC0415

    if isinstance(featuriser, CountVectorizer):  # TfidfVectorizer is one too
        return [("", featuriser, 1.0)]
    if not isinstance(featuriser, FeatureUnion):
        raise CompileError(f"{type(featuriser).__name__} is not {_SUPPORTED}")
    weights = featuriser.transformer_weights or {}
    found = []
    for name, transformer in featuriser.transformer_list:
        if isinstance(transformer, str) and transformer == "drop":
            continue
        if not isinstance(transformer, CountVectorizer):
            raise CompileError(
                f"feature {name!r} ({type(transformer).__name__}) is not a text vectorizer"
            )
        found.append((str(name), transformer, float(weights.get(name, 1.0))))
    return found


def _vocabulary(vectorizer: Any, name: str) -> NgramVocabulary:
    label = f"vectorizer {name!r}" if name else "the vectorizer"
    analyzer = vectorizer.analyzer
    if vectorizer.input != "content" or analyzer not in {"word", "char", "char_wb"}:
        raise CompileError(
            f"{label} reads {vectorizer.input} with analyzer {analyzer!r}; only text "
            "(input='content') with the word, char or char_wb analyzer compiles"
        )
    if vectorizer.preprocessor is not None or (
        analyzer == "word" and vectorizer.tokenizer is not None
    ):
        raise CompileError(f"{label} has its own preprocessor or tokenizer function")
    if vectorizer.strip_accents not in {None, "ascii", "unicode"}:
        raise CompileError(f"{label} strips accents with its own function")
    # Integer counts are exact in float64; a narrower float would round differently.
    if np.dtype(vectorizer.dtype).kind == "f" and np.dtype(vectorizer.dtype) != np.float64:
        raise CompileError(f"{label} computes in {np.dtype(vectorizer.dtype)}, not float64")
    low, high = (int(n) for n in vectorizer.ngram_range)
    terms = list(vectorizer.vocabulary_.items())
    if analyzer == "word":
        split = [(term.split(" "), int(column)) for term, column in terms]
        units = sorted({token for tokens, _ in split for token in tokens})
    else:
        split = [(list(term), int(column)) for term, column in terms]
        units = sorted({char for chars, _ in split for char in chars})
    if any(u == "" or u.endswith("\x00") for u in units):
        raise CompileError(f"{label} has an empty term or a NUL character in its vocabulary")
    idf = getattr(vectorizer, "idf_", None) if getattr(vectorizer, "use_idf", False) else None
    voc = NgramVocabulary(
        analyzer=analyzer,
        ngram_range=(low, high),
        lowercase=bool(vectorizer.lowercase),
        strip_accents=vectorizer.strip_accents,
        token_pattern=str(vectorizer.token_pattern or ""),
        stop_words=frozenset((vectorizer.get_stop_words() or ()) if analyzer == "word" else ()),
        units=tuple(units),
        keys=np.zeros(0, dtype=np.int64),
        columns=np.zeros(0, dtype=np.int64),
        idf=None if idf is None else np.array(idf, dtype=np.float64),
        binary=bool(vectorizer.binary),
        sublinear_tf=bool(getattr(vectorizer, "sublinear_tf", False)),
        norm=getattr(vectorizer, "norm", None),
        n_features=len(terms),
    )
    if not voc.fits():
        raise CompileError(
            f"{label}'s n-grams of up to {high} units of {len(units)} do not fit in 64 bits"
        )
    index = {u: i + 1 for i, u in enumerate(units)}
    keys = np.array([voc.key_of([index[u] for u in parts]) for parts, _ in split], dtype=np.int64)
    columns = np.array([column for _, column in split], dtype=np.int64)
    if len(np.unique(keys)) != len(keys):
        raise CompileError(f"{label} has terms that cannot be told apart once split into units")
    order = np.argsort(keys)
    return dataclasses.replace(voc, keys=keys[order], columns=columns[order])


def _link(classifier: Any) -> str:
    kind = type(classifier).__name__
    if kind == "SGDClassifier":
        links = {"modified_huber": "modified_huber", "log_loss": "logistic_ovr"}
        if classifier.loss in links:
            return links[classifier.loss]
        raise CompileError(f"SGDClassifier with loss {classifier.loss!r} gives no probabilities")
    if kind == "LogisticRegression":
        return "logistic_ovr" if len(classifier.classes_) <= 2 else "softmax"
    raise CompileError(f"{kind} is not {_SUPPORTED}")
