"""A KeyedVectors-style view of trained embeddings: lookup, cosine similarity and analogies (no file I/O: jaxembed.io
reads and writes them)."""
from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

import numpy as np

from jaxembed.errors import ConfigError, UnknownWordError


def unit_rows(emb_VxD: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(emb_VxD, axis=1, keepdims=True)
    return emb_VxD / np.where(norms > 0, norms, 1.0)


class Vectors:
    """Word vectors: `words` (V,) and `vectors` (V, D) float32, most frequent first when trained here."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray):
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(f"need a ({len(words)}, D) array for {len(words)} words, got shape {vectors.shape}")
        self.words = list(words)
        self.vectors = vectors
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        """(D,) the word's vector; KeyError for a word outside the vocabulary."""
        return self.vectors[self.word_id(word)]

    def __repr__(self) -> str:
        return f"Vectors({len(self)} words, dim {self.dim})"

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    @functools.cached_property
    def unit(self) -> np.ndarray:
        """(V, D) unit-normalised vectors, computed once."""
        return unit_rows(self.vectors)

    def word_id(self, word: str) -> int:
        try:
            return self.index[word]
        except KeyError:
            raise UnknownWordError(f"word {word!r} is not in the vocabulary ({len(self)} words)") from None

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words."""
        va_D, vb_D = unit_rows(np.stack([self[a], self[b]]))
        return float(va_D @ vb_D)

    def most_similar(self, positive: str | Iterable[str] = (), negative: str | Iterable[str] = (),
                     topn: int = 10, restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """Words nearest (cosine) to mean(unit(positive)) − mean-weighted unit(negative), as gensim:

            query = Σ_p û_p − Σ_n û_n,   score(x) = cos(x, query),   input words excluded.
        """
        positive = [positive] if isinstance(positive, str) else list(positive)
        negative = [negative] if isinstance(negative, str) else list(negative)
        if not positive and not negative:
            raise ConfigError("most_similar needs at least one positive or negative word")
        query_D = unit_rows(self.query_rows(positive, negative)[None])[0]
        scores = self.unit[:restrict_vocab] @ query_D
        ids = [self.index[w] for w in positive + negative if w in self.index]
        scores[[i for i in ids if i < len(scores)]] = -np.inf
        top = np.argsort(-scores, kind="stable")[:topn]
        return [(self.words[i], float(scores[i])) for i in top]

    def query_rows(self, positive: list[str], negative: list[str]) -> np.ndarray:
        """(D,) Σ_p û_p − Σ_n û_n over the words' unit vectors (`self[word]`, so OOV words where supported)."""
        signs = np.array([1.0] * len(positive) + [-1.0] * len(negative), dtype=np.float32)
        return signs @ unit_rows(np.stack([self[w] for w in positive + negative]))

    def analogy(self, a: str, b: str, c: str, topn: int = 1) -> list[tuple[str, float]]:
        """a : b :: c : ?  by 3CosAdd (b − a + c)."""
        return self.most_similar(positive=[b, c], negative=[a], topn=topn)


def decode_word(word: bytes) -> str:
    """A vocabulary word as str; undecodable bytes kept as surrogates so that `encode_word` restores them."""
    return word.decode("utf-8", errors="surrogateescape")


def encode_word(word: str) -> bytes:
    return word.encode("utf-8", errors="surrogateescape")


class SubwordVectors(Vectors):
    """fastText vectors: vocabulary words as trained, and any other word from its character n-grams.

    `input_RxD` holds the word rows then the n-gram bucket rows; a word's vector is the mean of its
    rows (`data.ngrams`): for an out-of-vocabulary word, the mean of its n-gram rows (fastText's
    getWordVector). `word in vectors` is vocabulary membership; `vectors[word]` answers any word
    with at least one n-gram, and so do `most_similar`, `similarity` and `analogy`.
    """

    def __init__(self, words: Sequence[str], vectors: np.ndarray, input_RxD: np.ndarray, spec):
        super().__init__(words, vectors)
        self.input_RxD = input_RxD
        self.spec = spec

    @classmethod
    def from_rows(cls, words: Sequence[str], input_RxD: np.ndarray, table, spec,
                  chunk_rows: int = 1 << 18) -> "SubwordVectors":
        """Vocabulary vectors as the mean of each word's rows (`table`: a data.ngrams.SubwordTable)."""
        return cls(words, mean_rows(input_RxD, table.rows_R, table.offsets_V1, chunk_rows), input_RxD, spec)

    def __getitem__(self, word: str) -> np.ndarray:
        if word in self.index:
            return self.vectors[self.index[word]]
        rows = self.spec.word_rows(encode_word(word), None)
        if not len(rows):
            raise UnknownWordError(f"word {word!r} is not in the vocabulary ({len(self)} words) and has no character "
                           f"n-grams (minn {self.spec.minn}, maxn {self.spec.maxn}) to build a vector from")
        return self.input_RxD[rows].mean(axis=0, dtype=np.float64).astype(np.float32)


def mean_rows(table_RxD: np.ndarray, rows_N: np.ndarray, offsets_V1: np.ndarray, chunk_rows: int) -> np.ndarray:
    """(V, D) mean of table rows rows_N[offsets[v]:offsets[v+1]] for each v (every group non-empty),
    summed in float64 over chunks of about `chunk_rows` gathered rows."""
    groups = len(offsets_V1) - 1
    out_VxD = np.zeros((groups, table_RxD.shape[1]), np.float32)
    first = 0
    while first < groups:
        last = int(np.searchsorted(offsets_V1, offsets_V1[first] + chunk_rows, side="right")) - 1
        last = min(max(last, first + 1), groups)
        start, stop = offsets_V1[first], offsets_V1[last]
        sums = np.add.reduceat(table_RxD[rows_N[start:stop]].astype(np.float64), offsets_V1[first:last] - start, axis=0)
        out_VxD[first:last] = sums / np.diff(offsets_V1[first:last + 1])[:, None]
        first = last
    return out_VxD
