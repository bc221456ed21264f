"""gensim's KeyedVectors for trained embeddings: lookup, cosine similarity, analogies, and gensim's evaluation and
word2vec-file methods (which call jaxembed.eval and jaxembed.io: the file formats themselves live there)."""
from __future__ import annotations

import functools
import numbers
import os
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


def is_key(value) -> bool:
    """Whether `value` names one vector as gensim's keys do: a word (str) or a row index (int)."""
    return isinstance(value, str) or (isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)))


def checked_key(key, name: str = "word"):
    """`key` if it is a word (str) or a row index (int); ConfigError naming the argument otherwise."""
    if not is_key(key):
        hint = " (decode it first)" if isinstance(key, (bytes, bytearray)) else ""
        raise ConfigError(f"{name} must be a str (or an int row index), got {type(key).__name__} {key!r:.80}{hint}")
    return key


def is_vector(value) -> bool:
    return isinstance(value, np.ndarray) and value.ndim == 1


def query_terms(terms, name: str) -> list:
    """gensim's positive/negative argument as a list of terms: None → [], one key or 1-D vector → [it], else its
    items; each item a key, a 1-D vector or a (key or vector, weight) pair. ConfigError naming the argument otherwise."""
    if terms is None:
        return []
    if is_key(terms) or is_vector(terms):
        return [terms]
    if isinstance(terms, (bytes, bytearray, numbers.Number)) or not isinstance(terms, Iterable):
        raise ConfigError(f"{name} must be a word (str), an index, a vector or an iterable of them, got "
                          f"{type(terms).__name__} {terms!r:.80}")
    terms = list(terms)
    for i, term in enumerate(terms):
        pair = isinstance(term, tuple) and len(term) == 2 and isinstance(term[1], numbers.Real)
        if not (is_key(term) or is_vector(term) or (pair and (is_key(term[0]) or is_vector(term[0])))):
            hint = " (decode it first)" if isinstance(term, (bytes, bytearray)) else ""
            raise ConfigError(f"{name}[{i}] must be a str, an int index, a vector or a (word, weight) pair, got "
                              f"{type(term).__name__} {term!r:.80}{hint}")
    return terms


def count_argument(value, name: str, allow_none: bool) -> int | None:
    """`value` if it is an int >= 1 (or None where allowed); ConfigError naming the argument otherwise."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        none = " or None" if allow_none else ""
        raise ConfigError(f"{name} must be an int >= 1{none}, got {value!r}")
    return int(value)


def topn_argument(topn) -> int | None:
    """gensim's topn: an int (below 1: no results) or None (every score, as an array); ConfigError otherwise."""
    if topn is None or (isinstance(topn, numbers.Integral) and not isinstance(topn, (bool, np.bool_))):
        return None if topn is None else int(topn)
    raise ConfigError(f"topn must be an int or None, got {topn!r}")


def unit_vector(vector_D: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vector_D)
    return vector_D / norm if norm > 0 else vector_D


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
    """Word vectors: `words` (V,) distinct str and `vectors` (V, D) float32, most frequent first when trained here.

    The queries are gensim's KeyedVectors' (names, arguments and return types): a key is a word or a row index;
    `positive`/`negative` take keys, vectors and (key, weight) pairs; `topn=None` returns every score as an array.
    """

    def __init__(self, words: Sequence[str], vectors: np.ndarray):
        self.words, self.index = vocabulary(words)
        self.vectors = vectors_table(self.words, vectors)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, key) -> bool:
        return self.has_index_for(key)

    def __getitem__(self, key_or_keys) -> np.ndarray:
        """(D,) the vector of a key, or (N, D) those of N keys; KeyError for a word outside the vocabulary."""
        if is_key(key_or_keys) or not isinstance(key_or_keys, Iterable) or isinstance(key_or_keys, (bytes, bytearray)):
            return self.key_vector(key_or_keys)
        return np.vstack([self.key_vector(key) for key in key_or_keys])

    def __repr__(self) -> str:
        return f"Vectors({len(self)} words, dim {self.dim})"

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    @property
    def vector_size(self) -> int:
        return self.dim

    @property
    def index_to_key(self) -> list[str]:
        return self.words

    @property
    def key_to_index(self) -> dict[str, int]:
        return self.index

    @functools.cached_property
    def unit(self) -> np.ndarray:
        """(V, D) unit-normalised vectors, computed once."""
        return unit_rows(self.vectors)

    @functools.cached_property
    def norms(self) -> np.ndarray:
        """(V,) the vectors' L2 norms."""
        return np.linalg.norm(self.vectors, axis=1)

    def key_vector(self, key) -> np.ndarray:
        """(D,) the vector of one key."""
        return self.vectors[self.word_id(key)]

    def cosines(self, ids_Q: np.ndarray, candidates: int) -> np.ndarray:
        """(Q, candidates) cosine of each word ids_Q[q] with each of the first `candidates` words."""
        return self.unit[ids_Q] @ self.unit[:candidates].T

    def pair_cosines(self, a_N: np.ndarray, b_N: np.ndarray) -> np.ndarray:
        """(N,) cosine of the words a_N[n] and b_N[n]."""
        return np.einsum("nd,nd->n", self.unit[a_N], self.unit[b_N])

    def word_id(self, key) -> int:
        """The row of a key: a word's row, or an int that is already a row (gensim's get_index)."""
        if isinstance(checked_key(key), str):
            try:
                return self.index[key]
            except KeyError:
                raise UnknownWordError(f"word {key!r} is not in the vocabulary ({len(self)} words)") from None
        if not 0 <= key < len(self):
            raise UnknownWordError(f"index {key} is not a row of the {len(self)} vectors")
        return int(key)

    def get_index(self, key, default: int | None = None) -> int:
        try:
            return self.word_id(key)
        except UnknownWordError:
            if default is not None:
                return default
            raise

    def has_index_for(self, key) -> bool:
        return is_key(key) and self.get_index(key, -1) >= 0

    def has_vector(self, key) -> bool:
        """Whether `self[key]` answers (SubwordVectors: any word with an n-gram too)."""
        try:
            self.key_vector(key)
        except (UnknownWordError, ConfigError):
            return False
        return True

    def get_vector(self, key, norm: bool = False) -> np.ndarray:
        """(D,) a key's vector (unit length with `norm`), read-only."""
        vector = self.key_vector(key)
        vector = unit_vector(vector) if norm else vector.view()
        vector.setflags(write=False)
        return vector

    def get_normed_vectors(self) -> np.ndarray:
        """(V, D) every vector at unit length."""
        return self.unit

    def get_mean_vector(self, keys, weights=None, pre_normalize: bool = True, post_normalize: bool = False,
                        ignore_missing: bool = True) -> np.ndarray:
        """(D,) Σ_i weight_i v_i / Σ_i |weight_i| over keys (their vectors, unit with `pre_normalize`) and vectors
        (as given), unit with `post_normalize`; keys outside the vocabulary skipped with `ignore_missing`."""
        keys = list(keys) if isinstance(keys, Iterable) and not is_key(keys) else [keys]
        if not keys:
            raise ConfigError("keys: cannot compute the mean of no keys")
        weights_K = np.ones(len(keys), np.float32) if weights is None else np.asarray(weights, np.float32)
        if weights_K.shape != (len(keys),):
            raise ConfigError(f"weights: need one per key ({len(keys)}), got shape {weights_K.shape}")
        mean_D, total = np.zeros(self.dim, np.float32), 0.0
        for key, weight in zip(keys, weights_K):
            if is_vector(key):
                vector = key
            else:
                try:
                    vector = self.get_vector(key, norm=pre_normalize)
                except UnknownWordError:
                    if ignore_missing:
                        continue
                    raise
            mean_D += weight * vector
            total += abs(float(weight))
        if total > 0:
            mean_D = mean_D / np.float32(total)
        return unit_vector(mean_D).astype(np.float32) if post_normalize else mean_D

    def weighted_terms(self, positive, negative) -> tuple[list, np.ndarray]:
        """(terms, weights): positive terms +1, negative −1, unless given as (term, weight) pairs."""
        positive, negative = query_terms(positive, "positive"), query_terms(negative, "negative")
        terms, weights = [], []
        for term, sign in [(t, 1.0) for t in positive] + [(t, -1.0) for t in negative]:
            pair = isinstance(term, tuple)
            terms.append(term[0] if pair else term)
            weights.append(float(term[1]) if pair else sign)
        return terms, np.array(weights, np.float32)

    def query_rows(self, terms: list) -> set[int]:
        """The rows of the keys among `terms` (the words a query never returns)."""
        return {self.word_id(t) for t in terms if is_key(t) and self.has_index_for(t)}

    def most_similar(self, positive=None, negative=None, topn: int | None = 10, clip_start: int = 0,
                     clip_end: int | None = None, restrict_vocab: int | None = None, indexer=None):
        """Keys nearest (cosine) to the weighted mean of the unit positive and negative terms, as gensim:

            query = unit(Σ_t weight_t û_t / Σ_t |weight_t|),   score(x) = cos(x, query),

        over the rows clip_start..clip_end (or the first `restrict_vocab`), query keys excluded: [(word, score)]
        best first, or with `topn=None` the (rows,) array of every score.
        """
        if indexer is not None:
            raise ConfigError("indexer: approximate nearest-neighbour indexers are not supported; the search is exact")
        topn = topn_argument(topn)
        restrict_vocab = count_argument(restrict_vocab, "restrict_vocab", allow_none=True)
        if topn is not None and topn < 1:
            return []
        terms, weights = self.weighted_terms(positive, negative)
        if not terms:
            raise ConfigError("most_similar needs at least one positive or negative word")
        query_D = self.get_mean_vector(terms, weights, pre_normalize=True, post_normalize=True, ignore_missing=False)
        start, stop = (0, restrict_vocab) if restrict_vocab else (clip_start, clip_end or len(self))
        scores = np.asarray(self.unit[start:stop] @ query_D)
        return scores if topn is None else self.best(scores, topn, self.query_rows(terms), start)

    def best(self, scores: np.ndarray, topn: int, excluded: set[int], offset: int = 0) -> list[tuple[str, float]]:
        """The `topn` best (word, score) of rows offset.., skipping the `excluded` rows."""
        ranked = np.argsort(-scores, kind="stable")[:topn + len(excluded)]
        return [(self.words[i + offset], float(scores[i])) for i in ranked if i + offset not in excluded][:topn]

    def similar_by_word(self, word, topn: int | None = 10, restrict_vocab: int | None = None):
        return self.most_similar(positive=[checked_key(word)], topn=topn, restrict_vocab=restrict_vocab)

    similar_by_key = similar_by_word

    def similar_by_vector(self, vector, topn: int | None = 10, restrict_vocab: int | None = None):
        if not is_vector(vector) or len(vector) != self.dim:
            raise ConfigError(f"vector must be a ({self.dim},) array, got {type(vector).__name__} of shape "
                              f"{np.shape(vector)}")
        return self.most_similar(positive=[vector], topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn: int | None = 10,
                            restrict_vocab: int | None = None):
        """3CosMul (Levy & Goldberg 2014, gensim's form): score(x) = Π_p cos'(x, p) / (Π_n cos'(x, n) + 1e-6),
        cos' = (1 + cos)/2, keys at unit length and vectors as given (gensim's rule); over the first `restrict_vocab`
        rows (gensim ignores it)."""
        topn = topn_argument(topn)
        restrict_vocab = count_argument(restrict_vocab, "restrict_vocab", allow_none=True)
        if topn is not None and topn < 1:
            return []
        positive, negative = query_terms(positive, "positive"), query_terms(negative, "negative")
        if not positive:
            raise ConfigError("most_similar_cosmul needs at least one positive word")
        if any(isinstance(t, tuple) for t in positive + negative):
            raise ConfigError("most_similar_cosmul takes words and vectors, not (word, weight) pairs")
        candidates = self.unit[:restrict_vocab]
        shifted = lambda term: (1.0 + np.asarray(candidates @ (self.get_vector(term, norm=True) if is_key(term) else term))) / 2
        scores = np.prod([shifted(t) for t in positive], axis=0) / (np.prod([shifted(t) for t in negative], axis=0)
                                                                     + 1e-6)
        return scores if topn is None else self.best(scores, topn, self.query_rows(positive + negative))

    def rank_by_centrality(self, words, use_norm: bool = True) -> list[tuple[float, str]]:
        """(cos(v, unit mean), word) of the words that have a vector, most central first (gensim's)."""
        used = [w for w in words if self.has_vector(w)]
        if not used:
            raise ConfigError("words: none of them is in the vocabulary")
        rows_NxD = np.vstack([self.get_vector(w, norm=use_norm) for w in used]).astype(np.float32)
        mean_D = self.get_mean_vector(list(rows_NxD), post_normalize=True)
        return sorted(zip((float(d) for d in rows_NxD @ mean_D), used), reverse=True)

    def doesnt_match(self, words) -> str:
        """The word farthest from the mean of all the words' unit vectors (gensim's)."""
        return self.rank_by_centrality(words)[-1][1]

    @staticmethod
    def cosine_similarities(vector_1, vectors_all) -> np.ndarray:
        """(N,) cos(vector_1, vectors_all[n])."""
        return np.asarray(vectors_all @ vector_1) / (np.linalg.norm(vector_1) * np.linalg.norm(vectors_all, axis=1))

    def distances(self, word_or_vector, other_words=()) -> np.ndarray:
        """(N,) 1 − cos of a key or vector with the `other_words` (default: every row)."""
        vector_D = self.key_vector(word_or_vector) if is_key(word_or_vector) else np.asarray(word_or_vector)
        rows = [self.word_id(w) for w in other_words] if len(other_words) else slice(None)
        return 1.0 - np.asarray(self.unit[rows] @ unit_vector(vector_D))

    def similarity(self, w1, w2) -> float:
        """Cosine similarity of two keys."""
        return float(unit_vector(self[w1]) @ unit_vector(self[w2]))

    def distance(self, w1, w2) -> float:
        return 1.0 - self.similarity(w1, w2)

    def n_similarity(self, ws1, ws2) -> float:
        """cos(mean of ws1's vectors, mean of ws2's vectors), the vectors as they are (gensim's)."""
        if not (len(ws1) and len(ws2)):
            raise ConfigError("n_similarity needs at least one word on each side")
        means = [self.get_mean_vector(ws, pre_normalize=False) for ws in (ws1, ws2)]
        return float(unit_vector(means[0]) @ unit_vector(means[1]))

    def closer_than(self, key1, key2) -> list[str]:
        """Every word closer to key1 than key2 is, key1 itself left out."""
        distances = self.distances(key1)
        first = self.word_id(key1)
        return [self.words[i] for i in np.flatnonzero(distances < distances[self.word_id(key2)]) if i != first]

    def rank(self, key1, key2) -> int:
        return len(self.closer_than(key1, key2)) + 1

    def most_similar_to_given(self, key1, keys_list):
        return keys_list[int(np.argmax([self.similarity(key1, key) for key in keys_list]))]

    # gensim's evaluation and file methods. They import jaxembed.eval and jaxembed.io, which build on this module,
    # inside the methods.

    def evaluate_word_analogies(self, analogies, restrict_vocab: int = 300_000, case_insensitive: bool = True,
                                dummy4unknown: bool = False, similarity_function: str = "most_similar"):
        """(accuracy, sections) as gensim returns them: one {"section", "correct", "incorrect"} per section of the
        file, then "Total accuracy"; the question words upper-cased when case-insensitive. `similarity_function`
        "most_similar" answers by 3CosAdd (gensim's only one), "most_similar_cosmul" by 3CosMul (jaxembed.eval.analogy);
        with `dummy4unknown` questions with an unknown word count as wrong."""
        from jaxembed.eval.analogy import evaluate_word_analogies
        if similarity_function not in ("most_similar", "most_similar_cosmul"):
            raise ConfigError(f"similarity_function must be most_similar or most_similar_cosmul, got {similarity_function!r}")
        restrict_vocab = count_argument(restrict_vocab, "restrict_vocab", allow_none=False)
        result = evaluate_word_analogies(self, analogies, restrict_vocab, case_insensitive)
        sections: dict[str, dict] = {}
        for name, words, add, mul in result.outcomes:
            section = sections.setdefault(name, {"section": name, "correct": [], "incorrect": []})
            right = add if similarity_function == "most_similar" else mul
            if right is not None or dummy4unknown:
                section["correct" if right else "incorrect"].append(tuple(w.upper() if case_insensitive else w
                                                                           for w in words))
        total = {"section": "Total accuracy", "correct": [q for s in sections.values() for q in s["correct"]],
                 "incorrect": [q for s in sections.values() for q in s["incorrect"]]}
        answered = len(total["correct"]) + len(total["incorrect"])
        return (len(total["correct"]) / answered if answered else 0.0), [*sections.values(), total]

    def evaluate_word_pairs(self, pairs, delimiter: str = "\t", encoding: str = "utf8", restrict_vocab: int = 300_000,
                            case_insensitive: bool = True, dummy4unknown: bool = False):
        """(Pearson, Spearman, unknown pairs in %) as gensim returns them (scipy's result objects), over the pairs
        in the vocabulary (with `dummy4unknown`, all: the others at similarity 0)."""
        import scipy.stats
        from jaxembed.eval.similarity import pair_similarities
        restrict_vocab = count_argument(restrict_vocab, "restrict_vocab", allow_none=False)
        model, gold, unknown = pair_similarities(self, pairs, restrict_vocab, case_insensitive, delimiter, encoding,
                                                 dummy4unknown)
        if len(model) < 2:
            raise ConfigError(f"pairs: {os.fspath(pairs)!r} has fewer than 2 pairs to score (pairs with a word outside "
                              "the vocabulary are left out unless dummy4unknown)")
        ratio = 100.0 * unknown / (len(model) if dummy4unknown else len(model) + unknown)
        return scipy.stats.pearsonr(gold, model), scipy.stats.spearmanr(gold, model), ratio

    def save_word2vec_format(self, fname, fvocab=None, binary: bool = False, total_vec=None, write_header: bool = True,
                             prefix: str = "", append: bool = False, sort_attr: str = "count") -> None:
        """Write word2vec text (or `binary`) atomically, in the vectors' order; gensim's other options refused."""
        from jaxembed.io.word2vec import save_word2vec
        unsupported = {"fvocab": fvocab is not None, "total_vec": total_vec is not None, "write_header": not write_header,
                       "prefix": prefix != "", "append": append, "sort_attr": sort_attr != "count"}
        refused = [name for name, given in unsupported.items() if given]
        if refused:
            raise ConfigError(f"save_word2vec_format: {', '.join(refused)} not supported (the vectors are written whole, "
                              "with their header, in their own order)")
        save_word2vec(fname, self, binary=binary)

    @classmethod
    def load_word2vec_format(cls, fname, fvocab=None, binary: bool = False, encoding: str = "utf8",
                             unicode_errors: str = "strict", limit: int | None = None, datatype=np.float32,
                             no_header: bool = False) -> "Vectors":
        """word2vec text or binary vectors (`no_header`: text without the count line, as GloVe writes), the first
        `limit` of them (the file is read whole). Undecodable bytes in a word are kept (as surrogates) whatever
        `unicode_errors` says."""
        from jaxembed.io.glove import load_glove
        from jaxembed.io.word2vec import load_word2vec
        if fvocab is not None or encoding.lower().replace("-", "") != "utf8" or np.dtype(datatype) != np.float32:
            raise ConfigError("load_word2vec_format: fvocab, an encoding other than utf8 and a datatype other than "
                              "float32 are not supported")
        if no_header and binary:
            raise ConfigError("load_word2vec_format: no_header applies to text files")
        limit = count_argument(limit, "limit", allow_none=True)
        vectors = load_glove(fname) if no_header else load_word2vec(fname, binary=binary)
        return vectors if limit is None or limit >= len(vectors) else Vectors(vectors.words[:limit], vectors.vectors[:limit])

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

    def key_vector(self, key) -> np.ndarray:
        return self.matrix[[self.word_id(key)]].toarray()[0]

    def __repr__(self) -> str:
        return f"SparseVectors({len(self)} words, dim {self.dim}, {self.matrix.nnz} nonzeros)"

    @property
    def dim(self) -> int:
        return self.matrix.shape[1]

    @functools.cached_property
    def unit(self):
        """(V, C) CSR with unit-length rows (zero rows stay zero)."""
        import scipy.sparse
        norms = self.norms
        return scipy.sparse.csr_array(scipy.sparse.diags_array(1.0 / np.where(norms > 0, norms, 1.0)) @ self.matrix,
                                      dtype=np.float32)

    @functools.cached_property
    def norms(self) -> np.ndarray:
        return np.sqrt(np.asarray(self.matrix.multiply(self.matrix).sum(axis=1))).ravel()

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

    def key_vector(self, word) -> np.ndarray:
        if not isinstance(checked_key(word), str) or word in self.index:
            return self.vectors[self.word_id(word)]
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
