"""Drift of text inputs and of a model's predictions: length, out-of-vocabulary rate,
predicted labels and probabilities, and a domain classifier over the texts themselves."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from typing import Any

import numpy as np

from assay.monitoring.drift import DriftReport, column_tests, decide, too_few

__all__ = ["domain_classifier", "text_drift", "text_features", "words"]

_TOKENS = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token pattern
Scorer = Callable[[Sequence[str]], tuple[Sequence[str], Any]]  # texts -> labels, probabilities


def words(text: str) -> list[str]:
    """The lower-cased words of ``text``, as scikit-learn's default tokenizer finds them."""
    return _TOKENS.findall(text.lower())


def text_features(
    texts: Sequence[str],
    vocabulary: Collection[str],
    scorer: Scorer | None = None,
    classes: Sequence[str] = (),
) -> Any:
    """One row per text: its length in tokens, the share of its tokens outside
    ``vocabulary`` (lower-cased words), and, given a ``scorer``, the predicted label and
    each class's probability."""
    import pandas as pd  # noqa: PLC0415

    tokens = [words(t) for t in texts]
    lengths = np.fromiter(map(len, tokens), dtype=np.float64, count=len(tokens))
    unknown = np.fromiter(
        (sum(w not in vocabulary for w in ts) for ts in tokens), dtype=np.float64, count=len(tokens)
    )
    frame = pd.DataFrame(
        {"tokens": lengths, "out_of_vocabulary": unknown / np.maximum(lengths, 1.0)}
    )
    if scorer is not None:
        # An empty window still gets every column, so it is reported, not a KeyError.
        labels, proba = scorer(list(texts)) if len(texts) else ([], np.zeros((0, len(classes))))
        frame["predicted"] = pd.Categorical([str(label) for label in labels])
        for k, cls in enumerate(classes):
            frame[f"p({cls})"] = np.asarray(proba, dtype=np.float64).reshape(-1, len(classes))[:, k]
    return frame


def domain_classifier(
    reference: Sequence[str], current: Sequence[str], *, sample: int = 2_000, seed: int = 0
) -> tuple[float, float]:
    """Can a classifier tell the current texts from the reference ones? Returns the AUC of
    its scores on texts it did not learn from (0.5: no) and the one-sided Mann-Whitney
    p-value of that AUC.

    Word and character n-grams, hashed (nothing fitted to either side first), into a
    logistic regression trained on half of at most ``sample`` texts a side and scored on the
    other half. One model scores every held-out text, so under no drift their scores are
    exchangeable and the p-value is exact; pooling cross-validation folds would not be
    (each fold's model shifts its scores its own way, and the test would alarm too often).
    """
    from scipy.stats import mannwhitneyu  # noqa: PLC0415
    from sklearn.feature_extraction.text import HashingVectorizer  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.model_selection import train_test_split  # noqa: PLC0415
    from sklearn.pipeline import make_union  # noqa: PLC0415

    rng = np.random.default_rng(seed)
    ref = [reference[i] for i in rng.permutation(len(reference))[:sample]]
    cur = [current[i] for i in rng.permutation(len(current))[:sample]]
    texts, side = ref + cur, np.r_[np.zeros(len(ref)), np.ones(len(cur))]
    features = make_union(
        HashingVectorizer(ngram_range=(1, 2), n_features=2**18, alternate_sign=False),
        HashingVectorizer(
            analyzer="char_wb", ngram_range=(3, 4), n_features=2**18, alternate_sign=False
        ),
    ).transform(texts)
    learn, held = train_test_split(
        np.arange(len(texts)), test_size=0.5, stratify=side, random_state=seed
    )
    model = LogisticRegression(max_iter=1_000, class_weight="balanced")
    scores = model.fit(features[learn], side[learn]).decision_function(features[held])
    now, before = scores[side[held] == 1], scores[side[held] == 0]
    found = mannwhitneyu(now, before, alternative="greater")
    return float(found.statistic) / (len(now) * len(before)), float(found.pvalue)


def text_drift(
    reference: Sequence[str],
    current: Sequence[str],
    *,
    vocabulary: Collection[str],
    scorer: Scorer | None = None,
    classes: Sequence[str] = (),
    alpha: float = 0.01,
    min_rows: int = 100,
) -> DriftReport:
    """Every text test for one window, in one family for Holm's correction: token length
    and out-of-vocabulary share (Kolmogorov-Smirnov), and given a ``scorer`` the predicted
    labels (chi-square) and each class's probability (Kolmogorov-Smirnov), plus the domain
    classifier over the texts. A window with fewer than ``min_rows`` texts is reported as
    ``too few rows`` throughout, never as drift."""
    ref = text_features(reference, vocabulary, scorer, classes)
    cur = text_features(current, vocabulary, scorer, classes)
    names = [str(c) for c in ref.columns]
    found = column_tests(ref, cur, names, categorical=["predicted"], min_rows=min_rows)
    base = {
        "column": "texts",
        "kind": "text",
        "reference_rows": len(reference),
        "current_rows": len(current),
    }
    if min(len(reference), len(current)) < min_rows:
        found.append(too_few(base, "domain classifier", min_rows))
    else:
        auc, p = domain_classifier(reference, current)
        found.append(
            {
                **base,
                "test": "domain classifier",
                "statistic": auc,
                "p_value": p,
                "effect": "auc",
                "effect_size": auc,
                "details": {},
            }
        )
    return decide(found, alpha)
