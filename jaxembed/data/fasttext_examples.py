"""fastText training examples, packed into fixed-shape micro-batches on the host.

An example is a kept centre word with at least one context word (after subsampling and the reduced
window, as `data.windows`). Its bag of input rows and its pairs depend on the architecture:
- skip-gram: the bag is the centre's subword rows; one pair per context word (target: that word);
- CBOW: the bag is the subword rows of every context word; one pair (target: the centre).
Each pair has `negative` noise words, redrawn while equal to the target (fastText's getNegative).

Bags and pair lists vary in length, so micro-batches are packed greedily in corpus order: a
micro-batch takes consecutive examples while it holds at most `shape.examples` examples,
`shape.rows` bag rows and `shape.pairs` pairs; the rest is padding (mask False). Every chunk of
the corpus has its own RNG stream (`seed, epoch, chunk`), so the batches are reproducible.

Context slots reach no farther than the longest sentence allows (`windows.context_reach`). Past window
32, micro-batches are sized by that reach rather than the window (`windows.example_reach`), and a
chunk whose windows would exceed `windows.WINDOW_SLOTS` has fewer tokens (`windows.fitted_chunk_tokens`);
both change the batches, so smaller windows keep theirs.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from jaxembed.data.ngrams import SubwordTable
from jaxembed.data.sampling import sample_negatives
from jaxembed.data.windows import (CHUNK_TOKENS, Sampling, block_batches, chunk_bounds, chunk_rng, chunk_windows,
                                   context_reach)


@dataclasses.dataclass(frozen=True)
class PackShape:
    """Static sizes of one micro-batch: examples E, bag rows F, pairs Q."""

    examples: int
    rows: int
    pairs: int


@dataclasses.dataclass(frozen=True)
class ChunkExamples:
    """A chunk's examples, flat: bag rows (rows_R, owner_R), pairs (targets_QxT: target then noise
    words, owner_Q), and each example's centre position in the corpus (positions_E)."""

    rows_R: np.ndarray
    row_owner_R: np.ndarray
    targets_QxT: np.ndarray
    pair_owner_Q: np.ndarray
    positions_E: np.ndarray


@dataclasses.dataclass(frozen=True)
class PackedBlock:
    """M packed micro-batches; owners index examples within their micro-batch.

    rows_MxF / row_owner_MxF / row_mask_MxF: bag rows; targets_MxQxT / pair_owner_MxQ /
    pair_mask_MxQ: pairs; words_done_M: float32 corpus words before each micro-batch (LR schedule).
    """

    rows_MxF: np.ndarray
    row_owner_MxF: np.ndarray
    row_mask_MxF: np.ndarray
    targets_MxQxT: np.ndarray
    pair_owner_MxQ: np.ndarray
    pair_mask_MxQ: np.ndarray
    words_done_M: np.ndarray

    @property
    def num_pairs(self) -> int:
        return int(self.pair_mask_MxQ.sum())

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.rows_MxF, self.row_owner_MxF, self.row_mask_MxF, self.targets_MxQxT, self.pair_owner_MxQ,
                self.pair_mask_MxQ, self.words_done_M)


def fasttext_examples(ids: np.ndarray, sentence_ends: np.ndarray, start: int, stop: int, sampling: Sampling,
                      subwords: SubwordTable, cbow: bool, rng: np.random.Generator,
                      reach: int | None = None) -> ChunkExamples:
    """The examples of tokens [start, stop) (module docstring); RNG draws: subsampling, windows, noise. reach:
    the farthest context slot laid out (default the window; `windows.context_reach`)."""
    kept, kept_ids, slots, valid = chunk_windows(ids, sentence_ends, start, stop, sampling, rng, reach)
    centre_E = np.flatnonzero(valid.any(axis=1))
    context_owner_C, slot_C = np.nonzero(valid[centre_E])
    context_words_C = kept_ids[slots[centre_E[context_owner_C], slot_C]]
    if cbow:
        rows_R, bag_of_context_R = subwords.gather(context_words_C)
        row_owner_R = context_owner_C[bag_of_context_R]
        pair_targets_Q, pair_owner_Q = kept_ids[centre_E], np.arange(len(centre_E))
    else:
        rows_R, row_owner_R = subwords.gather(kept_ids[centre_E])
        pair_targets_Q, pair_owner_Q = context_words_C, context_owner_C
    negatives_QxK = sample_negatives(sampling.noise, pair_targets_Q, sampling.negative, rng)
    targets_QxT = np.concatenate([pair_targets_Q[:, None], negatives_QxK], axis=1).astype(np.int32)
    return ChunkExamples(rows_R.astype(np.int32), row_owner_R, targets_QxT, pair_owner_Q, start + kept[centre_E])


def pack_starts(rows_per_example: np.ndarray, pairs_per_example: np.ndarray, shape: PackShape) -> np.ndarray:
    """First example of every micro-batch, filling each greedily within `shape` (every example must fit alone).

    A micro-batch starting at example i ends before next_i, the first example that would overflow it; the starts
    are the orbit 0, next_0, next_next_0, ..., found by pointer doubling (log2(count) vectorised steps)."""
    count = len(rows_per_example)
    row_ends = np.concatenate([[0], np.cumsum(rows_per_example)])
    pair_ends = np.concatenate([[0], np.cumsum(pairs_per_example)])
    first = np.arange(count)
    last = np.minimum.reduce([first + shape.examples,
                              np.searchsorted(row_ends, row_ends[:-1] + shape.rows, side="right") - 1,
                              np.searchsorted(pair_ends, pair_ends[:-1] + shape.pairs, side="right") - 1])
    jump = np.append(np.minimum(np.maximum(last, first + 1), count), count)  # example → next start; count: the end
    reached = np.zeros(count + 1, bool)
    reached[0] = True
    while True:  # invariant: reached = {jump⁰(0) .. jump^(2^k − 1)(0)} for the original jump, now jump^(2^k)
        frontier = jump[np.flatnonzero(reached)]
        if reached[frontier].all():
            break
        reached[frontier] = True
        jump = jump[jump]
    return np.flatnonzero(reached[:count])


def scatter_packed(values: np.ndarray, owner: np.ndarray, batch_of_example: np.ndarray, first_example: np.ndarray,
                   width: int, batches: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Place items (values, owned by examples in order) into (batches, width, ...) micro-batch slots:
    (packed values, packed local owner, packed mask)."""
    batch = batch_of_example[owner]
    item_starts = np.concatenate([[0], np.flatnonzero(np.diff(batch)) + 1]) if len(batch) else np.zeros(0, np.int64)
    first_item = np.zeros(batches, np.int64)
    first_item[batch[item_starts]] = item_starts
    flat_slot = batch * width + np.arange(len(owner)) - first_item[batch]
    packed = np.zeros((batches * width,) + values.shape[1:], values.dtype)
    local_owner = np.zeros(batches * width, np.int32)
    mask = np.zeros(batches * width, bool)
    packed[flat_slot] = values
    local_owner[flat_slot] = owner - first_example[batch]
    mask[flat_slot] = True
    return packed.reshape((batches, width) + values.shape[1:]), local_owner.reshape(batches, width), \
        mask.reshape(batches, width)


def pack_chunk(examples: ChunkExamples, shape: PackShape, offset: int) -> PackedBlock:
    """All of a chunk's examples as packed micro-batches (the block dimension M = their number)."""
    num_examples = len(examples.positions_E)
    rows_per_example = np.bincount(examples.row_owner_R, minlength=num_examples)
    pairs_per_example = np.bincount(examples.pair_owner_Q, minlength=num_examples)
    if rows_per_example.max() > shape.rows or pairs_per_example.max() > shape.pairs:
        raise ValueError(f"an example of {rows_per_example.max()} rows and {pairs_per_example.max()} pairs "
                         f"does not fit a micro-batch of {shape}")
    starts = pack_starts(rows_per_example, pairs_per_example, shape)
    batch_of_example = np.searchsorted(starts, np.arange(num_examples), side="right") - 1
    rows, row_owner, row_mask = scatter_packed(examples.rows_R, examples.row_owner_R, batch_of_example, starts,
                                               shape.rows, len(starts))
    targets, pair_owner, pair_mask = scatter_packed(examples.targets_QxT, examples.pair_owner_Q, batch_of_example,
                                                    starts, shape.pairs, len(starts))
    words_done = (examples.positions_E[starts] + offset).astype(np.float32)
    return PackedBlock(rows, row_owner, row_mask, targets, pair_owner, pair_mask, words_done)


def concat_blocks(blocks: list[PackedBlock]) -> PackedBlock:
    return PackedBlock(*(np.concatenate(parts) for parts in zip(*(b.arrays() for b in blocks))))


def slice_block(block: PackedBlock, start: int, stop: int) -> PackedBlock:
    return PackedBlock(*(a[start:stop] for a in block.arrays()))


def pad_block(block: PackedBlock, batches: int) -> PackedBlock:
    """Append empty micro-batches (all masks False) up to `batches`; their words_done repeats the last."""
    pad = batches - len(block.words_done_M)
    arrays = [np.concatenate([a, np.zeros((pad,) + a.shape[1:], a.dtype)]) for a in block.arrays()[:-1]]
    words_done = np.concatenate([block.words_done_M, np.full(pad, block.words_done_M[-1], np.float32)])
    return PackedBlock(*arrays, words_done)


def group_parts(block: PackedBlock, parts: int, examples_per_part: int) -> PackedBlock:
    """Join each run of `parts` consecutive packed micro-batches into one micro-batch (M·parts → M):
    widths multiply by `parts`, owners become global (part j's examples follow those of parts < j),
    words_done is the first part's. Splitting the micro-batch into parts (or into any divisor of
    `parts` devices) gives each part whole examples: rows and pairs together."""
    m = len(block.words_done_M) // parts
    offsets = (np.arange(parts) * examples_per_part).astype(np.int32)[None, :, None]

    def join(array, owners=False):
        grouped = array.reshape((m, parts) + array.shape[1:])
        if owners:
            grouped = grouped + offsets
        return grouped.reshape((m, parts * array.shape[1]) + array.shape[2:])

    return PackedBlock(join(block.rows_MxF), join(block.row_owner_MxF, True), join(block.row_mask_MxF),
                       join(block.targets_MxQxT), join(block.pair_owner_MxQ, True), join(block.pair_mask_MxQ),
                       block.words_done_M[::parts])


def packed_bytes(shape: PackShape, negative: int) -> int:
    """Bytes of one packing in a block: bag rows (id, owner, mask) and pairs (target and noise words, owner, mask)."""
    return 9 * shape.rows + (4 * (negative + 1) + 5) * shape.pairs


def packed_blocks(ids: np.ndarray, sentence_ends: np.ndarray, sampling: Sampling, subwords: SubwordTable, *,
                  cbow: bool, shape: PackShape, batches: int, seed: int, epoch: int, parts: int = 1,
                  chunk_tokens: int = CHUNK_TOKENS) -> Iterator[PackedBlock]:
    """Yield an epoch of packed micro-batches in blocks of `batches` (the last one padded; fewer when a block would
    exceed `windows.BLOCK_BYTES`); each micro-batch joins `parts` consecutive packings of `shape` (`group_parts`:
    one per device)."""
    batches = block_batches(batches, parts * packed_bytes(shape, sampling.negative))
    for block in packed_parts(ids, sentence_ends, sampling, subwords, cbow, shape, batches * parts, seed, epoch,
                              chunk_tokens):
        yield group_parts(block, parts, shape.examples)


def packed_parts(ids: np.ndarray, sentence_ends: np.ndarray, sampling: Sampling, subwords: SubwordTable, cbow: bool,
                 shape: PackShape, batches: int, seed: int, epoch: int, chunk_tokens: int) -> Iterator[PackedBlock]:
    """`packed_blocks` before grouping: blocks of `batches` packings of `shape`."""
    offset, pending = epoch * len(ids), None
    reach = context_reach(sampling.window, sentence_ends)
    for index, (start, stop) in enumerate(chunk_bounds(sentence_ends, chunk_tokens)):
        examples = fasttext_examples(ids, sentence_ends, start, stop, sampling, subwords, cbow,
                                     chunk_rng(seed, epoch, index), reach)
        if not len(examples.positions_E):
            continue
        packed = pack_chunk(examples, shape, offset)
        pending = packed if pending is None else concat_blocks([pending, packed])
        full = len(pending.words_done_M) // batches * batches
        for s in range(0, full, batches):
            yield slice_block(pending, s, s + batches)
        pending = slice_block(pending, full, len(pending.words_done_M))
    if pending is not None and len(pending.words_done_M):
        yield pad_block(pending, batches)


def pack_shape(subwords: SubwordTable, token_weights_V: np.ndarray, window: int, batch_size: int, cbow: bool,
               slack: float = 1.5, multiple: int = 64) -> PackShape:
    """Micro-batch sizes: `batch_size` pairs (skip-gram) or examples (CBOW), and bag rows for `slack` ×
    the expected number, rounded up to `multiple` and never below the largest possible example.

    The expected bag of a kept centre holds E[rows] = Σ_w p_w · rows_w rows (p_w: token_weights_V
    normalised, e.g. counts × keep probabilities); a reduced window averages window + 1 contexts.
    `window`: the window, or how far a context word can be (`windows.example_reach`).
    """
    rows_V = subwords.counts_V
    expected_rows = float(np.sum(token_weights_V * rows_V) / np.sum(token_weights_V))
    contexts = window + 1
    if cbow:  # a bag holds every context word's rows
        per_batch, largest = batch_size * contexts * expected_rows, 2 * window * int(rows_V.max())
    else:  # a bag holds the centre's rows; a centre has `contexts` pairs on average
        per_batch, largest = batch_size / contexts * expected_rows, int(rows_V.max())
    rows = max(int(np.ceil(slack * per_batch / multiple)) * multiple, largest)
    return PackShape(batch_size, rows, batch_size)
