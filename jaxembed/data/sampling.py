"""word2vec's sampling: frequent-word subsampling, reduced windows and the count^0.75 noise distribution.

All functions are vectorised numpy on the host and take an explicit `np.random.Generator`.
"""
from __future__ import annotations

import dataclasses

import numpy as np

NOISE_POWER = 0.75


def keep_probabilities(counts_V: np.ndarray, sample: float, total_words: int | None = None) -> np.ndarray:
    """Per-word probability of keeping an occurrence (word2vec.c / gensim; fastText's pdiscard is the
    same expression, sqrt(s/f) + s/f with f = c_w / T):

        p_keep(w) = min(1, (sqrt(c_w / (s·T)) + 1) · (s·T) / c_w),   T = Σ_w c_w (word2vec)

    or T = `total_words` (fastText: every token of the corpus, in the vocabulary or not).
    `sample <= 0` disables subsampling (all ones); a word counted 0 times (an earlier run's word absent from
    this corpus) is kept. Returns (V,) float64.
    """
    counts = np.asarray(counts_V, dtype=np.float64)
    if sample <= 0:
        return np.ones_like(counts)
    threshold = sample * (counts.sum() if total_words is None else total_words)
    seen = np.maximum(counts, np.finfo(np.float64).tiny)
    return np.minimum(1.0, (np.sqrt(seen / threshold) + 1.0) * threshold / seen)


def subsample_mask(ids_N: np.ndarray, keep_V: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(N,) bool: keep token i with probability keep_V[ids_N[i]] (word2vec keeps when u <= p)."""
    return rng.random(ids_N.shape[0]) <= keep_V[ids_N]


def reduced_windows(n: int, window: int, rng: np.random.Generator, shrink: bool = True) -> np.ndarray:
    """(n,) effective window per centre: window − b with b ~ U{0..window−1}, so values in 1..window;
    every centre gets the full `window` (and nothing is drawn) when `shrink` is False (gensim's
    shrink_windows=False, the fixed window the PMI theory assumes)."""
    if not shrink:
        return np.full(n, window, dtype=np.int32)
    return window - rng.integers(0, window, size=n, dtype=np.int32)


@dataclasses.dataclass(frozen=True)
class AliasTable:
    """Walker/Vose alias table for exact O(1) sampling from a discrete distribution over V ids.

    threshold_V: uint32 acceptance thresholds (probability × 2^32, capped at 2^32 − 1, so each
    probability is exact to 2^-32); alias_V: int32 fallback ids.
    """

    threshold_V: np.ndarray
    alias_V: np.ndarray

    @classmethod
    def from_weights(cls, weights_V: np.ndarray) -> "AliasTable":
        p = np.asarray(weights_V, dtype=np.float64)
        scaled = p * (len(p) / p.sum())
        alias = np.arange(len(p), dtype=np.int32)
        small = [i for i in range(len(p)) if scaled[i] < 1.0]
        large = [i for i in range(len(p)) if scaled[i] >= 1.0]
        while small and large:
            s, l = small.pop(), large[-1]
            alias[s] = l
            scaled[l] -= 1.0 - scaled[s]
            if scaled[l] < 1.0:
                small.append(large.pop())
        for i in large + small:
            scaled[i] = 1.0
        threshold = np.minimum(np.round(scaled * 2.0**32), 2.0**32 - 1).astype(np.uint32)
        return cls(threshold, alias)

    def probabilities(self) -> np.ndarray:
        """(V,) the exact distribution the table samples from (for tests)."""
        v = len(self.alias_V)
        accept = self.threshold_V.astype(np.float64) / 2.0**32
        p = accept.copy()
        np.add.at(p, self.alias_V, 1.0 - accept)
        return p / v

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """int32 ids of the given shape. One 64-bit draw each: low 32 bits pick a slot (modulo V, bias
        below V/2^32), high 32 bits accept the slot or take its alias."""
        n = int(np.prod(shape))
        halves = rng.bit_generator.random_raw(n).view(np.uint32).reshape(n, 2)
        slot = (halves[:, 0] % np.uint32(len(self.alias_V))).astype(np.int32)
        accept = halves[:, 1] < self.threshold_V[slot]
        return np.where(accept, slot, self.alias_V[slot]).reshape(shape)


def sample_negatives(noise: AliasTable, targets_Q: np.ndarray, negative: int, rng: np.random.Generator) -> np.ndarray:
    """(Q, K) noise words, each redrawn until it differs from its pair's target (fastText's getNegative;
    word2vec instead skips such draws). Needs at least two words with nonzero noise probability."""
    negatives_QxK = noise.sample((len(targets_Q), negative), rng)
    clash_QxK = negatives_QxK == targets_Q[:, None]
    while clash_QxK.any():
        negatives_QxK[clash_QxK] = noise.sample((int(clash_QxK.sum()),), rng)
        clash_QxK = negatives_QxK == targets_Q[:, None]
    return negatives_QxK


def noise_table(counts_V: np.ndarray, power: float = NOISE_POWER) -> AliasTable:
    """Negative-sampling distribution P_n(w) ∝ c_w^power (word2vec: power 0.75)."""
    return AliasTable.from_weights(np.asarray(counts_V, dtype=np.float64) ** power)
