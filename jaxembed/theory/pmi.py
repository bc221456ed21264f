"""What SGNS factorises (Levy & Goldberg 2014) and the count-based baselines (Levy, Goldberg & Dagan 2015).

From word–context pair counts #(w, c) with marginals #w = Σ_c #(w, c), #c = Σ_w #(w, c) and
|D| = Σ #(w, c):

    PMI(w, c)   = log( #(w, c) |D| / (#w #c) )
    SPMI_k      = PMI − log k                            (the optimum of SGNS with k unigram noise words)
    SPMI_k,P_n  = log( #(w, c) / (k #w P_n(c)) )         (the optimum with noise P_n, e.g. ∝ count^0.75)
    PPMI        = max(PMI, 0),   shifted PPMI = max(PMI − log k, 0)

The SGNS optimum follows from the expected objective (`theory.sgns_objective`), whose per-pair
derivative vanishes where σ(w·c) = #(w, c) / (#(w, c) + k #w P_n(c)). Pairs never seen get −∞
(returned as -inf; callers restrict to #(w, c) > 0).
"""
from __future__ import annotations

import numpy as np

from jaxembed.data.cooccur import count_cooccurrences


def pair_counts(ids_N: np.ndarray, sentence_ends_S: np.ndarray, vocab_size: int, window: int,
                reduced_window: bool = False) -> np.ndarray:
    """(V, V) dense #(w, c): every (word, context) pair within `window` in a sentence, both directions.

    reduced_window: weight distance d by word2vec's expected (window − d + 1)/window (its dynamic
    window b ~ U{1..window}); otherwise every pair counts 1 (fixed window, as the theory assumes).
    """
    d = np.arange(1, window + 1)
    weights = (window - d + 1) / window if reduced_window else np.ones(window)
    return count_cooccurrences(ids_N, sentence_ends_S, vocab_size, window, symmetric=True,
                               distance_weighting=weights).to_dense()


def marginals(counts_VxV: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(#w (V,), #c (V,), |D|)."""
    return counts_VxV.sum(axis=1), counts_VxV.sum(axis=0), float(counts_VxV.sum())


def pmi(counts_VxV: np.ndarray) -> np.ndarray:
    """PMI(w, c) = log(#(w, c)|D| / (#w #c)); −inf where #(w, c) = 0."""
    words, contexts, total = marginals(counts_VxV)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(counts_VxV) + np.log(total) - np.log(words)[:, None] - np.log(contexts)[None, :]


def shifted_pmi(counts_VxV: np.ndarray, k: int, noise_V: np.ndarray | None = None) -> np.ndarray:
    """The SGNS optimum: log(#(w, c) / (k #w P_n(c))); P_n = #c/|D| (unigram) when noise_V is None,
    which is PMI − log k."""
    words, contexts, total = marginals(counts_VxV)
    noise_V = contexts / total if noise_V is None else noise_V / noise_V.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(counts_VxV) - np.log(k * words)[:, None] - np.log(noise_V)[None, :]


def smoothed_noise(counts_V: np.ndarray, power: float = 0.75) -> np.ndarray:
    """word2vec's noise distribution P_n(c) ∝ count(c)^power, (V,)."""
    weights = np.asarray(counts_V, np.float64) ** power
    return weights / weights.sum()


def ppmi(counts_VxV: np.ndarray, k: int = 1) -> np.ndarray:
    """Shifted positive PMI max(PMI − log k, 0) (k = 1: PPMI); 0 where #(w, c) = 0."""
    return np.maximum(np.nan_to_num(pmi(counts_VxV) - np.log(k), neginf=0.0), 0.0)


def svd_embeddings(matrix_VxV: np.ndarray, dim: int, eigenvalue_weight: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Truncated SVD M ≈ U_d Σ_d V_dᵀ: word vectors U_d Σ_d^p and context vectors V_d Σ_d^(1−p), (V, d) each,
    so that W Cᵀ is the best rank-d approximation of M for any p (Levy, Goldberg & Dagan 2015)."""
    u, sigma, vt = np.linalg.svd(matrix_VxV, full_matrices=False)
    u, sigma, v = u[:, :dim], sigma[:dim], vt[:dim].T
    return u * sigma ** eigenvalue_weight, v * sigma ** (1.0 - eigenvalue_weight)
