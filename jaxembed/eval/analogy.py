"""Word analogies (a : b :: c : ?) scored by 3CosAdd and 3CosMul, as gensim's `evaluate_word_analogies`.

3CosAdd:  argmax_x cos(x, b) − cos(x, a) + cos(x, c)                   (Mikolov et al. 2013)
3CosMul:  argmax_x cos'(x, b) · cos'(x, c) / (cos'(x, a) + ε),  cos' = (1 + cos) / 2, ε = 1e-3
          (Levy & Goldberg 2014; gensim's `most_similar_cosmul` uses ε = 1e-6)

Candidates are the `restrict_vocab` most frequent words, minus the three question words (and, with
case folding, any spelling of them). Questions with a word outside that vocabulary are skipped and
reported through `coverage`; accuracy is over the questions answered, as in gensim.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from jaxembed.errors import InputFileError
from jaxembed.eval.vocab import eval_index
from jaxembed.vectors import Vectors

COSMUL_EPSILON = 1e-3
CHUNK_SCORES = 1 << 20
"""Scores in each (questions x candidates) array of a chunk of questions: memory stays ~10 such arrays."""


@dataclasses.dataclass(frozen=True)
class AnalogyResult:
    """Accuracy over answered questions; `sections` maps section name -> (cosadd correct, cosmul correct, answered);
    `outcomes`: per question of the file, in order, (section, its four words, 3CosAdd right, 3CosMul right), both
    None where it was skipped (a word outside the vocabulary)."""

    accuracy_cosadd: float
    accuracy_cosmul: float
    answered: int
    total: int
    sections: dict[str, tuple[int, int, int]]
    outcomes: list[tuple[str, list[str], bool | None, bool | None]] = dataclasses.field(default_factory=list, repr=False)

    @property
    def coverage(self) -> float:
        return self.answered / max(self.total, 1)

    def split(self, syntactic: bool) -> tuple[float, float, int]:
        """(3CosAdd accuracy, 3CosMul accuracy, answered) over the syntactic sections of the Google set (named
        `gram...`) or over the semantic ones (the others), as word2vec's compute-accuracy splits them."""
        chosen = [counts for name, counts in self.sections.items() if name.startswith("gram") == syntactic]
        add, mul, answered = (sum(column) for column in zip(*chosen)) if chosen else (0, 0, 0)
        return add / max(answered, 1), mul / max(answered, 1), answered


def read_analogies(path: str | os.PathLike) -> list[tuple[str, list[str]]]:
    """`: section` headers followed by `a b c d` lines -> [(section, [a, b, c, d]), ...]."""
    questions, section = [], None
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if line.startswith(": "):
                section = line[2:].strip()
            elif line.strip():
                words = line.split()
                if section is None or len(words) != 4:
                    raise InputFileError(f"{os.fspath(path)}:{lineno}: expected a ': section' header, then 'a b c d' lines")
                questions.append((section, words))
    return questions


def best_candidates(vectors: Vectors, ids_Qx3: np.ndarray, excluded_QxV: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(3CosAdd argmax, 3CosMul argmax) over the first V candidates for questions with ids (a, b, c); `excluded`
    candidates masked. Each distinct word's cosines are computed once."""
    distinct, position_Qx3 = np.unique(ids_Qx3, return_inverse=True)
    cosines_UxV = vectors.cosines(distinct, excluded_QxV.shape[1])
    cos_a, cos_b, cos_c = (cosines_UxV[position_Qx3.reshape(ids_Qx3.shape)[:, k]] for k in range(3))
    cosadd = np.where(excluded_QxV, -np.inf, cos_b - cos_a + cos_c)
    shifted = [(1.0 + c) / 2.0 for c in (cos_a, cos_b, cos_c)]
    cosmul = np.where(excluded_QxV, -np.inf, shifted[1] * shifted[2] / (shifted[0] + COSMUL_EPSILON))
    return cosadd.argmax(axis=1), cosmul.argmax(axis=1)


def evaluate_word_analogies(vectors: Vectors, path: str | os.PathLike, restrict_vocab: int = 300_000,
                            case_insensitive: bool = True) -> AnalogyResult:
    questions = read_analogies(path)
    index = eval_index(vectors, restrict_vocab, case_insensitive)
    fold = str.upper if case_insensitive else (lambda w: w)
    candidates = len(vectors.words[:restrict_vocab])
    canonical_V = np.array([index[fold(w)] for w in vectors.words[:candidates]], dtype=np.int64)
    known = [all(fold(w) in index for w in q) for _, q in questions]
    answered = [(s, [index[fold(w)] for w in q]) for (s, q), ok in zip(questions, known) if ok]
    correct_add, correct_mul = np.zeros(len(answered), bool), np.zeros(len(answered), bool)
    questions_per_chunk = max(1, CHUNK_SCORES // max(candidates, 1))
    for start in range(0, len(answered), questions_per_chunk):
        ids = np.array([q for _, q in answered[start:start + questions_per_chunk]], dtype=np.int64)
        excluded = np.zeros((len(ids), candidates), bool)
        for k in range(3):
            excluded |= canonical_V[None, :] == canonical_V[ids[:, k]][:, None]
        add, mul = best_candidates(vectors, ids[:, :3], excluded)
        correct_add[start:start + len(ids)] = add == ids[:, 3]
        correct_mul[start:start + len(ids)] = mul == ids[:, 3]
    sections: dict[str, tuple[int, int, int]] = {}
    for (section, _), add_ok, mul_ok in zip(answered, correct_add, correct_mul):
        a, m, n = sections.get(section, (0, 0, 0))
        sections[section] = (a + int(add_ok), m + int(mul_ok), n + 1)
    n = max(len(answered), 1)
    results = iter(zip(correct_add.tolist(), correct_mul.tolist()))
    outcomes = [(s, q, *(next(results) if ok else (None, None))) for (s, q), ok in zip(questions, known)]
    return AnalogyResult(float(correct_add.sum() / n), float(correct_mul.sum() / n), len(answered), len(questions), sections,
                         outcomes)
