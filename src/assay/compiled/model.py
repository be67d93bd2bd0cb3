"""A compiled linear text model: vectorizers as arrays, weights, and the probability link."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assay.compiled.links import LINKS, probabilities
from assay.compiled.ngrams import NgramVocabulary
from assay.errors import CodecError
from assay.store import ArrayBundle

__all__ = ["FORMAT", "LINKS", "CompiledTextModel", "Contributions", "Part"]

FORMAT = "assay.linear-text/1"


@dataclass(frozen=True, slots=True)
class Part:
    """One vectorizer of the model, its place among the columns and its union weight."""

    name: str
    vocabulary: NgramVocabulary
    offset: int
    weight: float


@dataclass(frozen=True, slots=True)
class Contributions:
    """Every text's non-zero features and, per weight row, each feature's part of the score."""

    rows: Any
    columns: Any
    values: Any
    decision: Any  # texts x weight rows


@dataclass(frozen=True, slots=True)
class CompiledTextModel:
    """Text in, class probabilities out, with NumPy only: the same numbers as the scikit-learn
    pipeline it was compiled from (checked when it is compiled)."""

    parts: tuple[Part, ...]
    coef: Any  # weight rows x features; one row for a binary classifier
    intercept: Any
    classes_: Any
    link: str
    source: dict[str, Any] = field(default_factory=dict)
    _names: list[str] = field(default_factory=list, repr=False, compare=False)
    # Each weight row on its own, contiguous: gathering from a 1-D array is several times
    # faster than gathering rows of a features x weight rows matrix.
    _weights: tuple[Any, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rows = tuple(np.ascontiguousarray(row, dtype=np.float64) for row in self.coef)
        object.__setattr__(self, "_weights", rows)

    @property
    def n_features(self) -> int:
        return int(self.coef.shape[1])

    def _found(self, texts: Sequence[str]) -> list[tuple[Any, Any, Any]]:
        """Each part's rows (ascending), columns and weighted values for ``texts``."""
        found = []
        for part in self.parts:
            rows, columns, values = part.vocabulary.transform(list(texts))
            found.append((rows, columns + part.offset, values * part.weight))
        return found

    def _decision(self, found: list[tuple[Any, Any, Any]], n: int) -> Any:
        decision = np.tile(self.intercept, (n, 1))
        if len(found) == 1:
            rows, columns, values = found[0]
        else:
            rows, columns, values = (np.concatenate([f[i] for f in found]) for i in range(3))
        if len(rows):
            for k, weights in enumerate(self._weights):
                decision[:, k] += np.bincount(
                    rows, weights=weights.take(columns) * values, minlength=n
                )
        return decision

    def contributions(self, texts: Sequence[str]) -> Contributions:
        """The features of ``texts`` and their decision scores (weights · features + bias)."""
        found = self._found(texts)
        rows, columns, values = (np.concatenate([f[i] for f in found]) for i in range(3))
        return Contributions(rows, columns, values, self._decision(found, len(texts)))

    def decision_function(self, texts: Sequence[str]) -> Any:
        """Decision scores, shaped as scikit-learn's (one column for a binary classifier)."""
        decision = self._decision(self._found(texts), len(texts))
        return decision[:, 0] if decision.shape[1] == 1 else decision

    def predict_proba(self, texts: Sequence[str]) -> Any:
        """Class probabilities, one column per class in ``classes_`` order."""
        return probabilities(self._decision(self._found(texts), len(texts)), self.link)

    def predict(self, texts: Sequence[str]) -> Any:
        """The class of each text with the highest decision score, as scikit-learn's predict
        (probabilities can tie where scores do not, once clipped)."""
        decision = self._decision(self._found(texts), len(texts))
        if decision.shape[1] == 1:
            return self.classes_[(decision[:, 0] > 0).astype(int)]
        return self.classes_[decision.argmax(axis=1)]

    def feature_names(self) -> list[str]:
        """Column names, ``PART__TERM`` as scikit-learn's FeatureUnion writes them."""
        if not self._names:
            names = [""] * self.n_features
            for part in self.parts:
                prefix = f"{part.name}__" if part.name else ""
                voc = part.vocabulary
                for key, column in zip(voc.keys.tolist(), voc.columns.tolist(), strict=True):
                    names[part.offset + column] = prefix + _term(voc, key)
            self._names.extend(names)
        return self._names

    def to_bundle(self) -> ArrayBundle:
        """The stored form: a JSON header and named arrays (see ``BundleCodec``)."""
        arrays: dict[str, Any] = {
            "coef": self.coef,
            "intercept": self.intercept,
            "classes": np.asarray([str(c) for c in self.classes_]),
        }
        parts = []
        for i, part in enumerate(self.parts):
            voc = part.vocabulary
            arrays[f"{i}.keys"] = voc.keys
            arrays[f"{i}.columns"] = voc.columns
            arrays[f"{i}.units"] = np.asarray(voc.units if voc.units else [""])
            if voc.idf is not None:
                arrays[f"{i}.idf"] = voc.idf
            parts.append(
                {
                    "name": part.name,
                    "offset": part.offset,
                    "weight": part.weight,
                    "analyzer": voc.analyzer,
                    "ngram_range": list(voc.ngram_range),
                    "lowercase": voc.lowercase,
                    "strip_accents": voc.strip_accents,
                    "token_pattern": voc.token_pattern,
                    "stop_words": sorted(voc.stop_words),
                    "n_units": len(voc.units),
                    "binary": voc.binary,
                    "sublinear_tf": voc.sublinear_tf,
                    "norm": voc.norm,
                    "n_features": voc.n_features,
                }
            )
        meta = {"format": FORMAT, "link": self.link, "parts": parts, "source": self.source}
        return ArrayBundle(meta, arrays)

    @classmethod
    def from_bundle(cls, bundle: ArrayBundle) -> CompiledTextModel:
        """Rebuild a compiled model from its stored form.

        Raises:
            CodecError: the bundle is not a compiled text model of a known format.
        """
        meta, arrays = bundle.meta, bundle.arrays
        if meta.get("format") != FORMAT or meta.get("link") not in LINKS:
            raise CodecError(
                f"not a compiled text model of format {FORMAT}",
                hint="re-register the model with this version of assay",
            )
        try:
            parts = tuple(_part(spec, arrays, str(i)) for i, spec in enumerate(meta["parts"]))
            return cls(
                parts=parts,
                coef=np.asarray(arrays["coef"], dtype=np.float64),
                intercept=np.asarray(arrays["intercept"], dtype=np.float64),
                classes_=np.asarray(arrays["classes"]),
                link=str(meta["link"]),
                source=dict(meta.get("source", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CodecError(f"a damaged compiled text model: missing or bad {exc}") from None


def _part(spec: dict[str, Any], arrays: Any, i: str) -> Part:
    units = [str(u) for u in arrays[f"{i}.units"].tolist()][: int(spec["n_units"])]
    vocabulary = NgramVocabulary(
        analyzer=str(spec["analyzer"]),
        ngram_range=(int(spec["ngram_range"][0]), int(spec["ngram_range"][1])),
        lowercase=bool(spec["lowercase"]),
        strip_accents=spec["strip_accents"],
        token_pattern=str(spec["token_pattern"]),
        stop_words=frozenset(spec["stop_words"]),
        units=tuple(units),
        keys=np.asarray(arrays[f"{i}.keys"], dtype=np.int64),
        columns=np.asarray(arrays[f"{i}.columns"], dtype=np.int64),
        idf=np.asarray(arrays[f"{i}.idf"], dtype=np.float64) if f"{i}.idf" in arrays else None,
        binary=bool(spec["binary"]),
        sublinear_tf=bool(spec["sublinear_tf"]),
        norm=spec["norm"],
        n_features=int(spec["n_features"]),
    )
    return Part(str(spec["name"]), vocabulary, int(spec["offset"]), float(spec["weight"]))


def _term(vocabulary: NgramVocabulary, key: int) -> str:
    base = vocabulary.base_for(len(vocabulary.units))
    units = []
    while key:
        key, unit = divmod(key, base)
        units.append(vocabulary.units[unit - 1])
    return (" " if vocabulary.analyzer == "word" else "").join(units)
