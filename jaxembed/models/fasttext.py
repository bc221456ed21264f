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

from jaxembed.config import FastTextConfig
from jaxembed.data.corpus import PreparedCorpus, prepare_corpus
from jaxembed.data.fasttext_examples import pack_shape, packed_blocks
from jaxembed.data.ngrams import EOS, SubwordSpec, subword_table
from jaxembed.data.sampling import keep_probabilities, noise_table
from jaxembed.data.windows import (CHUNK_TOKENS, Sampling, context_reach, epoch_sentences, example_reach,
                                   fitted_chunk_tokens)
from jaxembed.io.fasttext import save_fasttext_model, unsupervised_model
from jaxembed.losses.fasttext import bag_row_updates, fasttext_grads
from jaxembed.losses.sgns import sgns_labels
from jaxembed.models.base import Block, Model, Outputs, update_tables
from jaxembed.optim.sparse import RowOptimizer, sgd_rows, word2vec_schedule
from jaxembed.parallel import EXAMPLES, MICRO_BATCH, RowUpdate

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
                num_examples: int) -> tuple[tuple[RowUpdate, RowUpdate], jax.Array]:
    """Row gradients of a packed micro-batch (or a device's part of one) from the current tables:
    every bag row receives ∂L/∂h (fastText's rule). Returns ((input ids_F, grads_FxD, terms_F), (output
    ids_QT, grads_QTxD)) in example order — padded slots carry zero gradients — and the loss sum."""
    rows_F, row_owner_F, row_mask_F, targets_QxT, pair_owner_Q, pair_mask_Q, _ = batch
    row_weight_F = row_mask_F.astype(jnp.float32)
    weights_QxT = jnp.broadcast_to(pair_mask_Q.astype(jnp.float32)[:, None], targets_QxT.shape)
    _, dout_QxTxD, dh_ExD, loss_Q = fasttext_grads(
        optimizer.rows(state.input_RxD, rows_F), row_weight_F, row_owner_F, optimizer.rows(state.output_VxD, targets_QxT),
        sgns_labels(targets_QxT.shape[1] - 1), weights_QxT, pair_owner_Q, num_examples)
    drows_FxD = bag_row_updates(dh_ExD, row_weight_F, row_owner_F)
    return ((RowUpdate(rows_F, drows_FxD, bag_row_terms(row_mask_F, row_owner_F, pair_mask_Q, pair_owner_Q, num_examples)),
             RowUpdate(targets_QxT.reshape(-1), dout_QxTxD.reshape(-1, dout_QxTxD.shape[-1]))),
            jnp.sum(loss_Q))


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


def read_corpus(path: str | os.PathLike, config: FastTextConfig) -> PreparedCorpus:
    """fastText's reading: every line ends with the word `</s>`, and is cut after max_line_tokens + 1 tokens."""
    return prepare_corpus(path, config.min_count, config.max_vocab_size, config.max_line_tokens + 1, eos=EOS)


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

    def init() -> FastTextState:
        return jax.tree.map(optimizer.init, init_fasttext(config.seed, spec.rows, len(vocab), config.dim))

    def blocks(epoch: int, skip: int):
        epoch_ids, epoch_ends = epoch_sentences(ids, corpus.sentence_ends_S, config.seed, epoch, config.shuffle)
        epoch_blocks = packed_blocks(epoch_ids, epoch_ends, sampling, subwords, cbow=config.cbow, shape=shape,
                                     batches=config.batches_per_call, seed=config.seed, epoch=epoch, parts=devices,
                                     chunk_tokens=chunk_tokens)
        for block in itertools.islice(epoch_blocks, skip, None):
            yield Block(block.arrays(), block.num_pairs, int(block.words_done_M[-1]))

    def outputs(state: FastTextState) -> Outputs:
        model = unsupervised_model(vocab.words, vocab.counts, corpus.raw_words, np.asarray(optimizer.params(state.input_RxD)),
                                   np.asarray(optimizer.params(state.output_VxD)), cbow=config.cbow, ws=config.window,
                                   epoch=config.epochs, min_count=config.min_count, neg=config.negative,
                                   bucket=config.bucket, minn=config.minn, maxn=config.maxn, t=config.sample)
        return Outputs(model.vectors(subwords), {"model.bin": lambda path: save_fasttext_model(path, model)})

    micro_batch = {"devices": devices, "examples": shape.examples, "rows": shape.rows, "pairs": shape.pairs}
    return Model(init=init, blocks=blocks,
                 row_updates=functools.partial(row_updates, optimizer=optimizer,
                                               num_examples=devices * shape.examples),
                 apply_updates=functools.partial(apply_updates, optimizer=optimizer, schedule=schedule),
                 layout=LAYOUT, outputs=outputs, unit="word", units_per_epoch=len(ids),
                 metrics={"input_rows": spec.rows, "micro_batch": micro_batch})
