"""word2vec training examples, produced on the host in fixed-shape blocks for one jitted call.

Per chunk of whole sentences (data.windows: its own RNG stream, subsampling, reduced windows), the
examples come in word2vec.c's order (centre by centre, offsets −b..+b):
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

from jaxembed.data.windows import CHUNK_TOKENS, Sampling, chunk_bounds, chunk_rng, chunk_windows


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


def word2vec_examples(ids: np.ndarray, sentence_ends: np.ndarray, start: int, stop: int, sampling: Sampling,
                      windows: bool, rng: np.random.Generator):
    """Examples of tokens [start, stop): (hidden_ExC, hidden_mask_ExC, outputs_E, negatives_ExK, positions_E).

    windows: one example per centre window (else per pair, module docstring); positions_E: index
    of each example's centre token in the corpus (before subsampling).
    """
    kept, kept_ids, slots, valid = chunk_windows(ids, sentence_ends, start, stop, sampling, rng)
    if windows:
        centre = np.flatnonzero(valid.any(axis=1))
        hidden, mask = kept_ids[slots[centre]], valid[centre]
    else:
        centre, slot = np.nonzero(valid)
        hidden, mask = kept_ids[slots[centre, slot]][:, None], np.ones((len(centre), 1), bool)
    negatives = sampling.noise.sample((len(centre), sampling.negative), rng)
    return hidden, mask, kept_ids[centre], negatives, (start + kept[centre]).astype(np.int64)


def example_blocks(ids: np.ndarray, sentence_ends: np.ndarray, sampling: Sampling, *, windows: bool, batch_size: int,
                   batches: int, seed: int, epoch: int, chunk_tokens: int = CHUNK_TOKENS) -> Iterator[ExampleBlock]:
    """Yield an epoch of examples (pairs, or `windows`) as `ExampleBlock`s of `batches` micro-batches of
    `batch_size` examples (the last one padded)."""
    block_size = batch_size * batches
    offset = epoch * len(ids)
    carry: tuple[np.ndarray, ...] | None = None
    for index, (start, stop) in enumerate(chunk_bounds(sentence_ends, chunk_tokens)):
        parts = word2vec_examples(ids, sentence_ends, start, stop, sampling, windows, chunk_rng(seed, epoch, index))
        if carry is not None:
            parts = tuple(np.concatenate([c, p]) for c, p in zip(carry, parts))
        full = len(parts[0]) // block_size * block_size
        for s in range(0, full, block_size):
            yield make_block([a[s:s + block_size] for a in parts], offset, batch_size, batches)
        carry = tuple(a[full:] for a in parts)
    if carry is not None and len(carry[0]):
        yield make_block(list(carry), offset, batch_size, batches)


def make_block(parts: list[np.ndarray], offset: int, batch_size: int, batches: int) -> ExampleBlock:
    """Pad (hidden, mask, outputs, negatives, positions) up to M·P examples and reshape to (M, P, ...)."""
    m, p = batches, batch_size
    *arrays, positions = parts
    pad = m * p - len(positions)
    hidden, mask, outputs, negatives = (
        np.concatenate([a, np.zeros((pad,) + a.shape[1:], a.dtype)]).reshape((m, p) + a.shape[1:]) for a in arrays)
    batch_starts = (positions[np.minimum(np.arange(m) * p, len(positions) - 1)] + offset).astype(np.float32)
    return ExampleBlock(hidden, mask, outputs, negatives, batch_starts)
