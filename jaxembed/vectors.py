"""A KeyedVectors-style view of trained embeddings: lookup, cosine similarity and analogies (no file I/O: jaxembed.io
reads and writes them)."""
from __future__ import annotations

import functools
import numbers
from collections.abc import Iterable, Sequence

import numpy as np

from jaxembed.errors import ConfigError, UnknownWordError


def unit_rows(emb_VxD: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    norms = np.linalg.norm(emb_VxD, axis=1, keepdims=True)
    return emb_VxD / np.where(norms > 0, norms, 1.0)


def checked_word(word, name: str = "word") -> str:
    """`word` if it is a str; ConfigError naming the argument for bytes or anything else."""
    if not isinstance(word, str):
        hint = " (decode it first)" if isinstance(word, (bytes, bytearray)) else ""
        raise ConfigError(f"{name} must be a str, got {type(word).__name__} {word!r:.80}{hint}")
    return word


def query_words(words, name: str) -> list[str]:
    """A word or an iterable of words as a list; ConfigError naming the argument (`positive[1]`) otherwise."""
    if isinstance(words, str):
        return [words]
    if isinstance(words, (bytes, bytearray)) or not isinstance(words, Iterable):
        raise ConfigError(f"{name} must be a word (str) or an iterable of words, got {type(words).__name__} {words!r:.80}")
    return [checked_word(word, f"{name}[{i}]") for i, word in enumerate(words)]


def count_argument(value, name: str, allow_none: bool) -> int | None:
    """`value` if it is an int >= 1 (or None where allowed); ConfigError naming the argument otherwise."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        none = " or None" if allow_none else ""
        raise ConfigError(f"{name} must be an int >= 1{none}, got {value!r}")
    return int(value)


def vectors_table(words: Sequence[str], vectors) -> np.ndarray:
    """(V, D) float32 of `vectors`, D >= 1, for the V `words`; ConfigError naming the argument otherwise."""
    try:
        table_VxD = np.asarray(vectors, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"vectors must be a (V, D) array of numbers, got {type(vectors).__name__} ({e})") from None
    if table_VxD.ndim != 2 or table_VxD.shape[0] != len(words) or table_VxD.shape[1] < 1:
        raise ConfigError(f"vectors: need a ({len(words)}, D) array, D >= 1, for {len(words)} words, got shape {table_VxD.shape}")
    return table_VxD


def vocabulary(words: Sequence[str]) -> tuple[list[str], dict[str, int]]:
    """(words as a list, word -> id) of distinct str words; ConfigError naming the argument otherwise."""
    if isinstance(words, (str, bytes)) or not isinstance(words, Iterable):
        raise ConfigError(f"words must be a sequence of str, got {type(words).__name__}")
    words = list(words)
    if not set(map(type, words)) <= {str}:
        for i, word in enumerate(words):
            checked_word(word, f"words[{i}]")
    index = {w: i for i, w in enumerate(words)}
    if len(index) != len(words):
        raise ConfigError(f"words: {next(w for i, w in enumerate(words) if index[w] != i)!r} appears more than once")
    return words, index


class Vectors:
    """Word vectors: `words` (V,) distinct str and `vectors` (V, D) float32, most frequent first when trained here."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray):
        self.words, self.index = vocabulary(words)
        self.vectors = vectors_table(self.words, vectors)

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

    def cosines(self, ids_Q: np.ndarray, candidates: int) -> np.ndarray:
        """(Q, candidates) cosine of each word ids_Q[q] with each of the first `candidates` words."""
        return self.unit[ids_Q] @ self.unit[:candidates].T

    def pair_cosines(self, a_N: np.ndarray, b_N: np.ndarray) -> np.ndarray:
        """(N,) cosine of the words a_N[n] and b_N[n]."""
        return np.einsum("nd,nd->n", self.unit[a_N], self.unit[b_N])

    def word_id(self, word: str) -> int:
        try:
            return self.index[checked_word(word)]
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
        positive, negative = query_words(positive, "positive"), query_words(negative, "negative")
        topn = count_argument(topn, "topn", allow_none=True)
        restrict_vocab = count_argument(restrict_vocab, "restrict_vocab", allow_none=True)
        if not positive and not negative:
            raise ConfigError("most_similar needs at least one positive or negative word")
        query_D = unit_rows(self.query_rows(positive, negative)[None])[0]
        scores = self.unit[:restrict_vocab] @ query_D
        excluded = {self.index[w] for w in positive + negative if w in self.index}
        ranked = np.argsort(-scores, kind="stable")
        top = [i for i in ranked[:None if topn is None else topn + len(excluded)] if i not in excluded][:topn]
        return [(self.words[i], float(scores[i])) for i in top]

    def query_rows(self, positive: list[str], negative: list[str]) -> np.ndarray:
        """(D,) Σ_p û_p − Σ_n û_n over the words' unit vectors (`self[word]`, so OOV words where supported)."""
        signs = np.array([1.0] * len(positive) + [-1.0] * len(negative), dtype=np.float32)
        return signs @ unit_rows(np.stack([self[w] for w in positive + negative]))

    def analogy(self, a: str, b: str, c: str, topn: int = 1) -> list[tuple[str, float]]:
        """a : b :: c : ?  by 3CosAdd (b − a + c)."""
        a, b, c = checked_word(a, "a"), checked_word(b, "b"), checked_word(c, "c")
        return self.most_similar(positive=[b, c], negative=[a], topn=topn)


class SparseVectors(Vectors):
    """Sparse word vectors: `words` (V,) and `matrix` (V, C) a scipy CSR array, e.g. the ppmi model's rows over its
    C context words. Queries work as on dense vectors (`vectors[word]` is the dense (C,) row); there is no dense
    `vectors` table: use `matrix`."""

    def __init__(self, words: Sequence[str], matrix):
        import scipy.sparse
        self.words, self.index = vocabulary(words)
        if not scipy.sparse.issparse(matrix) or matrix.ndim != 2 or matrix.shape[0] != len(words) or matrix.shape[1] < 1:
            raise ConfigError(f"matrix: need a scipy sparse ({len(words)}, C) array, C >= 1, for {len(words)} words, "
                              f"got {type(matrix).__name__} of shape {getattr(matrix, 'shape', None)}")
        self.matrix = scipy.sparse.csr_array(matrix, dtype=np.float32)

    def __getitem__(self, word: str) -> np.ndarray:
        return self.matrix[[self.word_id(word)]].toarray()[0]

    def __repr__(self) -> str:
        return f"SparseVectors({len(self)} words, dim {self.dim}, {self.matrix.nnz} nonzeros)"

    @property
    def dim(self) -> int:
        return self.matrix.shape[1]

    @functools.cached_property
    def unit(self):
        """(V, C) CSR with unit-length rows (zero rows stay zero)."""
        import scipy.sparse
        norms = np.sqrt(np.asarray(self.matrix.multiply(self.matrix).sum(axis=1))).ravel()
        return scipy.sparse.csr_array(scipy.sparse.diags_array(1.0 / np.where(norms > 0, norms, 1.0)) @ self.matrix,
                                      dtype=np.float32)

    @functools.cached_property
    def unit_transposed(self):
        """(C, V) CSR of `unit`ᵀ, for products with many rows."""
        return self.unit.T.tocsr()

    def cosines(self, ids_Q: np.ndarray, candidates: int) -> np.ndarray:
        return (self.unit[ids_Q] @ self.unit_transposed).toarray()[:, :candidates]

    def pair_cosines(self, a_N: np.ndarray, b_N: np.ndarray) -> np.ndarray:
        return np.asarray(self.unit[a_N].multiply(self.unit[b_N]).sum(axis=1)).ravel()


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
        if np.ndim(input_RxD) != 2 or np.shape(input_RxD)[1] != self.dim:
            raise ConfigError(f"input_RxD: need an (R, {self.dim}) array of word and n-gram rows, got shape {np.shape(input_RxD)}")
        self.input_RxD = input_RxD
        self.spec = spec

    @classmethod
    def from_rows(cls, words: Sequence[str], input_RxD: np.ndarray, table, spec,
                  chunk_values: int = 1 << 22) -> "SubwordVectors":
        """Vocabulary vectors as the mean of each word's rows (`table`: a data.ngrams.SubwordTable), gathered about
        `chunk_values` values at a time."""
        chunk_rows = max(1, chunk_values // max(input_RxD.shape[1], 1))
        return cls(words, mean_rows(input_RxD, table.rows_R, table.offsets_V1, chunk_rows), input_RxD, spec)

    def __getitem__(self, word: str) -> np.ndarray:
        if checked_word(word) in self.index:
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
