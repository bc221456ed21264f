"""The count-based models as plug-ins (Levy, Goldberg & Dagan 2015): shifted positive PMI from co-occurrence
counts, kept as sparse rows (`ppmi`), or factorised by truncated SVD (`svd`).

    PPMI_k(w, c) = max(log(#(w, c) / (#w · P_cds(c))) − log k, 0),   P_cds(c) = #c^cds / Σ_c' #c'^cds
    M ≈ U_d Σ_d V_dᵀ,   W = U_d Σ_d^eig   (w+c: unit(W) + unit(V_d Σ_d^eig), per row, as hyperwords)

#(w, c) are counted with word2vec's windowing (config.PpmiConfig) by the GloVe counter's memory-bounded
machinery (data.cooccur); with cds = 1 and k = 1 the matrix is `theory.pmi.ppmi`. The SVD is ARPACK's
Lanczos iteration (`scipy.sparse.linalg.svds`) started from a vector drawn from the seed, so it is
deterministic; each singular vector's sign is fixed so that its largest entry is positive.

These models have no training loop: the driver calls `solve` (no checkpoints: a stopped run computes
again from the start).
"""
from __future__ import annotations

import dataclasses
import os
import time
from typing import Any

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from jaxembed.config import PpmiConfig, SvdConfig
from jaxembed.data.cooccur import Cooccurrences, count_cooccurrences
from jaxembed.data.corpus import PreparedCorpus, prepare_corpus
from jaxembed.data.sampling import keep_probabilities
from jaxembed.errors import ConfigError
from jaxembed.models.base import Outputs
from jaxembed.vectors import SparseVectors, Vectors, unit_rows

SUBSAMPLE_CHUNK = 1 << 22
"""Tokens subsampled at a time (each with its own RNG stream)."""


@dataclasses.dataclass(frozen=True)
class CountState:
    """ppmi_VxV: the shifted PPMI matrix (scipy CSR, float32); with SVD its factors u_VxD, s_D, v_VxD (float64),
    singular values in decreasing order."""

    ppmi_VxV: scipy.sparse.csr_array
    u_VxD: np.ndarray | None = None
    s_D: np.ndarray | None = None
    v_VxD: np.ndarray | None = None


@dataclasses.dataclass(frozen=True)
class Solution:
    """What `solve` gives the driver: the outputs, the state behind them and the metrics metrics.json adds."""

    outputs: Outputs
    state: CountState
    metrics: dict


def read_corpus(path: str | os.PathLike, config: PpmiConfig) -> PreparedCorpus:
    """word2vec's reader: lines are sentences, cut every `max_sentence_length` words."""
    return prepare_corpus(path, config.min_count, config.max_vocab_size, config.max_sentence_length)


def window_weights(window: int, shrink_windows: bool) -> np.ndarray:
    """(window,) weight of a pair at distance d = 1..window: word2vec's reduced window b ~ U{1..window} counts it
    with probability (window − d + 1)/window; a fixed window counts it once."""
    d = np.arange(1, window + 1, dtype=np.float64)
    return (window - d + 1) / window if shrink_windows else np.ones(window)


def dirty_subsample(ids_N, sentence_ends_S: np.ndarray, keep_V: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(kept ids, their sentence ends): each token kept with probability keep_V[id], drawn per chunk of
    SUBSAMPLE_CHUNK tokens from the stream (seed, chunk); emptied sentences vanish."""
    kept_ids, kept_before = [], [np.zeros(1, np.int64)]
    for chunk, start in enumerate(range(0, len(ids_N), SUBSAMPLE_CHUNK)):
        ids = np.asarray(ids_N[start:start + SUBSAMPLE_CHUNK])
        keep = np.random.default_rng([seed, chunk]).random(len(ids)) < keep_V[ids]
        kept_ids.append(ids[keep])
        kept_before.append(kept_before[-1][-1] + np.cumsum(keep))
    kept_before_N1 = np.concatenate(kept_before)
    ends = np.unique(kept_before_N1[sentence_ends_S])
    return np.concatenate(kept_ids), ends[ends > 0]


def pair_counts(corpus: PreparedCorpus, config: PpmiConfig) -> Cooccurrences:
    """#(w, c) of the corpus under the config's windowing and subsampling (config.PpmiConfig), symmetric."""
    vocab_size = len(corpus.vocab)
    keep_V = keep_probabilities(corpus.vocab.counts, config.sample)
    ids, ends = corpus.ids_N, corpus.sentence_ends_S
    if config.sample > 0 and config.subsampling == "dirty":
        ids, ends = dirty_subsample(ids, ends, keep_V, config.seed)
    cooc = count_cooccurrences(ids, ends, vocab_size, config.window, symmetric=True,
                               distance_weighting=window_weights(config.window, config.shrink_windows),
                               memory_mb=config.memory_mb)
    if config.sample > 0 and config.subsampling == "clean":
        cooc = dataclasses.replace(cooc, values_N=cooc.values_N * keep_V[cooc.rows_N] * keep_V[cooc.cols_N])
    return cooc


def shifted_ppmi(cooc: Cooccurrences, negative: int, cds: float) -> scipy.sparse.csr_array:
    """(V, V) CSR float32 of max(log(#(w, c) / (#w P_cds(c))) − log k, 0), zeros not stored (module docstring)."""
    rows, cols, counts = cooc.rows_N, cooc.cols_N, cooc.values_N
    word_totals = np.bincount(rows, weights=counts, minlength=cooc.vocab_size)
    smoothed = np.bincount(cols, weights=counts, minlength=cooc.vocab_size) ** cds
    log_context = np.log(smoothed, where=smoothed > 0, out=np.zeros_like(smoothed)) - np.log(smoothed.sum())
    values = np.log(counts) - np.log(word_totals[rows]) - log_context[cols] - np.log(negative)
    positive = values > 0
    rows, cols, values = rows[positive], cols[positive], values[positive].astype(np.float32)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=cooc.vocab_size))])
    return scipy.sparse.csr_array((values, cols, indptr), shape=(cooc.vocab_size, cooc.vocab_size))


def truncated_svd(matrix_VxC, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(U (V, d), σ (d,) decreasing, V (C, d)) of the rank-d truncated SVD M ≈ U diag(σ) Vᵀ (ARPACK, float64),
    each column signed so that its largest-magnitude entry of U is positive."""
    smallest = min(matrix_VxC.shape)
    if matrix_VxC.nnz == 0:
        raise ConfigError("the shifted PPMI matrix is all zeros (no pair has PMI above log negative): lower negative, "
                          "or count over a larger corpus or window")
    if dim >= smallest:
        raise ConfigError(f"dim must be < {smallest} for svd (the truncated SVD of a {matrix_VxC.shape[0]} x "
                          f"{matrix_VxC.shape[1]} matrix), got {dim}")
    start = np.random.default_rng(seed).uniform(-1.0, 1.0, smallest)
    u, s, vt = scipy.sparse.linalg.svds(scipy.sparse.csr_array(matrix_VxC, dtype=np.float64), k=dim, v0=start,
                                        solver="arpack")
    order = np.argsort(-s, kind="stable")
    u, s, v = u[:, order], s[order], vt[order].T
    signs = np.sign(u[np.abs(u).argmax(axis=0), np.arange(dim)])
    signs[signs == 0] = 1.0
    return u * signs, s, v * signs


def svd_vectors(u_VxD: np.ndarray, s_D: np.ndarray, v_VxD: np.ndarray, eig: float, output: str) -> np.ndarray:
    """(V, d) word vectors: W = U Σ^eig, or (output "w+c") unit(W) + unit(V Σ^eig) per row."""
    weights = s_D ** eig
    words = u_VxD * weights
    return unit_rows(words) + unit_rows(v_VxD * weights) if output == "w+c" else words


def solve(corpus: PreparedCorpus, config: PpmiConfig) -> Solution:
    """Count, weigh and (svd) factorise: the model's outputs, state and metrics (seconds per stage, nonzeros)."""
    start = time.perf_counter()
    cooc = pair_counts(corpus, config)
    counted = time.perf_counter()
    ppmi = shifted_ppmi(cooc, config.negative, config.cds)
    metrics: dict[str, Any] = {"nonzero_counts": len(cooc), "nonzeros": int(ppmi.nnz),
                               "counting_seconds": counted - start, "ppmi_seconds": time.perf_counter() - counted}
    del cooc
    words = corpus.vocab.strings
    if not isinstance(config, SvdConfig):
        return Solution(Outputs(SparseVectors(words, ppmi)), CountState(ppmi), metrics)
    factored = time.perf_counter()
    u, s, v = truncated_svd(ppmi, config.dim, config.seed)
    metrics["svd_seconds"] = time.perf_counter() - factored
    vectors = Vectors(words, svd_vectors(u, s, v, config.eig, config.output))
    return Solution(Outputs(vectors), CountState(ppmi, u, s, v), metrics)
