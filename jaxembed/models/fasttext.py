"""fastText (unsupervised skip-gram or CBOW with negative sampling) as a model plug-in, on packed micro-batches.

The input table holds the vocabulary rows then `bucket` n-gram rows, U(−1/D, 1/D) as fastText
initialises it; the output table (one row per word) starts at zero. One jitted call runs M packed
micro-batches (data.fasttext_examples) with `lax.scan`; each gathers the bag rows and output rows
it touches, takes the hand-derived gradients of losses.fasttext and row SGD scatters the updates
into the donated tables, so the 2M-row bucket table is never copied or densely updated.
"""
from __future__ import annotations

import functools
import itertools
import os

import flax
import jax
import jax.numpy as jnp
import numpy as np

from jaxembed.chunks import GATHER_CHUNK_VALUES, chunk_size, map_chunks, scan_chunks, taken_whole
from jaxembed.config import FastTextConfig
from jaxembed.data.corpus import PreparedCorpus, prepare_corpus
from jaxembed.data.device_examples import (DEVICE_CHUNK_TOKENS, alias_draws, chunk_examples, chunk_key,
                                           sampling_arrays)
from jaxembed.data.fasttext_examples import pack_shape, packed_blocks
from jaxembed.data.ngrams import EOS, SubwordSpec, SubwordTable, subword_table
from jaxembed.data.sampling import keep_probabilities, noise_table
from jaxembed.data.windows import (CHUNK_TOKENS, Sampling, context_reach, epoch_sentences, example_reach,
                                   fitted_chunk_tokens)
from jaxembed.errors import ConfigError
from jaxembed.io.fasttext import save_fasttext_model, unsupervised_model
from jaxembed.io.state import EarlierTables, earlier_tables
from jaxembed.losses.fasttext import bag_row_updates, bag_sizes, fasttext_grads
from jaxembed.losses.logistic import logistic_coefficients, logistic_hidden_grads
from jaxembed.losses.sgns import sgns_labels
from jaxembed.models.base import Block, Model, Outputs, chunk_blocks, update_tables
from jaxembed.optim.sparse import RowOptimizer, sgd_rows, word2vec_schedule
from jaxembed.parallel import EXAMPLES, MICRO_BATCH, FactoredRowUpdate, Generator, RowUpdate, sharded_batch_size

LAYOUT = (EXAMPLES,) * 6 + (MICRO_BATCH,)
"""Step inputs: bag rows, row owners, row mask, targets, pair owners, pair mask, corpus words done before
each micro-batch."""


@flax.struct.dataclass
class FastTextState:
    """input_RxD: word rows then n-gram bucket rows; output_VxD: one output row per word."""

    input_RxD: jax.Array
    output_VxD: jax.Array


def init_fasttext(seed: int, input_rows: int, vocab_size: int, dim: int) -> FastTextState:
    """fastText's init: input ~ U(−1/D, 1/D), output = 0."""
    bound = 1.0 / dim
    return FastTextState(jax.random.uniform(jax.random.key(seed), (input_rows, dim), jnp.float32, -bound, bound),
                         jnp.zeros((vocab_size, dim), jnp.float32))


def row_updates(state: FastTextState, batch: tuple, *, optimizer: RowOptimizer,
                num_examples: int) -> tuple[tuple[RowUpdate, RowUpdate | FactoredRowUpdate], jax.Array]:
    """Row gradients of a packed micro-batch (or a device's part of one) from the current tables:
    every bag row receives ∂L/∂h (fastText's rule). Returns ((input ids_F, grads_FxD, terms_F), (output
    ids_QT, grads_QTxD)) in example order — padded slots carry zero gradients — and the loss sum. A micro-batch
    whose bag rows and pairs gather more than chunks.WHOLE_GATHER_VALUES floats on a CPU is taken a chunk at a time
    (`chunked_row_updates`)."""
    rows_F, row_owner_F, row_mask_F, targets_QxT, pair_owner_Q, pair_mask_Q, _ = batch
    pairs, targets = targets_QxT.shape
    if not taken_whole((rows_F.shape[0] + pairs * (targets + 1)) * state.output_VxD.shape[1]):
        return chunked_row_updates(state, batch, optimizer=optimizer, num_examples=num_examples)
    row_weight_F = row_mask_F.astype(jnp.float32)
    weights_QxT = jnp.broadcast_to(pair_mask_Q.astype(jnp.float32)[:, None], targets_QxT.shape)
    _, dout_QxTxD, dh_ExD, loss_Q = fasttext_grads(
        optimizer.rows(state.input_RxD, rows_F), row_weight_F, row_owner_F, optimizer.rows(state.output_VxD, targets_QxT),
        sgns_labels(targets - 1), weights_QxT, pair_owner_Q, num_examples)
    drows_FxD = bag_row_updates(dh_ExD, row_weight_F, row_owner_F)
    return ((RowUpdate(rows_F, drows_FxD, bag_row_terms(row_mask_F, row_owner_F, pair_mask_Q, pair_owner_Q, num_examples)),
             RowUpdate(targets_QxT.reshape(-1), dout_QxTxD.reshape(-1, dout_QxTxD.shape[-1]))),
            jnp.sum(loss_Q))


def chunked_row_updates(state: FastTextState, batch: tuple, *, optimizer: RowOptimizer,
                        num_examples: int) -> tuple[tuple[RowUpdate, FactoredRowUpdate], jax.Array]:
    """`row_updates` of a large micro-batch on a CPU, a chunk at a time (jaxembed.chunks), every chunk reading the
    tables as they were before the micro-batch: the bag sums Σ m_f x_f gathered a chunk of bag rows at a time, then
    the pairs' coefficients g_qt a chunk of pairs at a time. An output row's gradient g_qt h_owner(q) comes as factors
    (FactoredRowUpdate of g_QxT and h_QxD), which row SGD forms in the same chunks as it adds them, so no (Q, T, D)
    array is formed; the bag rows' m_f ∂L/∂h_owner(f) are formed whole (F·D floats)."""
    rows_F, row_owner_F, row_mask_F, targets_QxT, pair_owner_Q, pair_mask_Q, _ = batch
    dim = state.input_RxD.shape[1]
    row_weight_F = row_mask_F.astype(jnp.float32)

    def add_bag_rows(sums_ExD, chunk):
        rows_c, owner_c, weight_c = chunk
        return sums_ExD.at[owner_c].add(weight_c[:, None] * optimizer.rows(state.input_RxD, rows_c))

    sums_ExD = scan_chunks(add_bag_rows, jnp.zeros((num_examples, dim), jnp.float32),
                           (rows_F, row_owner_F, row_weight_F), chunk_size(rows_F.shape[0], dim, GATHER_CHUNK_VALUES))
    h_ExD = sums_ExD / bag_sizes(row_weight_F, row_owner_F, num_examples)[:, None]
    labels_T = sgns_labels(targets_QxT.shape[1] - 1)

    def pair_coefficients(chunk):
        targets_cxT, owner_c, mask_c = chunk
        h_cxD, out_cxTxD = h_ExD[owner_c], optimizer.rows(state.output_VxD, targets_cxT)
        weights_cxT = jnp.broadcast_to(mask_c.astype(jnp.float32)[:, None], targets_cxT.shape)
        g_cxT, loss_c = logistic_coefficients(h_cxD, out_cxTxD, labels_T, weights_cxT)
        return (g_cxT, h_cxD, logistic_hidden_grads(g_cxT, out_cxTxD)), jnp.sum(loss_c)

    pairs, targets = targets_QxT.shape
    pair_chunk = chunk_size(pairs, (targets + 1) * dim, GATHER_CHUNK_VALUES)
    (g_QxT, h_QxD, dh_QxD), loss = map_chunks(pair_coefficients, (targets_QxT, pair_owner_Q, pair_mask_Q), pair_chunk)
    dh_ExD = jax.ops.segment_sum(dh_QxD, pair_owner_Q, num_examples)
    terms_F = bag_row_terms(row_mask_F, row_owner_F, pair_mask_Q, pair_owner_Q, num_examples)
    return ((RowUpdate(rows_F, bag_row_updates(dh_ExD, row_weight_F, row_owner_F), terms_F),
             FactoredRowUpdate(targets_QxT, g_QxT[:, None, :], h_QxD[:, None, :], chunk=pair_chunk)), loss)


def bag_row_terms(row_mask_F, row_owner_F, pair_mask_Q, pair_owner_Q, num_examples: int) -> jax.Array:
    """(F,) per-pair gradients each bag row's update sums: its example's number of pairs (skip-gram: the
    centre's context words; CBOW: 1), 0 for padding. fastText updates the bag once per pair, so the
    count-aware rule counts a bag row as that many updates."""
    pairs_E = jax.ops.segment_sum(pair_mask_Q.astype(jnp.int32), pair_owner_Q, num_examples)
    return jnp.where(row_mask_F, pairs_E[row_owner_F], 0)


def apply_updates(state: FastTextState, updates: tuple[RowUpdate, RowUpdate], batch: tuple, *, optimizer: RowOptimizer,
                  schedule) -> FastTextState:
    """One optimiser step on the input (words + buckets) and output tables at the micro-batch's learning rate."""
    return update_tables(state, updates, optimizer, schedule(batch[6]))


def bag_rows(arrays: tuple) -> np.ndarray:
    """The input rows a block (LAYOUT) can change: its bag rows."""
    rows_MxF, _, row_mask_MxF = arrays[:3]
    return rows_MxF[row_mask_MxF]


def padded_subwords(subwords: SubwordTable) -> np.ndarray:
    """(V, S) int32: each word's input rows (its own row, then its n-grams' buckets), −1 after them; S the most
    rows any word has."""
    counts_V = subwords.counts_V
    table_VxS = np.full((len(counts_V), int(counts_V.max())), -1, np.int32)
    owner_R = np.repeat(np.arange(len(counts_V)), counts_V)
    table_VxS[owner_R, np.arange(len(owner_R)) - subwords.offsets_V1[owner_R]] = subwords.rows_R
    return table_VxS


def redrawn_unlike_targets(key: jax.Array, targets_P: jax.Array, noise_PxK: jax.Array, threshold_V: jax.Array,
                           alias_V: jax.Array) -> jax.Array:
    """noise_PxK with every draw equal to its pair's target drawn again until it differs (fastText's getNegative)."""

    def clash(carry):
        return jnp.any(carry[1] == targets_P[:, None])

    def redraw(carry):
        key, noise_PxK = carry
        key, draw_key = jax.random.split(key)
        fresh_PxK = alias_draws(draw_key, noise_PxK.shape, threshold_V, alias_V)
        return key, jnp.where(noise_PxK == targets_P[:, None], fresh_PxK, noise_PxK)

    return jax.lax.while_loop(clash, redraw, (key, noise_PxK))[1]


def device_generator(*, seed: int, window: int, negative: int, centres: int, devices: int) -> Generator:
    """Skip-gram examples made on the device (data.device_examples) from chunks laid out as `token_chunks` ships
    them, plus (keep_V, threshold_V, alias_V, subwords_VxS): an example is a centre word's window, as fastText
    trains it, its bag the centre's subword rows and one pair per context word (target: that word, then
    `negative` noise words). `centres` examples per micro-batch; owners count within each device's share."""
    per_device = centres // devices

    def chunk(ids_T, sentence_T, start, epoch, index, keep_V, *_):
        examples, count = chunk_examples(ids_T, sentence_T, start, chunk_key(seed, epoch, index), keep_V,
                                         window=window, shrink=True, windows=True, batch_size=centres)
        return examples, count, jnp.sum(examples.hidden_mask_MxPxC, dtype=jnp.int32)

    def batch(examples, index, ids_T, sentence_T, start, epoch, chunk_index, keep_V, threshold_V, alias_V, subwords_VxS):
        take = lambda x: jax.lax.dynamic_index_in_dim(x, index, keepdims=False)
        contexts_ExC, real_ExC, centres_E = take(examples.hidden_MxPxC), take(examples.hidden_mask_MxPxC), \
            take(examples.outputs_MxP)
        draw_key, redraw_key = jax.random.split(jax.random.fold_in(examples.noise_key, index))
        targets_Q = contexts_ExC.reshape(-1)
        noise_QxK = redrawn_unlike_targets(redraw_key, targets_Q,
                                           alias_draws(draw_key, (targets_Q.shape[0], negative), threshold_V, alias_V),
                                           threshold_V, alias_V)
        bag_ExS, owner_E = subwords_VxS[centres_E], jnp.arange(centres, dtype=jnp.int32) % per_device
        return (jnp.maximum(bag_ExS, 0).reshape(-1), jnp.repeat(owner_E, bag_ExS.shape[1]),
                ((bag_ExS >= 0) & real_ExC.any(axis=1)[:, None]).reshape(-1),
                jnp.concatenate([targets_Q[:, None], noise_QxK], axis=1), jnp.repeat(owner_E, contexts_ExC.shape[1]),
                real_ExC.reshape(-1), take(examples.words_done_M))

    return Generator(chunk, batch, centres)


def read_corpus(path: str | os.PathLike, config: FastTextConfig) -> PreparedCorpus:
    """fastText's reading: every line ends with the word `</s>`, and is cut after max_line_tokens + 1 tokens. With
    `init_from`, the earlier model's words join the vocabulary (data.vocab.build_vocab)."""
    known = earlier_tables(config.init_from, "fasttext").known_counts() if config.init_from else None
    return prepare_corpus(path, config.min_count, config.max_vocab_size, config.max_line_tokens + 1, eos=EOS,
                          known=known)


def continued_tables(state: FastTextState, earlier: EarlierTables, words: list[str]) -> FastTextState:
    """`state` with each earlier word's input and output rows (when saved), and the earlier n-gram bucket rows (when
    saved; their hashing is checked to match in `build`), in place of the fresh ones."""
    new, old = earlier.shared_rows(words)
    input_RxD, output_VxD = state.input_RxD.at[new].set(earlier.input_VxD[old]), state.output_VxD
    if earlier.buckets_BxD is not None and len(earlier.buckets_BxD):
        input_RxD = input_RxD.at[len(words):].set(earlier.buckets_BxD)
    if earlier.output_VxD is not None:
        output_VxD = output_VxD.at[new].set(earlier.output_VxD[old])
    return FastTextState(input_RxD, output_VxD)


def earlier_model(config: FastTextConfig) -> EarlierTables | None:
    """The tables `init_from` names, checked to fit the config (dim; a model's n-gram hashing)."""
    if not config.init_from:
        return None
    earlier = earlier_tables(config.init_from, "fasttext")
    if earlier.dim != config.dim:
        raise ConfigError(f"init_from {config.init_from!r} holds vectors of dim {earlier.dim}; set dim to {earlier.dim}")
    if earlier.subwords is not None and earlier.subwords != (config.bucket, config.minn, config.maxn):
        bucket, minn, maxn = earlier.subwords
        raise ConfigError(f"init_from {config.init_from!r} hashes n-grams with bucket {bucket}, minn {minn}, maxn {maxn}; "
                          "set the same to continue from its n-gram rows")
    return earlier


def build(corpus: PreparedCorpus, config: FastTextConfig, devices: int) -> Model:
    """The model of `config` on `corpus`; each micro-batch joins one packing per device (`devices`)."""
    config = config.resolved()
    vocab, ids = corpus.vocab, corpus.ids_N
    spec = SubwordSpec(len(vocab), config.minn, config.maxn, config.bucket)
    subwords = subword_table(vocab.words, spec)
    keep_V = keep_probabilities(vocab.counts, config.sample, total_words=corpus.raw_words)
    sampling = Sampling(keep_V, noise_table(vocab.counts, config.noise_power), config.window, config.negative)
    part_batch = max(-(-config.batch_size // devices), 1 if config.cbow else 2 * config.window)
    ends = corpus.sentence_ends_S
    shape = pack_shape(subwords, vocab.counts * keep_V, example_reach(config.window, ends), part_batch, config.cbow)
    chunk_tokens = fitted_chunk_tokens(CHUNK_TOKENS, 2 * context_reach(config.window, ends), ends, config.window)
    optimizer = sgd_rows(config.max_row_updates or None)
    schedule = word2vec_schedule(config.alpha, config.min_alpha, len(ids) * config.epochs)
    device = config.device_examples
    # a centre's window holds window + 1 pairs on average (b ~ U{1..window} each side), so about batch_size pairs
    device_centres = sharded_batch_size(max(1, config.batch_size // (config.window + 1)), devices)

    earlier = earlier_model(config)

    def init() -> FastTextState:
        state = init_fasttext(config.seed, spec.rows, len(vocab), config.dim)
        if earlier is not None:
            state = continued_tables(state, earlier, vocab.strings)
        return jax.tree.map(optimizer.init, state)

    def blocks(epoch: int, skip: int):
        epoch_ids, epoch_ends = epoch_sentences(ids, corpus.sentence_ends_S, config.seed, epoch, config.shuffle)
        epoch_blocks = packed_blocks(epoch_ids, epoch_ends, sampling, subwords, cbow=config.cbow, shape=shape,
                                     batches=config.batches_per_call, seed=config.seed, epoch=epoch, parts=devices,
                                     chunk_tokens=chunk_tokens)
        for block in itertools.islice(epoch_blocks, skip, None):
            yield Block(block.arrays(), block.num_pairs, int(block.words_done_M[-1]))

    tables = (*map(jnp.asarray, sampling_arrays(sampling)), jnp.asarray(padded_subwords(subwords))) if device else ()
    chunk_tokens = max(DEVICE_CHUNK_TOKENS, config.max_line_tokens + 1)

    device_blocks = chunk_blocks(ids, corpus.sentence_ends_S, seed=config.seed, shuffle=config.shuffle,
                                 chunk_tokens=chunk_tokens, tables=tables)

    def outputs(state: FastTextState) -> Outputs:
        model = unsupervised_model(vocab.words, vocab.counts, corpus.raw_words, np.asarray(optimizer.params(state.input_RxD)),
                                   np.asarray(optimizer.params(state.output_VxD)), cbow=config.cbow, ws=config.window,
                                   epoch=config.epochs, min_count=config.min_count, neg=config.negative,
                                   bucket=config.bucket, minn=config.minn, maxn=config.maxn, t=config.sample)
        return Outputs(model.vectors(subwords), {"model.bin": lambda path: save_fasttext_model(path, model)})

    packing = {"devices": devices, "examples": shape.examples, "rows": shape.rows, "pairs": shape.pairs}
    generator = device_generator(seed=config.seed, window=config.window, negative=config.negative,
                                 centres=device_centres, devices=devices)
    return Model(init=init, blocks=device_blocks if device else blocks,
                 row_updates=functools.partial(row_updates, optimizer=optimizer,
                                               num_examples=device_centres if device else devices * shape.examples),
                 apply_updates=functools.partial(apply_updates, optimizer=optimizer, schedule=schedule),
                 layout=LAYOUT, outputs=outputs, unit="word", units_per_epoch=len(ids),
                 metrics={"input_rows": spec.rows, "device_examples": device,
                          **({"micro_batch_centres": device_centres} if device else {"micro_batch": packing})},
                 generate=generator if device else None, touched_rows=None if device else (bag_rows, None))  # output rows: any (a small table)
