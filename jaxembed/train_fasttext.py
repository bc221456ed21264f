"""fastText training (skip-gram or CBOW with negative sampling) on packed micro-batches.

The input table holds the vocabulary rows then `bucket` n-gram rows, U(−1/D, 1/D) as fastText
initialises it; the output table (one row per word) starts at zero. One jitted call runs M packed
micro-batches (`data.subword_batches`) with `lax.scan`; each gathers the bag rows and output rows
it touches, takes the hand-derived gradients of `losses.fasttext` and scatters row-sparse SGD
updates into the donated tables, so the 2M-row bucket table is never copied or densely updated.

Matched to fastText: vocabulary and `</s>` line ends, subword rows, lines cut after 1024 + 1
tokens, subsampling (`t` against all corpus tokens), reduced window, noise ∝ count^0.5 redrawn
while equal to the target, the un-normalised bag update, linear LR decay to 0. Different, on
purpose: updates of a micro-batch come from the same parameters (fastText updates after each pair),
exact sigmoid and log, exact noise sampling instead of a 10^7-entry table, numpy's PCG64 per
(seed, epoch, chunk) instead of one minstd_rand per thread, ties in the vocabulary in first-seen
order, and the LR decays over in-vocabulary tokens.
"""
from __future__ import annotations

import functools
import itertools
import os
import time

import flax
import jax
import jax.numpy as jnp
import numpy as np

from jaxembed.checkpoint import start_run
from jaxembed.config import CHECKPOINT_SECONDS, FastTextConfig
from jaxembed.data.batches import epoch_sentences
from jaxembed.data.ngrams import EOS, SubwordSpec, subword_table
from jaxembed.data.sampling import keep_probabilities, noise_table
from jaxembed.data.subword_batches import pack_shape, packed_blocks
from jaxembed.io.fasttext import LOSS_IDS, MODEL_IDS, WORD, FastTextArgs, FastTextModel
from jaxembed.loop import EpochLoop, run_epochs
from jaxembed.losses.fasttext import bag_row_updates, fasttext_grads
from jaxembed.losses.sgns import sgns_labels
from jaxembed.optim.sparse import RowOptimizer, apply_rows, sgd_rows, word2vec_schedule
from jaxembed.parallel import RowUpdate, calls_in_flight, data_mesh, make_data_parallel_step
from jaxembed.train import TrainResult, corpus_summary, prepare_corpus, run_metrics


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


def fasttext_row_updates(state: FastTextState, consts, batch: tuple[jax.Array, ...], optimizer: RowOptimizer,
                         num_examples: int) -> tuple[tuple[RowUpdate, RowUpdate], jax.Array]:
    """SGD row deltas of a packed micro-batch (or a device's part of one) from the current tables:
    every bag row receives −lr·∂L/∂h (fastText). Returns ((input ids_F, deltas_FxD), (output ids_QT,
    deltas_QTxD)) in example order — padded slots carry zero deltas — and the loss sum."""
    del consts
    rows_F, row_owner_F, row_mask_F, targets_QxT, pair_owner_Q, pair_mask_Q, words_done = batch
    row_weight_F = row_mask_F.astype(jnp.float32)
    weights_QxT = jnp.broadcast_to(pair_mask_Q.astype(jnp.float32)[:, None], targets_QxT.shape)
    _, dout_QxTxD, dh_ExD, loss_Q = fasttext_grads(
        state.input_RxD[rows_F], row_weight_F, row_owner_F, state.output_VxD[targets_QxT],
        sgns_labels(targets_QxT.shape[1] - 1), weights_QxT, pair_owner_Q, num_examples)
    drows_FxD = bag_row_updates(dh_ExD, row_weight_F, row_owner_F)
    flat_targets = targets_QxT.reshape(-1)
    update_in, _ = optimizer.update(rows_F, drows_FxD, None, words_done)
    update_out, _ = optimizer.update(flat_targets, dout_QxTxD.reshape(-1, dout_QxTxD.shape[-1]), None, words_done)
    return (RowUpdate(rows_F, update_in), RowUpdate(flat_targets, update_out)), jnp.sum(loss_Q)


def fasttext_apply(state: FastTextState, updates: tuple[RowUpdate, RowUpdate]) -> FastTextState:
    """Scatter-add the row deltas into the input (words + buckets) and output tables."""
    update_in, update_out = updates
    return FastTextState(apply_rows(state.input_RxD, *update_in), apply_rows(state.output_VxD, *update_out))


def fasttext_microbatch(state: FastTextState, batch: tuple[jax.Array, ...], optimizer: RowOptimizer,
                        num_examples: int) -> tuple[FastTextState, jax.Array]:
    """One SGD step on a packed micro-batch on one device (`fasttext_row_updates`, then `fasttext_apply`)."""
    updates, loss_sum = fasttext_row_updates(state, (), batch, optimizer, num_examples)
    return fasttext_apply(state, updates), loss_sum


FASTTEXT_EXAMPLE_AXES = (True, True, True, True, True, True, False)
"""Which block arrays (rows, row owners, row mask, targets, pair owners, pair mask, words_done) are split over devices."""


def make_fasttext_step(optimizer: RowOptimizer, num_examples: int, mesh: jax.sharding.Mesh | None = None):
    """Jitted `(state, (), block arrays) -> (state, loss_sum)` over M packed micro-batches of `num_examples`
    examples, data-parallel over `mesh` (default: all devices; each micro-batch joins one packing per
    device, `subword_batches.group_parts`); the state is donated."""
    row_updates = functools.partial(fasttext_row_updates, optimizer=optimizer, num_examples=num_examples)
    return make_data_parallel_step(row_updates, fasttext_apply, mesh or data_mesh(), FASTTEXT_EXAMPLE_AXES)


def fasttext_model(config: FastTextConfig, words: tuple[bytes, ...], counts: np.ndarray, ntokens: int,
                   input_RxD: np.ndarray, output_VxD: np.ndarray) -> FastTextModel:
    """The trained tables as a fastText model (saved as an official `.bin` by `io.fasttext`)."""
    args = FastTextArgs(dim=config.dim, ws=config.window, epoch=config.epochs, min_count=config.min_count,
                        neg=config.negative, loss=LOSS_IDS["ns"], model=MODEL_IDS["cbow" if config.cbow else "skipgram"],
                        bucket=config.bucket, minn=config.minn, maxn=config.maxn, t=config.sample)
    return FastTextModel(args, words, np.asarray(counts, np.int64), np.full(len(words), WORD, np.int8), ntokens,
                         input_RxD, output_VxD)


def train_fasttext(corpus: str | os.PathLike, config: FastTextConfig, progress: bool = True,
                   checkpoint_dir: str | os.PathLike | None = None, checkpoint_every: float = CHECKPOINT_SECONDS,
                   resume: bool = False) -> TrainResult:
    """Train fastText; `result.vectors` answers OOV words, `result.state` is the `FastTextModel`.
    Checkpoints and resume as `train.train_word2vec`."""
    start_time = time.perf_counter()
    prepared = prepare_corpus(corpus, config.min_count, config.max_vocab_size, config.max_line_tokens + 1, eos=EOS)
    vocab, ids = prepared.vocab, prepared.ids_N
    spec = SubwordSpec(len(vocab), config.minn, config.maxn, config.bucket)
    subwords = subword_table(vocab.words, spec)
    keep_V = keep_probabilities(vocab.counts, config.sample, total_words=prepared.raw_words)
    noise = noise_table(vocab.counts, config.noise_power)
    mesh = data_mesh(config.devices)
    part_batch = max(-(-config.batch_size // mesh.size), 1 if config.cbow else 2 * config.window)
    shape = pack_shape(subwords, vocab.counts * keep_V, config.window, part_batch, config.cbow)
    schedule = word2vec_schedule(config.alpha, config.min_alpha, len(ids) * config.epochs)
    step = make_fasttext_step(sgd_rows(schedule), mesh.size * shape.examples, mesh)
    state = init_fasttext(config.seed, spec.rows, len(vocab), config.dim)
    state, position, checkpointer = start_run(state, config, corpus_summary(corpus, prepared), checkpoint_dir,
                                              checkpoint_every, resume)

    def blocks(epoch: int, skip: int):
        epoch_ids, epoch_ends = epoch_sentences(ids, prepared.sentence_ends_S, config.seed, epoch, config.shuffle)
        return itertools.islice(packed_blocks(epoch_ids, epoch_ends, keep_V, noise, subwords, config.window,
                                              config.negative, config.cbow, shape, config.batches_per_call, config.seed,
                                              epoch, parts=mesh.size), skip, None)

    loop = EpochLoop(step=lambda s, block: step(s, (), *block.arrays()), blocks=blocks, count=lambda block: block.num_pairs,
                     progress=lambda epoch, index, block: int(block.words_done_M[-1]),
                     epochs=config.epochs, units_per_epoch=len(ids), unit="word", desc="fasttext",
                     calls_in_flight=calls_in_flight(mesh))
    state, position = run_epochs(loop, state, position, checkpointer, progress)
    model = fasttext_model(config, vocab.words, vocab.counts, prepared.raw_words, np.asarray(state.input_RxD),
                           np.asarray(state.output_VxD))
    seconds = time.perf_counter() - start_time
    metrics = run_metrics(corpus, prepared, config, seconds, position.epoch_losses, mesh.size,
                          examples=position.total_examples, input_rows=spec.rows,
                          micro_batch={"devices": mesh.size, "examples": shape.examples, "rows": shape.rows, "pairs": shape.pairs})
    return TrainResult(model.vectors(subwords), metrics, model)
