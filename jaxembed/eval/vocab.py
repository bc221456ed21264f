"""Vocabulary lookup for evaluation: restricted to the most frequent words, optionally case-insensitive."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from jaxembed.vectors import Vectors


def eval_index(vectors: Vectors, restrict_vocab: int, case_insensitive: bool) -> dict[str, int]:
    """word -> id among the first `restrict_vocab` words; with case folding the first (most frequent)
    spelling of each upper-cased word wins, as in gensim."""
    index: dict[str, int] = {}
    for i, word in enumerate(vectors.words[:restrict_vocab]):
        key = word.upper() if case_insensitive else word
        index.setdefault(key, i)
    return index


def lookup_ids(vectors: Vectors, words: Sequence[str], restrict_vocab: int, case_insensitive: bool) -> np.ndarray:
    """(n,) ids of `words` in the evaluation vocabulary, −1 where absent."""
    index = eval_index(vectors, restrict_vocab, case_insensitive)
    fold = str.upper if case_insensitive else (lambda w: w)
    return np.array([index.get(fold(w), -1) for w in words], dtype=np.int64)
