"""Word-similarity benchmarks: Spearman's ρ between cosine similarities and human scores.

Matches gensim's `KeyedVectors.evaluate_word_pairs`: lines starting with `#` are comments, pairs
with a word outside the (restricted, case-insensitive) vocabulary are skipped and counted as OOV.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from jaxembed.errors import InputFileError
from jaxembed.eval.vocab import lookup_ids
from jaxembed.vectors import Vectors


@dataclasses.dataclass(frozen=True)
class SimilarityResult:
    spearman: float
    pearson: float
    pairs: int
    oov_pairs: int

    @property
    def oov_ratio(self) -> float:
        return self.oov_pairs / max(self.pairs + self.oov_pairs, 1)


def read_word_pairs(path: str | os.PathLike, delimiter: str = "\t", encoding: str = "utf-8") -> list[tuple[str, str, float]]:
    """`word1 word2 score` lines split by `delimiter`; `#` comments and blank lines skipped."""
    pairs = []
    with open(path, encoding=encoding) as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.rstrip("\n").split(delimiter)
            try:
                pairs.append((parts[0], parts[1], float(parts[2])))
            except (IndexError, ValueError):
                raise InputFileError(f"{os.fspath(path)}:{lineno}: expected 'word1{delimiter!r}word2{delimiter!r}score', "
                                     f"got {line.strip()!r}") from None
    return pairs


def rankdata(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (scipy.stats.rankdata 'average')."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    starts = np.flatnonzero(np.concatenate([[True], sorted_x[1:] != sorted_x[:-1]]))
    ends = np.concatenate([starts[1:], [len(x)]])
    average = (starts + ends + 1) / 2.0
    ranks = np.empty(len(x))
    ranks[order] = np.repeat(average, ends - starts)
    return ranks


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's ρ = Pearson correlation of the (tie-averaged) ranks."""
    return pearson(rankdata(a), rankdata(b))


def pair_similarities(vectors: Vectors, path: str | os.PathLike, restrict_vocab: int = 300_000,
                      case_insensitive: bool = True, delimiter: str = "\t", encoding: str = "utf-8",
                      dummy4unknown: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
    """(model cosines (N,), gold scores (N,), pairs with an unknown word): over the pairs whose words are in the
    vocabulary, or over all with `dummy4unknown` (gensim's: the unknown ones at cosine 0)."""
    pairs = read_word_pairs(path, delimiter, encoding)
    ids = lookup_ids(vectors, [w for a, b, _ in pairs for w in (a, b)], restrict_vocab, case_insensitive).reshape(-1, 2)
    known = (ids >= 0).all(axis=1)
    gold = np.array([p[2] for p in pairs], np.float64)
    model = np.zeros(len(pairs))
    model[known] = vectors.pair_cosines(ids[known, 0], ids[known, 1])
    scored = np.ones(len(pairs), bool) if dummy4unknown else known
    return model[scored], gold[scored], int((~known).sum())


def evaluate_word_pairs(vectors: Vectors, path: str | os.PathLike, restrict_vocab: int = 300_000,
                        case_insensitive: bool = True) -> SimilarityResult:
    """Spearman/Pearson of cosine similarity vs gold scores over in-vocabulary pairs."""
    model, gold, unknown = pair_similarities(vectors, path, restrict_vocab, case_insensitive)
    if not len(model):
        return SimilarityResult(float("nan"), float("nan"), 0, unknown)
    return SimilarityResult(spearman(model, gold), pearson(model, gold), len(model), unknown)
