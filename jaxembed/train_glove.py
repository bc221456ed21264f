"""GloVe training: co-occurrence counts, then shuffled mini-batches of nonzeros with row-sparse Adagrad.

Parameters live in one table of 2V rows: word rows w_i then context rows w̃_j (offset V), each
[vector, bias] as GloVe C lays them out (E = D+1 columns), followed by its E Adagrad accumulators,
so one gather and one scatter per id serve both. Per nonzero (i, j, X_ij) the
gradient (losses.glove) is clipped elementwise at ±grad_clip on the vector part and scaled by η
(vectors) or bias_eta (biases); Adagrad with accumulator starting at 1 and learning rate 1 then
gives GloVe C's step  −η g / sqrt(1 + Σ (η g)²). Differences from GloVe C, all deliberate: the
accumulator includes the current gradient (optax's order; C uses the previous sum — a relative
change of (ηg)²/2 in the first steps), equal ids in a mini-batch are merged before Adagrad
(C is Hogwild per record), and the nonzeros are reshuffled every epoch from the seed (C shuffles
the file once). The step is split into `glove_row_updates` (ids and gradients of a batch) and
`glove_apply` (merge, Adagrad, set) so that `jaxembed.parallel` runs it data-parallel.
"""
from __future__ import annotations

import functools
import os
import time

import flax
import jax
import jax.numpy as jnp
import numpy as np

from jaxembed.checkpoint import start_run
from jaxembed.config import CHECKPOINT_SECONDS, GloveConfig
from jaxembed.data.cooccur import Cooccurrences, count_cooccurrences
from jaxembed.loop import EpochLoop, run_epochs
from jaxembed.losses.glove import glove_grads
from jaxembed.optim.sparse import adagrad_init, adagrad_rows, set_rows, unmarked
from jaxembed.parallel import RowUpdate, calls_in_flight, data_mesh, device_count, make_data_parallel_step, sharded_batch_size
from jaxembed.train import TrainResult, corpus_summary, prepare_corpus, run_metrics
from jaxembed.vectors import Vectors


@flax.struct.dataclass
class GloveState:
    """table_Rx2E: R = 2V rows [w_i; w̃_j], each [params (E = D+1, bias last) | Adagrad accumulator (E)];
    marks_R: scratch for merging duplicate ids."""

    table_Rx2E: jax.Array
    marks_R: jax.Array

    @property
    def params_RxE(self) -> jax.Array:
        return self.table_Rx2E[:, : self.table_Rx2E.shape[1] // 2]


def init_glove(seed: int, vocab_size: int, dim: int) -> GloveState:
    """GloVe C's init: every entry (biases too) ~ U(−0.5, 0.5) / D; accumulators 1."""
    params = (jax.random.uniform(jax.random.key(seed), (2 * vocab_size, dim + 1), jnp.float32) - 0.5) / dim
    return GloveState(adagrad_init(params, initial_accumulator_value=1.0), unmarked(2 * vocab_size))


def glove_row_updates(state: GloveState, consts: tuple, batch: tuple[jax.Array, ...], vocab_size: int, x_max: float,
                      alpha: float, eta: float, bias_eta: float, grad_clip: float) -> tuple[RowUpdate, jax.Array]:
    """Scaled, clipped gradients of B nonzeros (rows_B, cols_B, x_B; padding has x = 0 and gets zero gradient).

    Returns (ids_2B, grads_2BxE) example-major ([i_0, V + j_0, i_1, V + j_1, ...]) and the loss sum.
    """
    del consts
    rows_B, cols_B, x_B = batch
    real_B = x_B > 0
    e = state.table_Rx2E.shape[1] // 2
    w_BxE, wc_BxE = state.table_Rx2E[rows_B, :e], state.table_Rx2E[cols_B + vocab_size, :e]
    safe_x_B = jnp.where(real_B, x_B, 1.0)
    dw, dwc, db, dbc, loss_B = glove_grads(w_BxE[:, :-1], wc_BxE[:, :-1], w_BxE[:, -1], wc_BxE[:, -1], safe_x_B, x_max, alpha)
    vector_grads_Bx2xD = eta * jnp.clip(jnp.stack([dw, dwc], axis=1), -grad_clip, grad_clip)
    bias_grads_Bx2x1 = bias_eta * jnp.stack([db, dbc], axis=1)[:, :, None]
    grads_Bx2xE = jnp.where(real_B[:, None, None], jnp.concatenate([vector_grads_Bx2xD, bias_grads_Bx2x1], axis=2), 0.0)
    ids_2B = jnp.stack([rows_B, cols_B + vocab_size], axis=1).reshape(-1)
    return RowUpdate(ids_2B, grads_Bx2xE.reshape(ids_2B.shape[0], e)), jnp.sum(jnp.where(real_B, loss_B, 0.0))


def glove_apply(state: GloveState, update: RowUpdate) -> GloveState:
    """Adagrad (learning rate 1) on the rows of `update.ids_N`, equal ids merged first, written back with set."""
    ids_N, grads_NxE = update
    new_rows, marks = adagrad_rows(state.table_Rx2E[ids_N], ids_N, grads_NxE, state.marks_R, learning_rate=1.0)
    return GloveState(set_rows(state.table_Rx2E, ids_N, new_rows), marks)


def glove_microbatch(state: GloveState, batch: tuple[jax.Array, ...], vocab_size: int, x_max: float, alpha: float,
                     eta: float, bias_eta: float, grad_clip: float) -> tuple[GloveState, jax.Array]:
    """One Adagrad step on B nonzeros on one device (`glove_row_updates`, then `glove_apply`); returns the loss sum."""
    update, loss_sum = glove_row_updates(state, (), batch, vocab_size, x_max, alpha, eta, bias_eta, grad_clip)
    return glove_apply(state, update), loss_sum


GLOVE_EXAMPLE_AXES = (True, True, True)
"""rows, cols and x are all split over devices."""


def make_glove_step(config: GloveConfig, vocab_size: int, mesh: jax.sharding.Mesh | None = None):
    """Jitted `(state, (), rows_MxB, cols_MxB, x_MxB) -> (state, loss_sum)`, data-parallel over `mesh`
    (default: all devices; B must be a multiple of its size); the state is donated."""
    row_updates = functools.partial(glove_row_updates, vocab_size=vocab_size, x_max=config.x_max, alpha=config.alpha,
                                    eta=config.eta, bias_eta=config.bias_eta, grad_clip=config.grad_clip)
    return make_data_parallel_step(row_updates, glove_apply, mesh or data_mesh(), GLOVE_EXAMPLE_AXES)


def epoch_blocks(cooc: Cooccurrences, seed: int, epoch: int, batch_size: int, batches_per_call: int, skip: int = 0):
    """Yield (rows_MxB, cols_MxB, x_MxB) of the nonzeros in this epoch's shuffled order, after the first
    `skip` blocks; the last block padded with x = 0."""
    order = np.random.default_rng([seed, epoch]).permutation(len(cooc))
    block = batch_size * batches_per_call
    for start in range(skip * block, len(order), block):
        take = order[start:start + block]
        pad = block - len(take)
        arrays = (cooc.rows_N[take], cooc.cols_N[take], cooc.values_N[take].astype(np.float32))
        yield tuple(np.pad(a, (0, pad)).reshape(batches_per_call, batch_size) for a in arrays)


def glove_vectors(params_RxE: np.ndarray, vocab_size: int, output: str) -> np.ndarray:
    """W + W̃ ("sum", GloVe's default -model 2) or W ("word"), biases dropped: (V, D)."""
    word = params_RxE[:vocab_size, :-1]
    return word + params_RxE[vocab_size:, :-1] if output == "sum" else word.copy()


def fit_glove(cooc: Cooccurrences, config: GloveConfig, progress: bool = False, checkpoint_dir: str | os.PathLike | None = None,
              checkpoint_every: float = CHECKPOINT_SECONDS, resume: bool = False,
              corpus: dict | None = None) -> tuple[GloveState, list[float], list[float]]:
    """Adagrad epochs over the nonzeros of `cooc`: (final state, loss per nonzero and seconds, per epoch).

    Checkpoints as in `train.train_word2vec`; `corpus` is what the checkpoint records of the corpus.
    """
    mesh = data_mesh(config.devices)
    batch_size = sharded_batch_size(config.batch_size, mesh.size)
    step = make_glove_step(config, cooc.vocab_size, mesh)
    state = init_glove(config.seed, cooc.vocab_size, config.dim)
    state, position, checkpointer = start_run(state, config, {**(corpus or {}), "nonzeros": len(cooc)}, checkpoint_dir,
                                              checkpoint_every, resume)
    block_size = batch_size * config.batches_per_call

    def blocks(epoch: int, skip: int):
        return epoch_blocks(cooc, config.seed, epoch, batch_size, config.batches_per_call, skip)

    loop = EpochLoop(step=lambda s, block: step(s, (), *block), blocks=blocks, count=lambda block: int(np.count_nonzero(block[2])),
                     progress=lambda epoch, index, block: epoch * len(cooc) + min((index + 1) * block_size, len(cooc)),
                     epochs=config.epochs, units_per_epoch=len(cooc), unit="pair", desc="glove",
                     calls_in_flight=calls_in_flight(mesh))
    state, position = run_epochs(loop, state, position, checkpointer, progress)
    return state, position.epoch_losses, position.epoch_seconds


def train_glove(corpus: str | os.PathLike, config: GloveConfig, progress: bool = True,
                checkpoint_dir: str | os.PathLike | None = None, checkpoint_every: float = CHECKPOINT_SECONDS,
                resume: bool = False) -> TrainResult:
    """Count the corpus's co-occurrences and fit GloVe; returns W + W̃ (or W) as vectors.

    Checkpoints as in `train.train_word2vec`; on resume the counts are recomputed (deterministically).
    """
    start_time = time.perf_counter()
    devices = device_count(config.devices)
    prepared = prepare_corpus(corpus, config.min_count, config.max_vocab_size, max_sentence_length=None)
    vocab = prepared.vocab
    cooc = count_cooccurrences(prepared.ids_N, prepared.sentence_ends_S, len(vocab), config.window,
                               config.symmetric, config.distance_weighting, config.memory_mb)
    count_seconds = time.perf_counter() - start_time
    state, epoch_losses, epoch_seconds = fit_glove(cooc, config, progress, checkpoint_dir, checkpoint_every, resume,
                                                   corpus_summary(corpus, prepared))
    vectors = glove_vectors(np.asarray(state.params_RxE), len(vocab), config.output)
    seconds = time.perf_counter() - start_time
    metrics = run_metrics(corpus, prepared, config, seconds, epoch_losses, devices, nonzeros=len(cooc),
                          cooccurrence_seconds=count_seconds, epoch_seconds=epoch_seconds)
    return TrainResult(Vectors(vocab.strings, vectors), metrics, state)
