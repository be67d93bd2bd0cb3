"""One fitted text vectorizer as arrays: n-grams become integer keys looked up all at once.

scikit-learn's analyzers build every n-gram as a Python string and look each up in a dict.
Here a text becomes a sequence of integer units (word ids, or character codes); an n-gram
is the window of units written as one integer in base ``units + 1``, so every n-gram of a
batch is computed with a few NumPy operations and found with one binary search. Unit 0
stands for anything the vocabulary never contains, so a window holding it is never found.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field
from itertools import chain, repeat
from typing import Any

import numpy as np

__all__ = ["WORDS_KEPT", "KeyTable", "NgramVocabulary", "preprocess"]

_WHITE_SPACES = re.compile(r"\s\s+")
WORDS_KEPT = 200_000  # char_wb: the words whose n-gram counts a vocabulary keeps
_MAX_KEY = 2**63 - 1


def preprocess(text: str, lowercase: bool, strip_accents: str | None) -> str:
    """Lower-case then strip accents, in scikit-learn's order and with its definitions."""
    if lowercase:
        text = text.lower()
    if strip_accents == "ascii":
        return unicodedata.normalize("NFKD", text).encode("ASCII", "ignore").decode("ASCII")
    if strip_accents == "unicode":
        normalized = unicodedata.normalize("NFKD", text)
        if normalized != text:
            return "".join(c for c in normalized if not unicodedata.combining(c))
    return text


class KeyTable:
    """An open-addressing hash table from n-gram key to column, probed for a whole batch of
    keys at once (a binary search over the sorted keys costs several times more)."""

    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing

    def __init__(self, keys: Any, columns: Any) -> None:
        bits = max(4, int(4 * max(len(keys), 1) - 1).bit_length())  # at most a quarter full
        self._shift = np.uint64(64 - bits)
        self._mask = (1 << bits) - 1
        self._keys = np.full(1 << bits, -1, dtype=np.int64)  # keys are never negative
        self._columns = np.zeros(1 << bits, dtype=np.int64)
        slot = self._home(np.asarray(keys, dtype=np.int64))
        waiting = np.arange(len(keys))
        while len(waiting):
            here = slot[waiting]
            free = self._keys[here] == -1
            # Of several keys wanting one free slot, the first takes it; the rest move on.
            taken, first = np.unique(here[free], return_index=True)
            placed = waiting[free][first]
            self._keys[taken] = keys[placed]
            self._columns[taken] = columns[placed]
            left = np.ones(len(keys), dtype=bool)
            left[placed] = False
            waiting = waiting[left[waiting]]
            slot[waiting] = (slot[waiting] + 1) & self._mask

    def _home(self, keys: Any) -> Any:
        return (keys.astype(np.uint64) * self._MULTIPLIER >> self._shift).astype(np.int64)

    def find(self, keys: Any) -> tuple[Any, Any]:
        """Which of ``keys`` are in the table, and the column of each one that is."""
        slot = self._home(keys)
        hit = np.zeros(len(keys), dtype=bool)
        probing = np.arange(len(keys))
        # np.take gathers several times faster than indexing with an array.
        while len(probing):
            here = slot.take(probing)
            stored = self._keys.take(here)
            match = stored == keys.take(probing)
            hit[probing[match]] = True
            # An empty slot ends the search: the key is not in the table.
            going = ~match & (stored != -1)
            probing = probing[going]
            slot[probing] = (here[going] + 1) & self._mask
        return hit, self._columns.take(slot[hit])


@dataclass(frozen=True, slots=True)
class NgramVocabulary:
    """A fitted vectorizer: how it cuts text, its n-gram keys, and its tf-idf weighting.

    ``units`` holds the vocabulary's words (``word`` analyzer) or characters (``char``,
    ``char_wb``) in unit order; unit ``i`` is number ``i + 1``. ``keys`` is sorted and
    ``columns[i]`` is the feature column of ``keys[i]``.
    """

    analyzer: str
    ngram_range: tuple[int, int]
    lowercase: bool
    strip_accents: str | None
    token_pattern: str
    stop_words: frozenset[str]
    units: tuple[str, ...]
    keys: Any
    columns: Any
    idf: Any | None
    binary: bool
    sublinear_tf: bool
    norm: str | None
    n_features: int
    # Lookups derived from ``units``, built once here rather than per request.
    _word_ids: dict[str, int] = field(init=False, repr=False, compare=False)
    _alphabet: Any = field(init=False, repr=False, compare=False)
    _table: KeyTable = field(init=False, repr=False, compare=False)
    _words: _WordCounts = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        words = {u: i + 1 for i, u in enumerate(self.units)} if self.analyzer == "word" else {}
        chars = [] if self.analyzer == "word" else [ord(u) for u in self.units]
        points = np.asarray(chars, dtype=np.int64)
        alphabet = np.zeros(int(points.max(initial=0)) + 2, dtype=np.int64)
        alphabet[points] = np.arange(1, len(points) + 1)
        object.__setattr__(self, "_word_ids", words)
        object.__setattr__(self, "_alphabet", alphabet)
        object.__setattr__(self, "_table", KeyTable(self.keys, self.columns))
        object.__setattr__(self, "_words", _WordCounts())

    @staticmethod
    def base_for(n_units: int) -> int:
        return n_units + 1

    def key_of(self, term_units: list[int]) -> int:
        """The key of one n-gram given as unit numbers (all above 0)."""
        base, key, power = self.base_for(len(self.units)), 0, 1
        for unit in term_units:
            key += unit * power
            power *= base
        return key

    def fits(self) -> bool:
        """True when the longest n-gram's key fits in a signed 64-bit integer."""
        return bool(self.base_for(len(self.units)) ** self.ngram_range[1] - 1 <= _MAX_KEY)

    def transform(self, texts: list[str]) -> tuple[Any, Any, Any]:
        """The non-zero tf-idf values of ``texts`` as (row, column, value) arrays, with rows
        in order and each row's columns ascending, as scikit-learn's transform gives them."""
        if self.analyzer == "char_wb":
            row, column, counts = self._word_counts(texts)
        else:
            row, column, counts = self._counts(texts)
        value = np.ones(len(row)) if self.binary else counts.astype(np.float64)
        if self.sublinear_tf and not self.binary:
            value = np.log(value) + 1.0
        if self.idf is not None:
            value = value * self.idf[column]
        if self.norm is not None:
            size = value * value if self.norm == "l2" else np.abs(value)
            total = np.bincount(row, weights=size, minlength=len(texts))
            total = np.sqrt(total) if self.norm == "l2" else total
            total[total == 0.0] = 1.0
            value = value / total[row]
        return row, column, value

    def _counts(self, texts: list[str]) -> tuple[Any, Any, Any]:
        """Row, column and count of each n-gram of ``texts`` the vocabulary holds, rows in
        order and each row's columns ascending."""
        units, lengths, rows = self._units(texts)
        owner, key = _window_keys(
            units, lengths, rows, self.ngram_range, self.base_for(len(self.units)),
            whole_short=self.analyzer == "char_wb",
        )  # fmt: skip
        hit, column = self._table.find(key)
        cells, counts = np.unique(owner[hit] * self.n_features + column, return_counts=True)
        row, column = np.divmod(cells, self.n_features)
        return row, column, counts

    def _word_counts(self, texts: list[str]) -> tuple[Any, Any, Any]:
        """``_counts`` for ``char_wb``, whose n-grams never leave their word: a text's
        counts are the sum of its words', and each word's are worked out once and kept
        (see ``_WordCounts``), so a batch costs a lookup per word, not a pass over every
        window of every word."""
        words = [preprocess(t, self.lowercase, self.strip_accents).split() for t in texts]
        flat = list(chain.from_iterable(words))
        with self._words.lock:
            ids = self._words.ids(flat, self._counts)
            starts, columns, counts = self._words.starts, self._words.columns, self._words.counts
        begin = starts[ids]
        sizes = starts[ids + 1] - begin
        total = int(sizes.sum())
        # Each word's entries, one after another: a run of consecutive positions per word.
        at = np.repeat(begin - (np.cumsum(sizes) - sizes), sizes) + np.arange(total)
        rows = np.repeat(np.repeat(np.arange(len(texts)), _lengths(words)), sizes)
        cells = rows * self.n_features + columns.take(at)
        # A word holding an n-gram twice counts it twice: summed by one sort of them all.
        cells, summed = np.unique(np.repeat(cells, counts.take(at)), return_counts=True)
        row, column = np.divmod(cells, self.n_features)
        return row, column, summed

    def _units(self, texts: list[str]) -> tuple[Any, Any, Any]:
        """Every text as units: the concatenated units, each segment's length (n-grams never
        cross a segment) and each segment's row."""
        cleaned = [preprocess(t, self.lowercase, self.strip_accents) for t in texts]
        if self.analyzer == "word":
            findall = re.compile(self.token_pattern).findall
            tokens = [findall(text) for text in cleaned]
            if self.stop_words:
                tokens = [[t for t in ts if t not in self.stop_words] for ts in tokens]
            flat = list(chain.from_iterable(tokens))
            ids = np.fromiter(map(self._word_ids.get, flat, repeat(0)), np.int64, len(flat))
            return ids, _lengths(tokens), np.arange(len(texts))
        if self.analyzer == "char_wb":
            # Each whitespace-separated word, padded with one space each side, is a segment.
            words = [t.split() for t in cleaned]
            text = "".join(f" {'  '.join(ws)} " for ws in words if ws)
            lengths = _lengths(list(chain.from_iterable(words))) + 2
            rows = np.repeat(np.arange(len(texts)), _lengths(words))
        else:
            segments = [_WHITE_SPACES.sub(" ", t) for t in cleaned]
            text, lengths, rows = "".join(segments), _lengths(segments), np.arange(len(texts))
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        return self._char_codes(points), lengths, rows

    def _char_codes(self, points: Any) -> Any:
        # A table indexed by code point, one past the largest the vocabulary holds; that
        # last entry is 0 and every larger code point is read there.
        table = self._alphabet
        return table[np.minimum(points, len(table) - 1)]


class _WordCounts:
    """The n-gram columns and counts of the words a ``char_wb`` vocabulary has seen, one
    run per word in ``columns`` and ``counts`` from ``starts[id]`` to ``starts[id + 1]``;
    forgotten all at once when they pass ``WORDS_KEPT`` words."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._forget()

    def _forget(self) -> None:
        self.index: dict[str, int] = {}
        self.starts = np.zeros(1, dtype=np.int64)
        self.columns = np.zeros(0, dtype=np.int64)
        self.counts = np.zeros(0, dtype=np.int64)

    def ids(self, words: list[str], counts_of: Any) -> Any:
        """The ids of ``words``, learning (with ``counts_of``) those not seen before."""
        index = self.index
        new = [w for w in dict.fromkeys(words) if w not in index]
        if new:
            if len(index) + len(new) > WORDS_KEPT:
                self._forget()
                index = self.index
                new = list(dict.fromkeys(words))
            # Each word on its own, as a text of one word (preprocessing it again changes
            # nothing), its entries in row order.
            row, column, count = counts_of(new)
            sizes = np.bincount(row, minlength=len(new))
            self.starts = np.concatenate((self.starts, self.starts[-1] + np.cumsum(sizes)))
            self.columns = np.concatenate((self.columns, column))
            self.counts = np.concatenate((self.counts, count))
            index.update(zip(new, range(len(index), len(index) + len(new)), strict=True))
        return np.fromiter(map(index.__getitem__, words), np.int64, len(words))


def _lengths(items: list[Any]) -> Any:
    return np.fromiter(map(len, items), dtype=np.int64, count=len(items))


def _window_keys(
    units: Any,
    lengths: Any,
    rows: Any,
    ngram_range: tuple[int, int],
    base: int,
    *,
    whole_short: bool,
) -> tuple[Any, Any]:
    """Row and key of every window of ``ngram_range`` units inside a segment.

    With ``whole_short``, a segment shorter than the smallest n-gram is itself one n-gram
    (scikit-learn's ``char_wb`` counts a short padded word once).
    """
    low, high = ngram_range
    total = len(units)
    if total == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    owner = np.repeat(rows, lengths)
    size = np.repeat(lengths, lengths)
    room = np.repeat(np.cumsum(lengths), lengths) - np.arange(total)  # units left in segment
    # Zeros after the end, so the window at every position is a slice, never out of range.
    padded = np.concatenate([units, np.zeros(high, dtype=np.int64)])
    key = np.zeros(total, dtype=np.int64)
    known = np.ones(total, dtype=bool)
    owners, keys = [], []
    power = 1
    for n in range(1, high + 1):
        unit = padded[n - 1 : n - 1 + total]
        key += unit * power
        known &= unit != 0
        if n >= low:
            chosen = known & (room >= n)
        elif whole_short:
            chosen = known & (size == n) & (room == n)  # the whole of a segment of n units
        else:
            chosen = None
        if chosen is not None:
            owners.append(owner[chosen])
            keys.append(key[chosen])
        power *= base
    return np.concatenate(owners), np.concatenate(keys)
