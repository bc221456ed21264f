"""Skip-gram training pairs, produced on the host in fixed-shape blocks for one jitted call.

One epoch = the corpus in order, in chunks of whole sentences. Per chunk (its own RNG stream,
`seed, epoch, chunk`, so any chunk can be regenerated): subsample, draw a reduced window per kept
centre, emit (input = context word, output = centre word) pairs in word2vec.c's order (centre by
centre, offsets −b..+b), and draw `negative` noise words per pair.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from jaxembed.data.sampling import AliasTable, reduced_windows, subsample_mask

CHUNK_TOKENS = 1 << 18


@dataclasses.dataclass(frozen=True)
class PairBlock:
    """M micro-batches of P pairs; a padded pair has valid = False.

    inputs_MxP / outputs_MxP / negatives_MxPxK: int32 ids (syn0 row, syn1neg target row, noise rows);
    valid_MxP: bool; words_done_M: float32 corpus words before each micro-batch (for the LR schedule).
    """

    inputs_MxP: np.ndarray
    outputs_MxP: np.ndarray
    negatives_MxPxK: np.ndarray
    valid_MxP: np.ndarray
    words_done_M: np.ndarray

    @property
    def num_pairs(self) -> int:
        return int(self.valid_MxP.sum())


def sentence_ids(n: int, sentence_ends: np.ndarray) -> np.ndarray:
    """(n,) index of the sentence each token belongs to, given sentence end offsets."""
    return np.searchsorted(sentence_ends, np.arange(n), side="right")


def window_pairs(sentence_N: np.ndarray, window_N: np.ndarray, max_window: int) -> tuple[np.ndarray, np.ndarray]:
    """All (centre, context) positions with 0 < |offset| <= window_N[centre] inside one sentence.

    Returns (centre_P, context_P) int64 positions, ordered by centre, then offset from −b to +b.
    """
    n = sentence_N.shape[0]
    offsets = np.concatenate([np.arange(-max_window, 0), np.arange(1, max_window + 1)])
    context_NxO = np.arange(n)[:, None] + offsets[None, :]
    inside = (context_NxO >= 0) & (context_NxO < n)
    clipped = np.clip(context_NxO, 0, n - 1)
    valid = inside & (np.abs(offsets)[None, :] <= window_N[:, None]) & (sentence_N[clipped] == sentence_N[:, None])
    centre, slot = np.nonzero(valid)
    return centre, clipped[centre, slot]


def chunk_bounds(sentence_ends: np.ndarray, chunk_tokens: int) -> list[tuple[int, int]]:
    """Split the token stream into chunks of whole sentences of about `chunk_tokens` tokens."""
    bounds, start = [], 0
    while start < sentence_ends[-1]:
        stop_index = np.searchsorted(sentence_ends, start + chunk_tokens, side="left")
        stop = int(sentence_ends[min(stop_index, len(sentence_ends) - 1)])
        bounds.append((start, stop))
        start = stop
    return bounds


def chunk_rng(seed: int, epoch: int, chunk: int) -> np.random.Generator:
    """Independent, reproducible RNG stream per (seed, epoch, chunk)."""
    return np.random.default_rng([seed, epoch, chunk])


def chunk_pairs(ids: np.ndarray, sentence_ends: np.ndarray, start: int, stop: int, keep_V: np.ndarray,
                noise: AliasTable, window: int, negative: int, rng: np.random.Generator):
    """Skip-gram pairs of tokens [start, stop): (inputs_P, outputs_P, negatives_PxK, positions_P).

    positions_P: index of each pair's centre token in the corpus (before subsampling).
    """
    chunk_ids = ids[start:stop]
    kept = np.flatnonzero(subsample_mask(chunk_ids, keep_V, rng))
    local_ends = sentence_ends[(sentence_ends > start) & (sentence_ends <= stop)] - start
    sentence = sentence_ids(stop - start, local_ends)[kept]
    centre, context = window_pairs(sentence, reduced_windows(len(kept), window, rng), window)
    negatives = noise.sample((len(centre), negative), rng)
    return chunk_ids[kept[context]], chunk_ids[kept[centre]], negatives, (start + kept[centre]).astype(np.int64)


def pair_blocks(ids: np.ndarray, sentence_ends: np.ndarray, keep_V: np.ndarray, noise: AliasTable,
                window: int, negative: int, pairs_per_batch: int, batches_per_block: int,
                seed: int, epoch: int, chunk_tokens: int = CHUNK_TOKENS) -> Iterator[PairBlock]:
    """Yield an epoch of skip-gram pairs as fixed-shape `PairBlock`s (the last one padded)."""
    block_pairs = pairs_per_batch * batches_per_block
    offset = epoch * len(ids)
    carry: tuple[np.ndarray, ...] | None = None
    for index, (start, stop) in enumerate(chunk_bounds(sentence_ends, chunk_tokens)):
        parts = chunk_pairs(ids, sentence_ends, start, stop, keep_V, noise, window, negative,
                            chunk_rng(seed, epoch, index))
        if carry is not None:
            parts = tuple(np.concatenate([c, p]) for c, p in zip(carry, parts))
        full = len(parts[0]) // block_pairs * block_pairs
        for s in range(0, full, block_pairs):
            inputs, outputs, negatives, positions = (a[s:s + block_pairs] for a in parts)
            yield make_block(inputs, outputs, negatives, positions + offset, pairs_per_batch, batches_per_block)
        carry = tuple(a[full:] for a in parts)
    if carry is not None and len(carry[0]):
        inputs, outputs, negatives, positions = carry
        yield make_block(inputs, outputs, negatives, positions + offset, pairs_per_batch, batches_per_block)


def make_block(inputs: np.ndarray, outputs: np.ndarray, negatives: np.ndarray, positions: np.ndarray,
               pairs_per_batch: int, batches_per_block: int) -> PairBlock:
    """Pad up to M·P pairs and reshape to (M, P[, K])."""
    m, p = batches_per_block, pairs_per_batch
    pad = m * p - len(inputs)
    valid = np.concatenate([np.ones(len(inputs), bool), np.zeros(pad, bool)])
    padded = [np.concatenate([a, np.zeros((pad,) + a.shape[1:], a.dtype)]) for a in (inputs, outputs, negatives)]
    batch_starts = positions[np.minimum(np.arange(m) * p, len(positions) - 1)].astype(np.float32)
    return PairBlock(padded[0].reshape(m, p), padded[1].reshape(m, p), padded[2].reshape(m, p, -1),
                     valid.reshape(m, p), batch_starts)
