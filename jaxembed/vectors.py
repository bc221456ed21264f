"""A KeyedVectors-style view of trained embeddings: lookup, cosine similarity and analogies."""
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
        return float(self.unit[self.word_id(a)] @ self.unit[self.word_id(b)])

    def most_similar(self, positive: str | Iterable[str] = (), negative: str | Iterable[str] = (),
                     topn: int = 10, restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """Words nearest (cosine) to mean(unit(positive)) − mean-weighted unit(negative), as gensim:

            query = Σ_p û_p − Σ_n û_n,   score(x) = cos(x, query),   input words excluded.
        """
        positive = [positive] if isinstance(positive, str) else list(positive)
        negative = [negative] if isinstance(negative, str) else list(negative)
        if not positive and not negative:
            raise ConfigError("most_similar needs at least one positive or negative word")
        ids = [self.word_id(w) for w in positive + negative]
        signs = np.array([1.0] * len(positive) + [-1.0] * len(negative), dtype=np.float32)
        query = unit_rows((signs @ self.unit[ids])[None])[0]
        candidates = self.unit[:restrict_vocab]
        scores = candidates @ query
        scores[[i for i in ids if i < len(scores)]] = -np.inf
        top = np.argsort(-scores, kind="stable")[:topn]
        return [(self.words[i], float(scores[i])) for i in top]

    def analogy(self, a: str, b: str, c: str, topn: int = 1) -> list[tuple[str, float]]:
        """a : b :: c : ?  by 3CosAdd (b − a + c)."""
        return self.most_similar(positive=[b, c], negative=[a], topn=topn)

    def save(self, path: str, binary: bool = False) -> None:
        """Write word2vec text (or binary) format atomically."""
        from jaxembed.io.word2vec import save_word2vec
        save_word2vec(path, self, binary=binary)
