"""GloVe as a model plug-in: co-occurrence counts, then shuffled mini-batches of nonzeros with row Adagrad.

Parameters live in one table of 2V rows: word rows w_i then context rows w̃_j (offset V), each
[vector, bias] as GloVe C lays them out (E = D+1 columns), followed by its E Adagrad accumulators
(optim.sparse.adagrad_rows), so one gather and one scatter per id serve both. Per nonzero (i, j, X_ij)
the gradient (losses.glove) is clipped elementwise at ±grad_clip on the vector part and scaled by η
(vectors) or bias_eta (biases); Adagrad with accumulator starting at 1 and learning rate 1 then gives
GloVe C's step  −η g / sqrt(1 + Σ (η g)²). Differences from GloVe C, all deliberate: the accumulator
includes the current gradient (optax's order; C uses the previous sum — a relative change of (ηg)²/2
in the first steps), equal ids in a mini-batch are merged before Adagrad (C is Hogwild per record),
and the nonzeros are reshuffled every epoch from the seed (C shuffles the file once).
"""
from __future__ import annotations

import dataclasses
import functools
import os
import time

import flax
import jax
import jax.numpy as jnp
import numpy as np

from jaxembed.config import GloveConfig
from jaxembed.data.cooccur import Cooccurrences, count_cooccurrences
from jaxembed.data.corpus import PreparedCorpus, prepare_corpus
from jaxembed.errors import ConfigError
from jaxembed.io.state import STATE_NAME, EarlierTables, earlier_tables, save_state
from jaxembed.losses.glove import glove_grads
from jaxembed.models.base import Block, Model, Outputs, update_tables
from jaxembed.optim.sparse import RowOptimizer, adagrad_rows
from jaxembed.parallel import EXAMPLES, RowUpdate, sharded_batch_size
from jaxembed.vectors import Vectors

LAYOUT = (EXAMPLES, EXAMPLES, EXAMPLES)
"""Step inputs: rows, cols and counts x of B nonzeros (x = 0: padding)."""


@flax.struct.dataclass
class GloveState:
    """table_Rx2E: R = 2V rows [w_i; w̃_j], each [params (E = D+1, bias last) | Adagrad accumulators (E)]."""

    table_Rx2E: jax.Array


def init_params(seed: int, vocab_size: int, dim: int) -> jax.Array:
    """GloVe C's init, (2V, D+1): every entry (biases too) ~ U(−0.5, 0.5) / D."""
    return (jax.random.uniform(jax.random.key(seed), (2 * vocab_size, dim + 1), jnp.float32) - 0.5) / dim


def row_updates(state: GloveState, batch: tuple, *, optimizer: RowOptimizer, vocab_size: int, x_max: float,
                weight_exponent: float, eta: float, bias_eta: float, grad_clip: float) -> tuple[RowUpdate, jax.Array]:
    """Scaled, clipped gradients of B nonzeros (rows_B, cols_B, x_B; padding has x = 0 and gets zero gradient).

    Returns (ids_2B, grads_2BxE) example-major ([i_0, V + j_0, i_1, V + j_1, ...]) and the loss sum.
    """
    rows_B, cols_B, x_B = batch
    real_B = x_B > 0
    w_BxE, wc_BxE = optimizer.rows(state.table_Rx2E, rows_B), optimizer.rows(state.table_Rx2E, cols_B + vocab_size)
    safe_x_B = jnp.where(real_B, x_B, 1.0)
    dw, dwc, db, dbc, loss_B = glove_grads(w_BxE[:, :-1], wc_BxE[:, :-1], w_BxE[:, -1], wc_BxE[:, -1], safe_x_B, x_max,
                                           weight_exponent)
    vector_grads_Bx2xD = eta * jnp.clip(jnp.stack([dw, dwc], axis=1), -grad_clip, grad_clip)
    bias_grads_Bx2x1 = bias_eta * jnp.stack([db, dbc], axis=1)[:, :, None]
    grads_Bx2xE = jnp.where(real_B[:, None, None], jnp.concatenate([vector_grads_Bx2xD, bias_grads_Bx2x1], axis=2), 0.0)
    ids_2B = jnp.stack([rows_B, cols_B + vocab_size], axis=1).reshape(-1)
    return RowUpdate(ids_2B, grads_Bx2xE.reshape(ids_2B.shape[0], -1)), jnp.sum(jnp.where(real_B, loss_B, 0.0))


def apply_updates(state: GloveState, update: RowUpdate, batch: tuple, *, optimizer: RowOptimizer) -> GloveState:
    """Adagrad at learning rate 1 (η is in the gradients) on the gathered rows; GloVe's step has no schedule."""
    del batch
    return update_tables(state, (update,), optimizer, 1.0)


def epoch_blocks(cooc: Cooccurrences, seed: int, epoch: int, batch_size: int, batches: int, skip: int = 0):
    """Yield (rows_MxB, cols_MxB, x_MxB) of the nonzeros in this epoch's shuffled order, after the first
    `skip` blocks; the last block padded with x = 0."""
    order = np.random.default_rng([seed, epoch]).permutation(len(cooc))
    block = batch_size * batches
    for start in range(skip * block, len(order), block):
        take = order[start:start + block]
        pad = block - len(take)
        arrays = (cooc.rows_N[take], cooc.cols_N[take], cooc.values_N[take].astype(np.float32))
        yield tuple(np.pad(a, (0, pad)).reshape(batches, batch_size) for a in arrays)


def glove_vectors(params_RxE: np.ndarray, vocab_size: int, output: str) -> np.ndarray:
    """W + W̃ ("w+c", GloVe's default -model 2) or W ("w"), biases dropped: (V, D)."""
    word = params_RxE[:vocab_size, :-1]
    return word + params_RxE[vocab_size:, :-1] if output == "w+c" else word.copy()


def read_corpus(path: str | os.PathLike, config: GloveConfig) -> PreparedCorpus:
    """Lines are sentences, never cut (GloVe's rule). With `init_from`, the earlier run's words join the vocabulary
    (data.vocab.build_vocab)."""
    known = earlier_tables(config.init_from, "glove").known_counts() if config.init_from else None
    return prepare_corpus(path, config.min_count, config.max_vocab_size, max_sentence_length=None, known=known)


def earlier_glove(config: GloveConfig) -> EarlierTables | None:
    """The tables `init_from` names: a GloVe run's state ([vector, bias] rows of W and W~), or another run's word
    vectors (D columns), checked against dim."""
    if not config.init_from:
        return None
    earlier = earlier_tables(config.init_from, "glove")
    columns = config.dim + 1 if earlier.family == "glove" else config.dim
    if earlier.input_VxD.shape[1] != columns:
        dim = earlier.input_VxD.shape[1] - (earlier.family == "glove")
        raise ConfigError(f"init_from {config.init_from!r} holds vectors of dim {dim}; set dim to {dim}")
    return earlier


def continued_params(params_RxE: jax.Array, earlier: EarlierTables, words: list[str]) -> jax.Array:
    """(2V, D+1) `params_RxE` with each earlier word's row of W (and of W~, biases too, when it is a GloVe state);
    vectors from elsewhere set W's vector part, their biases and W~ staying fresh."""
    new, old = earlier.shared_rows(words)
    columns = earlier.input_VxD.shape[1]
    params_RxE = params_RxE.at[new, :columns].set(earlier.input_VxD[old])
    if earlier.output_VxD is not None:
        params_RxE = params_RxE.at[len(words) + new].set(earlier.output_VxD[old])
    return params_RxE


def build(corpus: PreparedCorpus, config: GloveConfig, devices: int) -> Model:
    """Count the corpus's co-occurrences (memory-bounded) and bind the model to them."""
    start = time.perf_counter()
    cooc = count_cooccurrences(corpus.ids_N, corpus.sentence_ends_S, len(corpus.vocab), config.window,
                               config.symmetric, config.distance_weighting, config.memory_mb)
    model = counts_model(cooc, config, devices, corpus.vocab.strings, corpus.vocab.counts)
    return dataclasses.replace(model, metrics={**model.metrics, "cooccurrence_seconds": time.perf_counter() - start})


def counts_model(cooc: Cooccurrences, config: GloveConfig, devices: int, words: list[str] | None = None,
                 counts: np.ndarray | None = None) -> Model:
    """The model fitted to given counts (`words`: the vocabulary's strings, default "0", "1", ...; `counts`: their
    corpus counts, for save_state)."""
    config = config.resolved()
    vocab_size = cooc.vocab_size
    optimizer = adagrad_rows(initial_accumulator_value=1.0)
    batch_size = sharded_batch_size(config.batch_size, devices)
    block_size = batch_size * config.batches_per_call

    def blocks(epoch: int, skip: int):
        for index, block in enumerate(epoch_blocks(cooc, config.seed, epoch, batch_size, config.batches_per_call, skip),
                                      start=skip):
            done = epoch * len(cooc) + min((index + 1) * block_size, len(cooc))
            yield Block(block, int(np.count_nonzero(block[2])), done)

    names = words or [str(i) for i in range(vocab_size)]

    def outputs(state: GloveState) -> Outputs:
        params = np.asarray(optimizer.params(state.table_Rx2E))
        files = {}
        if config.save_state:
            tables = EarlierTables(names, np.asarray(counts if counts is not None else np.zeros(vocab_size), np.int64),
                                   params[:vocab_size], params[vocab_size:], "glove")
            files[STATE_NAME] = lambda path: save_state(path, tables)
        return Outputs(Vectors(names, glove_vectors(params, vocab_size, config.output)), files)

    earlier = earlier_glove(config)

    def init() -> GloveState:
        params = init_params(config.seed, vocab_size, config.dim)
        if earlier is not None:
            params = continued_params(params, earlier, names)
        return GloveState(optimizer.init(params))

    gradients = functools.partial(row_updates, optimizer=optimizer, vocab_size=vocab_size, x_max=config.x_max,
                                  weight_exponent=config.weight_exponent, eta=config.eta, bias_eta=config.bias_eta,
                                  grad_clip=config.grad_clip)
    return Model(init=init,
                 blocks=blocks, row_updates=gradients, apply_updates=functools.partial(apply_updates, optimizer=optimizer),
                 layout=LAYOUT, outputs=outputs, unit="pair", units_per_epoch=len(cooc),
                 corpus_record={"nonzeros": len(cooc)}, metrics={"nonzeros": len(cooc), "batch_size": batch_size})
