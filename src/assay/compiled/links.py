"""How a linear model's decision scores become class probabilities."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["LINKS", "probabilities"]

# Named after the scikit-learn estimators that use them: SGDClassifier(loss="modified_huber"),
# one-vs-rest logistic (SGDClassifier with log_loss, binary LogisticRegression), multinomial
# LogisticRegression.
LINKS = ("modified_huber", "logistic_ovr", "softmax")


def probabilities(scores: Any, link: str) -> Any:
    """Class probabilities from decision ``scores`` (rows x weight rows; one weight row for
    a binary classifier), one column per class, as scikit-learn's ``predict_proba``."""
    if link == "softmax":
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)
    if link == "modified_huber":
        positive = (np.clip(scores, -1.0, 1.0) + 1.0) / 2.0
    else:
        positive = 1.0 / (1.0 + np.exp(-scores))
    if positive.shape[1] == 1:
        return np.hstack([1.0 - positive, positive])
    total = positive.sum(axis=1, keepdims=True)
    # All classes at zero: uniform, as scikit-learn does.
    positive[total[:, 0] == 0.0] = 1.0
    total[total == 0.0] = float(positive.shape[1])
    return positive / total
