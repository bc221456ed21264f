"""word2vec as a model plug-in: skip-gram or CBOW, with negative sampling and/or hierarchical softmax.

The step gathers rows, takes the hand-derived gradients of the pure logistic loss (losses.logistic) on
the objective's targets (losses.sgns: the centre and its noise words; losses.hsoftmax: the centre's
Huffman path), and row SGD scatters the updates into the donated tables; `lax.scan` runs M
micro-batches of P examples per call, so the per-call dispatch cost is amortised while updates stay
close to word2vec's sequential SGD. Skip-gram and CBOW differ only in the hidden rows (one context
word, or the masked mean of the window); negative sampling and hierarchical softmax only in the target
rows, and both can be on. Examples come from data.word2vec_examples (host), or are made on the device
from chunks of token ids (data.device_examples, `device_examples`), the default on GPUs and TPUs.
Large micro-batches use the count-aware row SGD (optim.sparse, `max_row_updates`).
"""
from __future__ import annotations

import functools
import itertools
import os

import flax
import jax
import jax.numpy as jnp
import numpy as np

from jaxembed.chunks import GATHER_CHUNK_VALUES, WHOLE_GATHER_VALUES, chunk_size, map_chunks
from jaxembed.config import Word2VecConfig
from jaxembed.data.corpus import PreparedCorpus, prepare_corpus
from jaxembed.data.device_examples import DEVICE_CHUNK_TOKENS, chunk_examples, chunk_key, micro_batch, sampling_arrays
from jaxembed.data.huffman import HuffmanTree, build_huffman
from jaxembed.data.sampling import keep_probabilities, noise_table
from jaxembed.data.windows import Sampling, epoch_sentences
from jaxembed.data.word2vec_examples import example_blocks
from jaxembed.errors import ConfigError
from jaxembed.io.state import STATE_NAME, EarlierTables, earlier_tables, save_state
from jaxembed.losses.cbow import cbow_hidden, context_row_updates
from jaxembed.losses.hsoftmax import hs_targets
from jaxembed.losses.logistic import (logistic_coefficients, logistic_grads, logistic_hidden_grads,
                                      window_logistic_grads)
from jaxembed.losses.sgns import sgns_targets
from jaxembed.models.base import Block, Model, Outputs, chunk_blocks, update_tables
from jaxembed.optim.sparse import RowOptimizer, sgd_rows, word2vec_schedule
from jaxembed.parallel import (EXAMPLES, MICRO_BATCH, SHARED, FactoredRowUpdate, Generator, RowUpdate,
                               sharded_batch_size)
from jaxembed.vectors import Vectors

@flax.struct.dataclass
class Word2VecState:
    """syn0_VxD: input (word) vectors; syn1_RxD: output rows — word2vec's syn1 (V−1 Huffman inner
    nodes) when hs is on, followed by syn1neg (V rows) when negative > 0."""

    syn0_VxD: jax.Array
    syn1_RxD: jax.Array


def output_rows(vocab_size: int, hs: bool, negative: int) -> int:
    return (vocab_size - 1 if hs else 0) + (vocab_size if negative else 0)


INIT_ROWS = 1 << 13


def init_word2vec(seed: int, vocab_size: int, dim: int, output_size: int, rows_per_draw: int = INIT_ROWS) -> Word2VecState:
    """word2vec init: syn0 ~ U(−0.5/D, 0.5/D), output rows (syn1, syn1neg) = 0.

    syn0 is drawn `rows_per_draw` rows at a time (block b from fold_in(key(seed), b)) into the
    donated table, so the peak memory is the table plus one block rather than several V×D temporaries.
    """
    key, syn0 = jax.random.key(seed), jnp.zeros((vocab_size, dim), jnp.float32)
    for block, start in enumerate(range(0, vocab_size, rows_per_draw)):
        syn0 = draw_rows(syn0, jax.random.fold_in(key, block), start, min(rows_per_draw, vocab_size - start))
    return Word2VecState(syn0, jnp.zeros((output_size, dim), jnp.float32))


@functools.partial(jax.jit, static_argnums=3, donate_argnums=0)
def draw_rows(table_VxD: jax.Array, key: jax.Array, start: jax.Array, rows: int) -> jax.Array:
    """table_VxD with rows [start, start + rows) drawn from U(−0.5/D, 0.5/D)."""
    dim = table_VxD.shape[1]
    block_RxD = jax.random.uniform(key, (rows, dim), jnp.float32, -0.5 / dim, 0.5 / dim)
    return jax.lax.dynamic_update_slice(table_VxD, block_RxD, (start, 0))


def huffman_paths(tree: HuffmanTree | None) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(codes_VxL float32, points_VxL int32, mask_VxL float32) on the device; empty (1, 0) arrays without HS."""
    if tree is None:
        empty = jnp.zeros((1, 0), jnp.float32)
        return empty, empty.astype(jnp.int32), empty
    return (jnp.asarray(tree.codes_VxL, jnp.float32), jnp.asarray(tree.points_VxL),
            jnp.asarray(tree.mask_VxL, jnp.float32))


LAYOUT = (EXAMPLES, EXAMPLES, EXAMPLES, EXAMPLES, MICRO_BATCH, SHARED, SHARED, SHARED)
"""Step inputs: hidden ids, hidden mask, outputs, negatives (P examples each), corpus words done before each
micro-batch, and the Huffman paths' codes, points and mask."""

def hidden_mode(config: Word2VecConfig) -> str:
    """How an example's hidden rows form h: CBOW's masked mean or sum, or skip-gram's one h per row."""
    if config.cbow:
        return "mean" if config.cbow_mean else "sum"
    return "each"


def example_targets(outputs_P: jax.Array, negatives_PxK: jax.Array, valid_P: jax.Array, paths: tuple, hs: bool,
                    ns_offset: int):
    """(ids_PxT, labels_PxT, weights_PxT): Huffman path nodes then, for negative sampling, the centre and
    its noise words at output rows offset by `ns_offset`."""
    parts = []
    if hs:
        parts.append(hs_targets(outputs_P, valid_P, *paths))
    if negatives_PxK.shape[1]:
        ids, labels, weights = sgns_targets(outputs_P, negatives_PxK, valid_P)
        parts.append((ids + ns_offset, labels, weights))
    return tuple(jnp.concatenate(p, axis=1) for p in zip(*parts))


WIDTH_BRANCHES = 5
"""How many slot widths a window micro-batch's step is compiled for (`slot_widths`)."""


def slot_widths(slots: int) -> tuple[int, ...]:
    """The widths, ascending and ending at `slots`, that the step of a micro-batch of `slots` context slots per example
    is compiled for: ⌈slots · j / n⌉ for j = 1..n, n = min(WIDTH_BRANCHES, slots) (window 5: 2, 4, 6, 8, 10)."""
    n = min(WIDTH_BRANCHES, slots)
    return tuple(sorted({-(-slots * j // n) for j in range(1, n + 1)}))


def width_branch(real_PxC: jax.Array, widths: tuple[int, ...]) -> jax.Array:
    """The index of the narrowest width in `widths` that holds every real slot of the micro-batch: slots past its
    last real one (in any example) are all padding, and the step of that width leaves them out."""
    last_real = jnp.max(jnp.where(real_PxC, jnp.arange(1, real_PxC.shape[1] + 1), 0))
    return jnp.searchsorted(jnp.asarray(widths), last_real)


def hidden_grads(syn0_VxD: jax.Array, *, hidden_PxC: jax.Array, real_PxC: jax.Array, out_PxTxD: jax.Array,
                 labels_PxT: jax.Array, weights_PxT: jax.Array, optimizer: RowOptimizer, mode: str,
                 width: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(drows_PxCxD, dout_PxTxD, loss sum) of P examples from their first `width` hidden slots (`row_updates`), the
    gradients of the slots past them zero."""
    mask_PxW = real_PxC[:, :width].astype(jnp.float32)
    rows_PxWxD = optimizer.rows(syn0_VxD, hidden_PxC[:, :width])
    if mode == "each":
        drows_PxWxD, dout_PxTxD, loss_P = window_logistic_grads(rows_PxWxD, mask_PxW, out_PxTxD, labels_PxT, weights_PxT)
    else:
        h_PxD = cbow_hidden(rows_PxWxD, mask_PxW, mean=mode == "mean")
        dh_PxD, dout_PxTxD, loss_P = logistic_grads(h_PxD, out_PxTxD, labels_PxT, weights_PxT)
        drows_PxWxD = context_row_updates(dh_PxD, mask_PxW)
    past_width = jnp.zeros((drows_PxWxD.shape[0], hidden_PxC.shape[1] - width, drows_PxWxD.shape[2]), drows_PxWxD.dtype)
    return jnp.concatenate([drows_PxWxD, past_width], axis=1), dout_PxTxD, jnp.sum(loss_P)


def row_updates(state: Word2VecState, batch: tuple, *, optimizer: RowOptimizer, hs: bool, ns_offset: int,
                mode: str) -> tuple[tuple[RowUpdate | FactoredRowUpdate, ...], jax.Array]:
    """Row gradients of P examples from the current tables: h from the hidden rows, logistic gradients.

    mode "mean"/"sum" (CBOW): one h per example, and every hidden row receives ∂L/∂h (word2vec.c's
    rule; see losses.cbow). mode "each" (skip-gram): every real hidden row is its own h against the
    example's targets (C = 1 for pairs; C = 2·window for a centre's window against its Huffman path,
    which gathers the path once per centre instead of once per pair).
    Skip-gram's window micro-batch is computed over its first w slots only, w the narrowest of `slot_widths(C)`
    holding all its real slots (`width_branch`): the host packs each window's real slots first and gathers windows of
    equal size into the same micro-batches (data.word2vec_examples.by_window_size), so most need fewer than C slots.
    Returns ((syn0 ids_PC, grads_PCxD), (syn1 ids_PT, grads_PTxD)) in example-major order, and the loss sum.
    A micro-batch of more than WHOLE_GATHER_VALUES gathered floats is taken a chunk at a time (`chunked_row_updates`;
    skip-gram's windows by `whole_row_updates` on each chunk).
    """
    hidden_PxC, real_PxC, outputs_P, negatives_PxK, _, *paths = batch
    slots, dim, targets = hidden_PxC.shape[1], state.syn0_VxD.shape[1], target_count(negatives_PxK, paths, hs)
    chunk = chunk_size(hidden_PxC.shape[0], (slots + targets) * dim, GATHER_CHUNK_VALUES, WHOLE_GATHER_VALUES)
    settings = dict(optimizer=optimizer, hs=hs, ns_offset=ns_offset, mode=mode)
    if chunk == hidden_PxC.shape[0]:
        return whole_row_updates(state, batch, **settings)
    if mode == "each" and slots > 1:
        return map_chunks(lambda examples: whole_row_updates(state, examples + tuple(batch[4:]), **settings),
                          (hidden_PxC, real_PxC, outputs_P, negatives_PxK), chunk)
    return chunked_row_updates(state, batch, chunk, **settings)


def target_count(negatives_PxK: jax.Array, paths: tuple, hs: bool) -> int:
    """T, the output rows of an example: its Huffman path's nodes (padded), then the centre and its K noise words."""
    return (paths[1].shape[1] if hs else 0) + (1 + negatives_PxK.shape[1] if negatives_PxK.shape[1] else 0)


def whole_row_updates(state: Word2VecState, batch: tuple, *, optimizer: RowOptimizer, hs: bool, ns_offset: int,
                      mode: str) -> tuple[tuple[RowUpdate, RowUpdate], jax.Array]:
    """`row_updates` of the micro-batch in one piece, with every gradient formed."""
    hidden_PxC, real_PxC, outputs_P, negatives_PxK, _, *paths = batch
    targets_PxT, labels_PxT, weights_PxT = example_targets(outputs_P, negatives_PxK, real_PxC.any(axis=1), paths, hs,
                                                           ns_offset)
    slots, dim = hidden_PxC.shape[1], state.syn0_VxD.shape[1]
    out_PxTxD = optimizer.rows(state.syn1_RxD, targets_PxT)
    widths = slot_widths(slots) if mode == "each" else (slots,)
    branches = [functools.partial(hidden_grads, hidden_PxC=hidden_PxC, real_PxC=real_PxC, out_PxTxD=out_PxTxD,
                                  labels_PxT=labels_PxT, weights_PxT=weights_PxT, optimizer=optimizer, mode=mode,
                                  width=width) for width in widths]
    drows_PxCxD, dout_PxTxD, loss = (branches[0](state.syn0_VxD) if len(branches) == 1 else
                                     jax.lax.switch(width_branch(real_PxC, widths), branches, state.syn0_VxD))
    # skip-gram on windows: an output row's gradient sums the window's pairs, and counts as that many
    terms_PxT = (jnp.sum(real_PxC, axis=1, dtype=jnp.int32)[:, None] * (weights_PxT > 0) if mode == "each"
                 and slots > 1 else None)
    return ((RowUpdate(hidden_PxC.reshape(-1), drows_PxCxD.reshape(-1, dim)),
             RowUpdate(targets_PxT.reshape(-1), dout_PxTxD.reshape(-1, dim),
                       None if terms_PxT is None else terms_PxT.reshape(-1))), loss)


def chunked_row_updates(state: Word2VecState, batch: tuple, chunk: int, *, optimizer: RowOptimizer, hs: bool,
                        ns_offset: int, mode: str) -> tuple[tuple[FactoredRowUpdate, FactoredRowUpdate], jax.Array]:
    """`row_updates` of a large micro-batch of pairs (skip-gram, C = 1) or CBOW windows, `chunk` examples at a time
    (jaxembed.chunks), every chunk reading the tables as they were before the micro-batch. The output rows' gradients
    g_pt h_p come as factors (FactoredRowUpdate of the coefficients g_PxT and the hidden vectors h_PxD), and so do the
    hidden rows' m_pc ∂L/∂h_p (a pair's context row, CBOW's window), so no (P, T, D) array is formed and none is scaled
    whole: the optimiser forms the values as it adds them, in this step's chunks (`FactoredRowUpdate.chunk`).
    (Skip-gram's windows are taken a chunk at a time by `whole_row_updates`, whose width branches skip the padding slots
    of windows ordered by size.)"""
    hidden_PxC, real_PxC, outputs_P, negatives_PxK, _, *paths = batch

    def chunk_updates(arrays):
        hidden_cxC, real_cxC, outputs_c, negatives_cxK = arrays
        targets_cxT, labels_cxT, weights_cxT = example_targets(outputs_c, negatives_cxK, real_cxC.any(axis=1), paths, hs,
                                                               ns_offset)
        out_cxTxD = optimizer.rows(state.syn1_RxD, targets_cxT)
        rows_cxCxD, mask_cxC = optimizer.rows(state.syn0_VxD, hidden_cxC), real_cxC.astype(jnp.float32)
        h_cxD = rows_cxCxD[:, 0] if mode == "each" else cbow_hidden(rows_cxCxD, mask_cxC, mean=mode == "mean")
        g_cxT, loss_c = logistic_coefficients(h_cxD, out_cxTxD, labels_cxT, weights_cxT)
        dh_cxD = logistic_hidden_grads(g_cxT, out_cxTxD)
        hidden = FactoredRowUpdate(hidden_cxC, mask_cxC[:, None, :], dh_cxD[:, None, :], chunk=chunk)
        outputs = FactoredRowUpdate(targets_cxT, g_cxT[:, None, :], h_cxD[:, None, :], chunk=chunk)
        return (hidden, outputs), jnp.sum(loss_c)

    return map_chunks(chunk_updates, (hidden_PxC, real_PxC, outputs_P, negatives_PxK), chunk)


def apply_updates(state: Word2VecState, updates: tuple, batch: tuple, *, optimizer: RowOptimizer,
                  schedule) -> Word2VecState:
    """One optimiser step on syn0 and syn1 at the learning rate of the micro-batch's position in the run."""
    return update_tables(state, updates, optimizer, schedule(batch[4]))


def device_generator(*, seed: int, window: int, negative: int, shrink: bool, windows: bool, batch_size: int,
                     count_pairs: bool) -> Generator:
    """The device-side generator (data.device_examples) of chunks laid out as `device_blocks` ships them:
    (ids_T, sentence_T, start, epoch, chunk, keep_V, threshold_V, alias_V, *Huffman paths). A chunk's loss is
    reported against its examples, or with `count_pairs` (skip-gram on windows) its pairs."""

    def chunk(ids_T, sentence_T, start, epoch, index, keep_V, *_):
        examples, count = chunk_examples(ids_T, sentence_T, start, chunk_key(seed, epoch, index), keep_V, window=window,
                                         shrink=shrink, windows=windows, batch_size=batch_size)
        return examples, count, jnp.sum(examples.hidden_mask_MxPxC, dtype=jnp.int32) if count_pairs else count

    def batch(examples, index, ids_T, sentence_T, start, epoch, chunk_index, keep_V, threshold_V, alias_V, *paths):
        return micro_batch(examples, index, threshold_V, alias_V, negative=negative) + tuple(paths)

    return Generator(chunk, batch, batch_size)


def read_corpus(path: str | os.PathLike, config: Word2VecConfig) -> PreparedCorpus:
    """Lines are sentences, cut every `max_sentence_length` words. With `init_from`, the earlier run's words join the
    vocabulary (all of them, their counts added to this corpus's; data.vocab.build_vocab)."""
    known = earlier_tables(config.init_from, "word2vec").known_counts() if config.init_from else None
    return prepare_corpus(path, config.min_count, config.max_vocab_size, config.max_sentence_length, known=known)


def continued_tables(tables: Word2VecState, earlier: EarlierTables, words: list[str], ns_offset: int | None) -> Word2VecState:
    """`tables` with each word of the earlier run given its earlier input row, and its earlier negative-sampling output
    row where it was saved and `ns_offset` (where syn1neg starts) is not None. Hierarchical softmax's node rows stay
    zero: the tree is rebuilt from the merged counts, so its nodes are not the earlier ones."""
    new, old = earlier.shared_rows(words)
    syn0, syn1 = tables.syn0_VxD.at[new].set(earlier.input_VxD[old]), tables.syn1_RxD
    if ns_offset is not None and earlier.output_VxD is not None:
        syn1 = syn1.at[ns_offset + new].set(earlier.output_VxD[old])
    return Word2VecState(syn0, syn1)


def corpus_sampling(counts_V: np.ndarray, config: Word2VecConfig) -> Sampling:
    """How examples are drawn from a corpus whose vocabulary has these counts: keep probabilities from `sample`,
    noise ∝ count^noise_power, the config's windows and negatives."""
    return Sampling(keep_probabilities(counts_V, config.sample), noise_table(counts_V, config.noise_power), config.window,
                    config.negative, config.shrink_windows)


def build(corpus: PreparedCorpus, config: Word2VecConfig, devices: int) -> Model:
    """The model of `config` on `corpus`, its micro-batch split over `devices`."""
    config = config.resolved()
    vocab, ids = corpus.vocab, corpus.ids_N
    sampling = corpus_sampling(vocab.counts, config)
    paths = huffman_paths(build_huffman(vocab.counts) if config.hs else None)
    optimizer = sgd_rows(config.max_row_updates or None)
    schedule = word2vec_schedule(config.alpha, config.min_alpha, len(ids) * config.epochs)
    mode = hidden_mode(config)
    batch_size = sharded_batch_size(config.batch_size, devices)

    earlier = earlier_tables(config.init_from, "word2vec") if config.init_from else None
    if earlier is not None and earlier.dim != config.dim:
        raise ConfigError(f"init_from {config.init_from!r} holds vectors of dim {earlier.dim}; set dim to {earlier.dim}")
    ns_offset = len(vocab) - 1 if config.hs else 0

    def init() -> Word2VecState:
        tables = init_word2vec(config.seed, len(vocab), config.dim, output_rows(len(vocab), config.hs, config.negative))
        if earlier is not None:
            tables = continued_tables(tables, earlier, vocab.strings, ns_offset if config.negative else None)
        return jax.tree.map(optimizer.init, tables)

    def host_blocks(epoch: int, skip: int):
        epoch_ids, epoch_ends = epoch_sentences(ids, corpus.sentence_ends_S, config.seed, epoch, config.shuffle)
        epoch_blocks = example_blocks(epoch_ids, epoch_ends, sampling, windows=config.window_examples,
                                      batch_size=batch_size, batches=config.batches_per_call, seed=config.seed, epoch=epoch,
                                      by_size=config.window_examples and mode == "each")
        for block in itertools.islice(epoch_blocks, skip, None):
            examples = block.num_hidden if mode == "each" else block.num_examples  # skip-gram: pairs; CBOW: centres
            yield Block(block.arrays() + paths, examples, int(block.words_done_M[-1]))

    device = config.device_examples
    tables = tuple(map(jnp.asarray, sampling_arrays(sampling))) if device else ()
    chunk_tokens = max(DEVICE_CHUNK_TOKENS, config.max_sentence_length)

    device_blocks = chunk_blocks(ids, corpus.sentence_ends_S, seed=config.seed, shuffle=config.shuffle,
                                 chunk_tokens=chunk_tokens, tables=tables + paths)

    generator = device_generator(seed=config.seed, window=config.window, negative=config.negative,
                                 shrink=config.shrink_windows, windows=config.window_examples, batch_size=batch_size,
                                 count_pairs=mode == "each")

    def outputs(state: Word2VecState) -> Outputs:
        syn0 = np.asarray(optimizer.params(state.syn0_VxD))
        files = {}
        if config.save_state:
            syn1neg = np.asarray(optimizer.params(state.syn1_RxD))[ns_offset:] if config.negative else None
            tables = EarlierTables(vocab.strings, vocab.counts, syn0, syn1neg, config.model)
            files[STATE_NAME] = lambda path: save_state(path, tables)
        return Outputs(Vectors(vocab.strings, syn0), files)
    return Model(init=init, blocks=device_blocks if device else host_blocks,
                 row_updates=functools.partial(row_updates, optimizer=optimizer, hs=config.hs,
                                               ns_offset=ns_offset, mode=mode),
                 apply_updates=functools.partial(apply_updates, optimizer=optimizer, schedule=schedule),
                 layout=LAYOUT, outputs=outputs, unit="word", units_per_epoch=len(ids),
                 metrics={"batch_size": batch_size, "device_examples": device,
                          **({"continued_words": len(set(earlier.words) & set(vocab.strings))} if earlier else {})},
                 generate=generator if device else None)
