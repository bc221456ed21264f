"""Training windows of word2vec and fastText, drawn on the host: the epoch's sentence order, chunks of whole
sentences, and per chunk the subsampled centres with their (reduced) windows.

One epoch = the corpus in order (or its sentences in a random order per epoch, `epoch_sentences`),
in chunks of whole sentences. Each chunk has its own RNG stream (`seed, epoch, chunk`), so any chunk
can be regenerated: it subsamples, then draws a reduced window per kept centre, in that order.
data.word2vec_examples and data.fasttext_examples turn a chunk's windows into examples.

Memory does not grow with the window. Context slots past the longest sentence − 1 are always empty
and are not laid out (`context_reach`), except in the window examples of windows up to 32
(WINDOW_SLOTS / 2·CHUNK_TOKENS), which keep their 2·window slots (`example_reach`). word2vec lays a
chunk's windows out a piece of centres at a time (`centre_pieces`: the same examples and draws);
fastText, whose noise words are drawn for a whole chunk at once, gets fewer tokens per chunk when its
windows would exceed WINDOW_SLOTS (`fitted_chunk_tokens`: windows past 32 only, which then get other
chunks, so other draws). A block (one jitted call) holds at most BLOCK_BYTES of examples
(`block_batches`: speed only).
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from jaxembed.data.sampling import AliasTable, reduced_windows, subsample_mask
from jaxembed.errors import ConfigError

CHUNK_TOKENS = 1 << 16
WINDOW_SLOTS = 1 << 22
"""Context slots (centre × offset) laid out at once: word2vec's piece of a chunk's centres (~30 bytes a slot),
fastText's whole chunk."""
BLOCK_BYTES = 1 << 26
"""Bytes of examples one block (one jitted call) may hold: it has fewer micro-batches beyond."""


@dataclasses.dataclass(frozen=True)
class Sampling:
    """How a chunk's examples are drawn: keep_V, each word's subsampling keep probability; windows of up to
    `window` words on each side, reduced per centre to b ~ U{1..window} (word2vec) unless `shrink_windows`
    is False; `negative` noise words per example from `noise`."""

    keep_V: np.ndarray
    noise: AliasTable
    window: int
    negative: int
    shrink_windows: bool = True


def sentence_ids(n: int, sentence_ends: np.ndarray) -> np.ndarray:
    """(n,) index of the sentence each token belongs to, given sentence end offsets."""
    return np.searchsorted(sentence_ends, np.arange(n), side="right")


def longest_sentence(sentence_ends: np.ndarray) -> int:
    """Tokens in the longest sentence (0 without sentences)."""
    return int(np.diff(sentence_ends, prepend=0).max(initial=0))


def context_reach(window: int, sentence_ends: np.ndarray) -> int:
    """The farthest offset a context word can have: `window`, but at most the longest sentence − 1, since a
    window never leaves its sentence (at least 1). Slots farther out are always empty: leaving them out
    changes no example."""
    return max(1, min(window, longest_sentence(sentence_ends) - 1))


def example_reach(window: int, sentence_ends: np.ndarray, chunk_tokens: int = CHUNK_TOKENS,
                  budget: int = WINDOW_SLOTS) -> int:
    """How far the context slots of a window example (CBOW, skip-gram-HS) reach: `window` while a chunk's windows
    fit `budget` slots, as they always have; past that, `context_reach`: the same examples without the slots
    that are always empty (a narrower step, whose sums may round differently)."""
    return window if chunk_tokens * 2 * window <= budget else context_reach(window, sentence_ends)


def window_slots(sentence_N: np.ndarray, window_N: np.ndarray, max_window: int,
                 centres: slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
    """Context slots of the centres `centres` (default all N): positions (C, 2W) for offsets −W..−1, 1..W
    (clipped into 0..N−1) and valid (C, 2W): 0 < |offset| <= window_N[centre], in the centre's sentence.
    sentence_N: each token's sentence index, non-decreasing."""
    n = sentence_N.shape[0]
    centre_C = np.arange(n)[centres]
    offsets = np.concatenate([np.arange(-max_window, 0), np.arange(1, max_window + 1)])
    first_C = np.searchsorted(sentence_N, sentence_N[centre_C], side="left")
    last_C = np.searchsorted(sentence_N, sentence_N[centre_C], side="right") - 1
    lowest_C = np.maximum(-window_N[centre_C], first_C - centre_C)
    highest_C = np.minimum(window_N[centre_C], last_C - centre_C)
    valid = (offsets[None, :] >= lowest_C[:, None]) & (offsets[None, :] <= highest_C[:, None])
    return np.clip(centre_C[:, None] + offsets[None, :], 0, max(n - 1, 0)), valid


def centre_pieces(centres: int, slots_per_centre: int, piece_slots: int = WINDOW_SLOTS) -> list[slice]:
    """Consecutive ranges covering `centres` centres, each spanning at most `piece_slots` slots (at least one
    centre; one empty range when there are none)."""
    step = max(1, piece_slots // max(slots_per_centre, 1))
    return [slice(first, min(first + step, centres)) for first in range(0, centres, step)] or [slice(0, 0)]


def fitted_chunk_tokens(chunk_tokens: int, slots_per_token: int, sentence_ends: np.ndarray, window: int,
                        chunk_slots: int = WINDOW_SLOTS) -> int:
    """Tokens per chunk: `chunk_tokens` while its windows span at most `chunk_slots` slots, else as many as
    fit. A chunk holds at least one whole sentence: if the longest one's windows alone exceed the budget,
    `window` is refused (ConfigError)."""
    if chunk_tokens * slots_per_token <= chunk_slots:
        return chunk_tokens
    tokens, longest = chunk_slots // slots_per_token, longest_sentence(sentence_ends)
    if longest > tokens:
        raise ConfigError(f"window={window}: the windows of a sentence of {longest:,} tokens span "
                          f"{longest * slots_per_token:,} context slots, more than the {chunk_slots:,} a chunk may hold; "
                          f"use window <= {max(1, chunk_slots // longest // 2):,}, or lines of at most "
                          f"{math.isqrt(chunk_slots // 2):,} tokens")
    return tokens


def block_batches(batches: int, micro_batch_bytes: int, block_bytes: int = BLOCK_BYTES) -> int:
    """Micro-batches per block: `batches`, fewer when a block would hold more than `block_bytes` (at least one).
    Speed only: the micro-batches, and so the vectors, stay the same."""
    return max(1, min(batches, block_bytes // max(micro_batch_bytes, 1)))


def chunk_sentence_ids(sentence_ends: np.ndarray, start: int, stop: int, n: int) -> np.ndarray:
    """(n,) sentence index of each of n token slots from `start`, counted from the first sentence of the
    chunk [start, stop) (slots past `stop` get one past its last)."""
    return sentence_ids(n, sentence_ends[(sentence_ends > start) & (sentence_ends <= stop)] - start)


def chunk_bounds(sentence_ends: np.ndarray, chunk_tokens: int) -> list[tuple[int, int]]:
    """Split the token stream into chunks of whole sentences of about `chunk_tokens` tokens."""
    bounds, start = [], 0
    while start < sentence_ends[-1]:
        stop_index = np.searchsorted(sentence_ends, start + chunk_tokens, side="left")
        stop = int(sentence_ends[min(stop_index, len(sentence_ends) - 1)])
        bounds.append((start, stop))
        start = stop
    return bounds


def fixed_chunk_bounds(sentence_ends: np.ndarray, chunk_tokens: int) -> list[tuple[int, int]]:
    """Chunks of whole sentences of at most `chunk_tokens` tokens each (as many sentences as fit; every
    sentence must be at most that long)."""
    bounds, start = [], 0
    while start < sentence_ends[-1]:
        stop = int(sentence_ends[np.searchsorted(sentence_ends, start + chunk_tokens, side="right") - 1])
        if stop <= start:
            raise ValueError(f"a sentence at token {start} is longer than the {chunk_tokens} tokens of a chunk")
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


def chunk_centres(ids: np.ndarray, sentence_ends: np.ndarray, start: int, stop: int, sampling: Sampling,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Subsample tokens [start, stop), then draw each kept centre's window (in that RNG order):
    (kept_N positions in the chunk, kept_ids_N, sentence_N of each kept token, window_N)."""
    chunk_ids = ids[start:stop]
    kept = np.flatnonzero(subsample_mask(chunk_ids, sampling.keep_V, rng))
    sentence = chunk_sentence_ids(sentence_ends, start, stop, stop - start)[kept]
    return kept, chunk_ids[kept], sentence, reduced_windows(len(kept), sampling.window, rng, sampling.shrink_windows)


def chunk_windows(ids: np.ndarray, sentence_ends: np.ndarray, start: int, stop: int, sampling: Sampling,
                  rng: np.random.Generator, reach: int | None = None):
    """`chunk_centres` with every kept centre's context slots out to `reach` (default the window):
    (kept_N positions in the chunk, kept_ids_N, context slots_NxO into the kept tokens, valid_NxO)."""
    kept, kept_ids, sentence, windows_N = chunk_centres(ids, sentence_ends, start, stop, sampling, rng)
    slots, valid = window_slots(sentence, windows_N, reach or sampling.window)
    return kept, kept_ids, slots, valid
