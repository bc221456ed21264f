"""word2vec training examples, produced on the host in fixed-shape blocks for one jitted call.

One epoch = the corpus in order (or its sentences in a random order per epoch, `epoch_sentences`),
in chunks of whole sentences. Per chunk (its own RNG stream,
`seed, epoch, chunk`, so any chunk can be regenerated): subsample, draw a reduced window per kept
centre, then emit examples in word2vec.c's order (centre by centre, offsets −b..+b):
- pairs (skip-gram with negative sampling): one example per (context, centre) pair, hidden row =
  the context word (C = 1), with `negative` noise words per pair as word2vec draws them;
- windows (CBOW; skip-gram with hierarchical softmax only): one example per centre with at least
  one context word, hidden rows = its 2·window context slots (masked), `negative` noise words per
  centre (CBOW's draw). For skip-gram-HS a window holds exactly the pairs of that centre, all
  predicting the same Huffman path.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from jaxembed.data.sampling import AliasTable, reduced_windows, subsample_mask

CHUNK_TOKENS = 1 << 16


@dataclasses.dataclass(frozen=True)
class ExampleBlock:
    """M micro-batches of P examples; padding examples have an all-False hidden mask.

    hidden_MxPxC: ids of the syn0 rows forming h; hidden_mask_MxPxC: which of them are real;
    outputs_MxP: the predicted (centre) word; negatives_MxPxK: noise words (K may be 0);
    words_done_M: float32 corpus words before each micro-batch (for the LR schedule).
    """

    hidden_MxPxC: np.ndarray
    hidden_mask_MxPxC: np.ndarray
    outputs_MxP: np.ndarray
    negatives_MxPxK: np.ndarray
    words_done_M: np.ndarray

    @property
    def num_examples(self) -> int:
        return int(self.hidden_mask_MxPxC.any(axis=-1).sum())

    @property
    def num_hidden(self) -> int:
        """Real hidden rows: (context, centre) pairs for skip-gram in either layout."""
        return int(self.hidden_mask_MxPxC.sum())

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.hidden_MxPxC, self.hidden_mask_MxPxC, self.outputs_MxP, self.negatives_MxPxK, self.words_done_M)


def sentence_ids(n: int, sentence_ends: np.ndarray) -> np.ndarray:
    """(n,) index of the sentence each token belongs to, given sentence end offsets."""
    return np.searchsorted(sentence_ends, np.arange(n), side="right")


def window_slots(sentence_N: np.ndarray, window_N: np.ndarray, max_window: int) -> tuple[np.ndarray, np.ndarray]:
    """Context slots of every centre: positions (N, 2W) for offsets −W..−1, 1..W (clipped) and
    valid (N, 2W): 0 < |offset| <= window_N[centre], inside the array and the same sentence."""
    n = sentence_N.shape[0]
    offsets = np.concatenate([np.arange(-max_window, 0), np.arange(1, max_window + 1)])
    context_NxO = np.arange(n)[:, None] + offsets[None, :]
    inside = (context_NxO >= 0) & (context_NxO < n)
    clipped = np.clip(context_NxO, 0, max(n - 1, 0))
    valid = inside & (np.abs(offsets)[None, :] <= window_N[:, None]) & (sentence_N[clipped] == sentence_N[:, None])
    return clipped, valid


def window_pairs(sentence_N: np.ndarray, window_N: np.ndarray, max_window: int) -> tuple[np.ndarray, np.ndarray]:
    """All (centre, context) positions, ordered by centre, then offset from −b to +b."""
    clipped, valid = window_slots(sentence_N, window_N, max_window)
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


class SentenceOrder:
    """A token stream with its sentences visited in another order, each sentence intact. Sliced like
    the stream it wraps (`ids[a:b]`, `len(ids)`): a slice gathers its tokens from the source on demand,
    so nothing is copied up front (`TokenIds` reads them through a memory map, whose pages are
    reclaimable file cache). Holds 24 bytes per sentence."""

    def __init__(self, ids_N, sentence_ends_S: np.ndarray, order_S: np.ndarray):
        starts_S = np.concatenate([[0], sentence_ends_S[:-1]]).astype(np.int64)
        lengths_S = (sentence_ends_S - starts_S)[order_S]
        self.sentence_ends_S = np.cumsum(lengths_S)
        self._starts_S = self.sentence_ends_S - lengths_S
        self._source_starts_S = starts_S[order_S]
        self._ids = ids_N
        self.shape = (int(self.sentence_ends_S[-1]) if len(order_S) else 0,)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: slice) -> np.ndarray:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError(f"SentenceOrder takes contiguous slices ids[a:b], got {key!r}")
        start, stop, _ = key.indices(len(self))
        positions = np.arange(start, max(start, stop), dtype=np.int64)
        sentence = np.searchsorted(self.sentence_ends_S, positions, side="right")
        return self._ids.take(self._source_starts_S[sentence] + positions - self._starts_S[sentence])


def epoch_sentences(ids_N, sentence_ends_S: np.ndarray, seed: int, epoch: int, shuffle: bool):
    """The (ids, sentence_ends) an epoch visits: the corpus in order, or (shuffle) its sentences in a
    random order drawn from (seed, epoch) — an RNG stream apart from every chunk's."""
    if not shuffle:
        return ids_N, sentence_ends_S
    rng = np.random.default_rng(np.random.SeedSequence([seed, epoch], spawn_key=(1,)))
    shuffled = SentenceOrder(ids_N, sentence_ends_S, rng.permutation(len(sentence_ends_S)))
    return shuffled, shuffled.sentence_ends_S


def chunk_rng(seed: int, epoch: int, chunk: int) -> np.random.Generator:
    """Independent, reproducible RNG stream per (seed, epoch, chunk)."""
    return np.random.default_rng([seed, epoch, chunk])


def chunk_windows(ids: np.ndarray, sentence_ends: np.ndarray, start: int, stop: int, keep_V: np.ndarray,
                  window: int, rng: np.random.Generator, shrink_windows: bool = True):
    """Subsample tokens [start, stop), then draw each kept centre's window (in that RNG order):
    (kept_N positions in the chunk, kept_ids_N, context slots_NxO into the kept tokens, valid_NxO)."""
    chunk_ids = ids[start:stop]
    kept = np.flatnonzero(subsample_mask(chunk_ids, keep_V, rng))
    local_ends = sentence_ends[(sentence_ends > start) & (sentence_ends <= stop)] - start
    sentence = sentence_ids(stop - start, local_ends)[kept]
    slots, valid = window_slots(sentence, reduced_windows(len(kept), window, rng, shrink_windows), window)
    return kept, chunk_ids[kept], slots, valid


def chunk_examples(ids: np.ndarray, sentence_ends: np.ndarray, start: int, stop: int, keep_V: np.ndarray,
                   noise: AliasTable, window: int, negative: int, windows: bool, rng: np.random.Generator,
                   shrink_windows: bool = True):
    """Examples of tokens [start, stop): (hidden_ExC, hidden_mask_ExC, outputs_E, negatives_ExK, positions_E).

    windows: one example per centre window (else per pair, module docstring); positions_E: index
    of each example's centre token in the corpus (before subsampling).
    """
    kept, kept_ids, slots, valid = chunk_windows(ids, sentence_ends, start, stop, keep_V, window, rng, shrink_windows)
    if windows:
        centre = np.flatnonzero(valid.any(axis=1))
        hidden, mask = kept_ids[slots[centre]], valid[centre]
    else:
        centre, slot = np.nonzero(valid)
        hidden, mask = kept_ids[slots[centre, slot]][:, None], np.ones((len(centre), 1), bool)
    negatives = noise.sample((len(centre), negative), rng)
    return hidden, mask, kept_ids[centre], negatives, (start + kept[centre]).astype(np.int64)


def example_blocks(ids: np.ndarray, sentence_ends: np.ndarray, keep_V: np.ndarray, noise: AliasTable,
                   window: int, negative: int, windows: bool, batch_size: int, batches_per_block: int,
                   seed: int, epoch: int, chunk_tokens: int = CHUNK_TOKENS, shrink_windows: bool = True) -> Iterator[ExampleBlock]:
    """Yield an epoch of examples as fixed-shape `ExampleBlock`s (the last one padded)."""
    block_size = batch_size * batches_per_block
    offset = epoch * len(ids)
    carry: tuple[np.ndarray, ...] | None = None
    for index, (start, stop) in enumerate(chunk_bounds(sentence_ends, chunk_tokens)):
        parts = chunk_examples(ids, sentence_ends, start, stop, keep_V, noise, window, negative, windows,
                               chunk_rng(seed, epoch, index), shrink_windows)
        if carry is not None:
            parts = tuple(np.concatenate([c, p]) for c, p in zip(carry, parts))
        full = len(parts[0]) // block_size * block_size
        for s in range(0, full, block_size):
            yield make_block([a[s:s + block_size] for a in parts], offset, batch_size, batches_per_block)
        carry = tuple(a[full:] for a in parts)
    if carry is not None and len(carry[0]):
        yield make_block(list(carry), offset, batch_size, batches_per_block)


def make_block(parts: list[np.ndarray], offset: int, batch_size: int, batches_per_block: int) -> ExampleBlock:
    """Pad (hidden, mask, outputs, negatives, positions) up to M·P examples and reshape to (M, P, ...)."""
    m, p = batches_per_block, batch_size
    *arrays, positions = parts
    pad = m * p - len(positions)
    hidden, mask, outputs, negatives = (
        np.concatenate([a, np.zeros((pad,) + a.shape[1:], a.dtype)]).reshape((m, p) + a.shape[1:]) for a in arrays)
    batch_starts = (positions[np.minimum(np.arange(m) * p, len(positions) - 1)] + offset).astype(np.float32)
    return ExampleBlock(hidden, mask, outputs, negatives, batch_starts)
