from __future__ import annotations

from pathlib import Path

import pytest

DATA = (
    Path(__file__).parents[2] / "examples/sesame/data/financial_phrasebank/Sentences_AllAgree.txt"
)


@pytest.fixture(scope="package")
def corpus() -> tuple[list[str], list[str]]:
    """Financial PhraseBank sentences and labels (ISO-8859-1, ``sentence@label``)."""
    texts, labels = [], []
    for line in DATA.read_text(encoding="iso-8859-1").splitlines():
        sentence, sep, label = line.rpartition("@")
        if sep and label in {"negative", "neutral", "positive"}:
            texts.append(sentence)
            labels.append(label)
    return texts, labels
