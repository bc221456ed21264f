"""word2vec training examples, produced on the host in fixed-shape blocks for one jitted call.

Per chunk of whole sentences (data.windows: its own RNG stream, subsampling, reduced windows), the
examples come in word2vec.c's order (centre by centre, offsets −b..+b):
- pairs (skip-gram with negative sampling): one example per (context, centre) pair, hidden row =
  the context word (C = 1), with `negative` noise words per pair as word2vec draws them;
- windows (CBOW; skip-gram with hierarchical softmax only): one example per centre with at least
  one context word, hidden rows = its 2·window context slots (masked; past window 32 only out to the
  longest sentence − 1, `windows.example_reach`), `negative` noise words per centre (CBOW's draw).
  For skip-gram-HS a window holds exactly the pairs of that centre, all predicting the same Huffman
  path.

A chunk's examples are made a piece of centres at a time (`example_pieces`), so memory stays bounded
however large the window; the pieces join into exactly the chunk's examples and draws.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from jaxembed.data.windows import (CHUNK_TOKENS, WINDOW_SLOTS, Sampling, block_batches, centre_pieces, chunk_bounds,
                                   chunk_centres, chunk_rng, context_reach, example_reach, window_slots)


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


def example_pieces(ids: np.ndarray, sentence_ends: np.ndarray, start: int, stop: int, sampling: Sampling, windows: bool,
                   rng: np.random.Generator, reach: int | None = None,
                   piece_slots: int = WINDOW_SLOTS) -> Iterator[tuple[np.ndarray, ...]]:
    """Examples of tokens [start, stop) in pieces of consecutive centres, each laying out at most `piece_slots`
    context slots out to `reach` (default the window): (hidden_ExC, hidden_mask_ExC, outputs_E, negatives_ExK,
    positions_E) per piece.

    windows: one example per centre window (else per pair, module docstring); positions_E: index of each
    example's centre token in the corpus (before subsampling). Each piece draws its noise words in turn from
    the chunk's stream, so the pieces joined are exactly the chunk's examples made in one piece.
    """
    reach = reach or sampling.window
    kept, kept_ids, sentence, windows_N = chunk_centres(ids, sentence_ends, start, stop, sampling, rng)
    for piece in centre_pieces(len(kept), 2 * reach, piece_slots):
        slots, valid = window_slots(sentence, windows_N, reach, piece)
        if windows:
            local = np.flatnonzero(valid.any(axis=1))
            hidden, mask = kept_ids[slots[local]], valid[local]
        else:
            local, slot = np.nonzero(valid)
            hidden, mask = kept_ids[slots[local, slot]][:, None], np.ones((len(local), 1), bool)
        centre = piece.start + local
        negatives = sampling.noise.sample((len(centre), sampling.negative), rng)
        yield hidden, mask, kept_ids[centre], negatives, (start + kept[centre]).astype(np.int64)


def word2vec_examples(ids: np.ndarray, sentence_ends: np.ndarray, start: int, stop: int, sampling: Sampling,
                      windows: bool, rng: np.random.Generator, reach: int | None = None) -> tuple[np.ndarray, ...]:
    """All examples of tokens [start, stop) at once: `example_pieces` joined."""
    pieces = example_pieces(ids, sentence_ends, start, stop, sampling, windows, rng, reach)
    return tuple(map(np.concatenate, zip(*pieces)))


def example_bytes(width: int, negative: int) -> int:
    """Bytes of one example in a block: hidden ids and mask (width each), output, noise words."""
    return 5 * width + 4 + 4 * negative


SIZE_GROUP_BATCHES = 16
"""Micro-batches' worth of consecutive windows that `by_size` puts in order of size together: a fixed count, so the
order, and so the vectors, do not depend on how many micro-batches a block (one jitted call) holds."""


def example_blocks(ids: np.ndarray, sentence_ends: np.ndarray, sampling: Sampling, *, windows: bool, batch_size: int,
                   batches: int, seed: int, epoch: int, chunk_tokens: int = CHUNK_TOKENS,
                   piece_slots: int = WINDOW_SLOTS, by_size: bool = False) -> Iterator[ExampleBlock]:
    """Yield an epoch of examples (pairs, or `windows`) as `ExampleBlock`s of `batches` micro-batches of
    `batch_size` examples (the last one padded); fewer micro-batches when a block would exceed
    `windows.BLOCK_BYTES` (very wide windows). `by_size`: the windows of every SIZE_GROUP_BATCHES micro-batches in
    order of size (`by_window_size`)."""
    reach = (example_reach(sampling.window, sentence_ends, chunk_tokens) if windows
             else context_reach(sampling.window, sentence_ends))
    batches = block_batches(batches, batch_size * example_bytes(2 * reach if windows else 1, sampling.negative))
    offset = epoch * len(ids)
    pieces = (parts for index, (start, stop) in enumerate(chunk_bounds(sentence_ends, chunk_tokens))
              for parts in example_pieces(ids, sentence_ends, start, stop, sampling, windows,
                                          chunk_rng(seed, epoch, index), reach, piece_slots))
    if by_size:
        pieces = (by_window_size(*group) for group in regrouped(pieces, SIZE_GROUP_BATCHES * batch_size))
    for parts in regrouped(pieces, batch_size * batches):
        yield make_block(list(parts), offset, batch_size, batches)


def regrouped(pieces: Iterator[tuple[np.ndarray, ...]], size: int) -> Iterator[tuple[np.ndarray, ...]]:
    """The examples of `pieces` (arrays along the examples) in groups of exactly `size` examples, the last one shorter."""
    carry: tuple[np.ndarray, ...] | None = None
    for parts in pieces:
        if carry is not None:
            parts = tuple(np.concatenate([c, p]) for c, p in zip(carry, parts))
        full = len(parts[0]) // size * size
        for s in range(0, full, size):
            yield tuple(a[s:s + size] for a in parts)
        carry = tuple(a[full:] for a in parts)
    if carry is not None and len(carry[0]):
        yield carry


def make_block(parts: list[np.ndarray], offset: int, batch_size: int, batches: int) -> ExampleBlock:
    """Pad (hidden, mask, outputs, negatives, positions) up to M·P examples and reshape to (M, P, ...)."""
    m, p = batches, batch_size
    *arrays, positions = parts
    pad = m * p - len(positions)
    hidden, mask, outputs, negatives = (
        np.concatenate([a, np.zeros((pad,) + a.shape[1:], a.dtype)]).reshape((m, p) + a.shape[1:]) for a in arrays)
    batch_starts = (positions[np.minimum(np.arange(m) * p, len(positions) - 1)] + offset).astype(np.float32)
    return ExampleBlock(hidden, mask, outputs, negatives, batch_starts)


def by_window_size(hidden_ExC: np.ndarray, mask_ExC: np.ndarray, outputs_E: np.ndarray, negatives_ExK: np.ndarray,
                   positions_E: np.ndarray) -> tuple[np.ndarray, ...]:
    """Window examples in order of their number of real context slots (stable), each window's real slots first and
    its padding slots pointing at row 0; positions_E stays in corpus order, so the learning rate of a micro-batch is
    that of its place in the corpus. Micro-batches then hold windows of one size, and the skip-gram step computes
    each over the slots its largest window fills (models.word2vec.width_branch): for word2vec's reduced windows
    (2b slots, b ~ U{1..window}) about (window + 1) / (2 · window) of the slots. The examples and their noise words are
    the same; only their order, and so which of them share a micro-batch, changes."""
    sizes_E = mask_ExC.sum(axis=1, dtype=np.min_scalar_type(mask_ExC.shape[1]))  # ≤ 16 bits: a radix sort
    order_E = np.argsort(sizes_E, kind="stable")
    packed_ExC = np.arange(mask_ExC.shape[1]) < sizes_E[order_E][:, None]
    packed_hidden_ExC = np.zeros_like(hidden_ExC)
    packed_hidden_ExC[packed_ExC] = hidden_ExC[order_E][mask_ExC[order_E]]  # row by row, in slot order
    return packed_hidden_ExC, packed_ExC, outputs_E[order_E], negatives_ExK[order_E], positions_E
