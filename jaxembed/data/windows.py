"""Training windows of word2vec and fastText, drawn on the host: the epoch's sentence order, chunks of whole
sentences, and per chunk the subsampled centres with their (reduced) windows.

One epoch = the corpus in order (or its sentences in a random order per epoch, `epoch_sentences`),
in chunks of whole sentences. Each chunk has its own RNG stream (`seed, epoch, chunk`), so any chunk
can be regenerated: it subsamples, then draws a reduced window per kept centre, in that order.
data.word2vec_examples and data.fasttext_examples turn a chunk's windows into examples.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from jaxembed.data.sampling import AliasTable, reduced_windows, subsample_mask

CHUNK_TOKENS = 1 << 16


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


def chunk_windows(ids: np.ndarray, sentence_ends: np.ndarray, start: int, stop: int, sampling: Sampling,
                  rng: np.random.Generator):
    """Subsample tokens [start, stop), then draw each kept centre's window (in that RNG order):
    (kept_N positions in the chunk, kept_ids_N, context slots_NxO into the kept tokens, valid_NxO)."""
    chunk_ids = ids[start:stop]
    kept = np.flatnonzero(subsample_mask(chunk_ids, sampling.keep_V, rng))
    sentence = chunk_sentence_ids(sentence_ends, start, stop, stop - start)[kept]
    windows_N = reduced_windows(len(kept), sampling.window, rng, sampling.shrink_windows)
    slots, valid = window_slots(sentence, windows_N, sampling.window)
    return kept, chunk_ids[kept], slots, valid


