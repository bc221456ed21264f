"""word2vec training: corpus preparation, the jitted block step for all four variants, the epoch loop.

The step gathers rows, calls the hand-derived gradients of the pure logistic loss, and scatters
row-sparse SGD updates into the donated tables; `lax.scan` runs M micro-batches of P examples per
call, so the per-call dispatch cost is amortised while updates stay close to word2vec's sequential
SGD. Skip-gram and CBOW differ only in the hidden rows (1 context word vs the masked mean of the
window); negative sampling and hierarchical softmax only in the target rows, and both can be on.
The step is split into `word2vec_row_updates` (ids and SGD deltas of a batch) and `word2vec_apply`
(scatter-add) so that `jaxembed.parallel` runs it data-parallel on any number of devices.
"""
from __future__ import annotations

import dataclasses
import functools
import itertools
import os
import time
from typing import Any

import flax
import jax
import jax.numpy as jnp
import numpy as np

from jaxembed.checkpoint import start_run
from jaxembed.config import CHECKPOINT_SECONDS, TrainConfig
from jaxembed.data.batches import epoch_sentences, example_blocks
from jaxembed.data.corpus import MAX_SENTENCE_LENGTH, TokenIds, count_words, encode_corpus
from jaxembed.data.huffman import HuffmanTree, build_huffman
from jaxembed.data.sampling import keep_probabilities, noise_table
from jaxembed.data.vocab import Vocab, build_vocab
from jaxembed.errors import InputFileError
from jaxembed.loop import EpochLoop, run_epochs
from jaxembed.losses.cbow import context_counts, context_row_updates
from jaxembed.losses.logistic import logistic_grads, window_logistic_grads
from jaxembed.losses.sgns import sgns_labels, sgns_targets
from jaxembed.optim.sparse import RowOptimizer, apply_rows, sgd_rows, word2vec_schedule
from jaxembed.parallel import RowUpdate, calls_in_flight, data_mesh, make_data_parallel_step, sharded_batch_size
from jaxembed.vectors import Vectors


@dataclasses.dataclass(frozen=True)
class PreparedCorpus:
    """vocab; ids_N: in-vocabulary token ids (on disk, read by slices); sentence_ends_S: sentence end
    offsets; raw_words: all tokens."""

    vocab: Vocab
    ids_N: TokenIds
    sentence_ends_S: np.ndarray
    raw_words: int


def prepare_corpus(path: str | os.PathLike, min_count: int, max_vocab_size: int | None = None,
                   max_sentence_length: int | None = MAX_SENTENCE_LENGTH, eos: bytes | None = None) -> PreparedCorpus:
    """Count, build the vocabulary and encode the corpus to ids (two streaming passes).

    max_sentence_length None: sentences are whole lines (GloVe's rule). eos: a token ending every
    line (fastText's `</s>`), counted and trained like a word.
    """
    counts, raw_words = count_words(path, eos)
    if raw_words == 0:
        raise InputFileError(f"corpus file {os.fspath(path)!r} contains no words")
    vocab = build_vocab(counts, min_count, max_vocab_size)
    if len(vocab) < 2:
        raise InputFileError(f"corpus file {os.fspath(path)!r}: {len(vocab)} distinct word(s) occur at least "
                             f"min_count={min_count} times; training needs at least 2")
    ids, ends = encode_corpus(path, vocab.index, max_sentence_length or raw_words + 1, eos=eos)
    return PreparedCorpus(vocab, ids, ends, raw_words)


@flax.struct.dataclass
class Word2VecState:
    """syn0_VxD: input (word) vectors; syn1_RxD: output rows — word2vec's syn1 (V−1 Huffman inner
    nodes) when hs is on, followed by syn1neg (V rows) when negative > 0."""

    syn0_VxD: jax.Array
    syn1_RxD: jax.Array


@flax.struct.dataclass
class Targets:
    """Static-shape target description: Huffman paths (codes_VxL, points_VxL, mask_VxL) or empty."""

    codes_VxL: jax.Array
    points_VxL: jax.Array
    mask_VxL: jax.Array


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


def huffman_targets(tree: HuffmanTree | None) -> Targets:
    if tree is None:
        empty = jnp.zeros((1, 0), jnp.float32)
        return Targets(empty, empty.astype(jnp.int32), empty)
    return Targets(jnp.asarray(tree.codes_VxL, jnp.float32), jnp.asarray(tree.points_VxL), jnp.asarray(tree.mask_VxL, jnp.float32))


def example_targets(outputs_B: jax.Array, negatives_BxK: jax.Array, valid_B: jax.Array, paths: Targets,
                    hs: bool, ns_offset: int):
    """(ids_BxT, labels_BxT, weights_BxT): Huffman path nodes (labels 1 − code) then, for negative
    sampling, the centre and its noise words (labels 1, 0, ..., 0) at rows offset by `ns_offset`."""
    parts = []
    if hs:
        parts.append((paths.points_VxL[outputs_B], 1.0 - paths.codes_VxL[outputs_B], paths.mask_VxL[outputs_B] * valid_B[:, None]))
    if negatives_BxK.shape[1]:
        ids, weights = sgns_targets(outputs_B, negatives_BxK, valid_B)
        parts.append((ids + ns_offset, jnp.broadcast_to(sgns_labels(negatives_BxK.shape[1]), weights.shape), weights))
    return tuple(jnp.concatenate(p, axis=1) for p in zip(*parts))


HIDDEN_MODES = ("mean", "sum", "each")


def hidden_mode(config: TrainConfig) -> str:
    """How an example's hidden rows form h: CBOW's masked mean or sum, or skip-gram's one h per row."""
    if config.cbow:
        return "mean" if config.cbow_mean else "sum"
    return "each"


def word2vec_row_updates(state: Word2VecState, paths: Targets, batch: tuple[jax.Array, ...], optimizer: RowOptimizer,
                         hs: bool, ns_offset: int, mode: str) -> tuple[tuple[RowUpdate, RowUpdate], jax.Array]:
    """SGD row deltas of P examples from the current tables: h from the hidden rows, logistic gradients.

    mode "mean"/"sum" (CBOW): one h per example, and every hidden row receives −lr·∂L/∂h
    (word2vec.c's rule; see losses.cbow). mode "each" (skip-gram): every real hidden row is its own
    h against the example's targets (C = 1 for pairs; C = 2·window for a centre's window against
    its Huffman path, which gathers the path once per centre instead of once per pair).
    Returns ((syn0 ids_PC, deltas_PCxD), (syn1 ids_PT, deltas_PTxD)) in example-major order, and the loss sum.
    """
    hidden_PxC, real_PxC, outputs_P, negatives_PxK, words_done = batch
    mask_PxC = real_PxC.astype(jnp.float32)
    rows_PxCxD = state.syn0_VxD[hidden_PxC]
    targets_PxT, labels_PxT, weights_PxT = example_targets(outputs_P, negatives_PxK, real_PxC.any(axis=1), paths, hs, ns_offset)
    out_PxTxD = state.syn1_RxD[targets_PxT]
    if mode == "each":
        drows_PxCxD, dout_PxTxD, loss_P = window_logistic_grads(rows_PxCxD, mask_PxC, out_PxTxD, labels_PxT, weights_PxT)
    else:
        h_PxD = jnp.einsum("pc,pcd->pd", mask_PxC, rows_PxCxD)
        if mode == "mean":
            h_PxD = h_PxD / context_counts(mask_PxC)[:, None]
        dh_PxD, dout_PxTxD, loss_P = logistic_grads(h_PxD, out_PxTxD, labels_PxT, weights_PxT)
        drows_PxCxD = context_row_updates(dh_PxD, mask_PxC)
    flat_hidden, flat_targets = hidden_PxC.reshape(-1), targets_PxT.reshape(-1)
    dim = rows_PxCxD.shape[-1]
    update_in, _ = optimizer.update(flat_hidden, drows_PxCxD.reshape(-1, dim), None, words_done)
    update_out, _ = optimizer.update(flat_targets, dout_PxTxD.reshape(-1, dim), None, words_done)
    return (RowUpdate(flat_hidden, update_in), RowUpdate(flat_targets, update_out)), jnp.sum(loss_P)


def word2vec_apply(state: Word2VecState, updates: tuple[RowUpdate, RowUpdate]) -> Word2VecState:
    """Scatter-add the row deltas into syn0 and syn1 (duplicates summed)."""
    update_in, update_out = updates
    return Word2VecState(apply_rows(state.syn0_VxD, *update_in), apply_rows(state.syn1_RxD, *update_out))


def word2vec_microbatch(state: Word2VecState, batch: tuple[jax.Array, ...], paths: Targets, optimizer: RowOptimizer,
                        hs: bool, ns_offset: int, mode: str) -> tuple[Word2VecState, jax.Array]:
    """One SGD step on P examples on one device (`word2vec_row_updates`, then `word2vec_apply`); returns the loss sum."""
    updates, loss_sum = word2vec_row_updates(state, paths, batch, optimizer, hs, ns_offset, mode)
    return word2vec_apply(state, updates), loss_sum


WORD2VEC_EXAMPLE_AXES = (True, True, True, True, False)
"""Which block arrays (hidden, mask, outputs, negatives, words_done) are split over devices."""


def make_word2vec_step(optimizer: RowOptimizer, hs: bool, ns_offset: int, mode: str, mesh: jax.sharding.Mesh | None = None):
    """Jitted `(state, paths, block arrays) -> (state, loss_sum)` over M micro-batches, data-parallel over
    `mesh` (default: all devices; P must be a multiple of its size); the state is donated."""
    if mode not in HIDDEN_MODES:
        raise ValueError(f"mode must be one of {HIDDEN_MODES}, got {mode!r}")
    row_updates = functools.partial(word2vec_row_updates, optimizer=optimizer, hs=hs, ns_offset=ns_offset, mode=mode)
    return make_data_parallel_step(row_updates, word2vec_apply, mesh or data_mesh(), WORD2VEC_EXAMPLE_AXES)


def run_metrics(corpus: str | os.PathLike, prepared: PreparedCorpus, config: Any, seconds: float,
                epoch_losses: list[float], devices: int | None = None, **extra: Any) -> dict:
    """metrics.json: whole-run words/s (corpus words × epochs / wall time), losses, the config, the machine
    (`devices`: how many trained data-parallel, default all)."""
    return {
        "model": config.model,
        "corpus": os.fspath(corpus),
        "corpus_words": prepared.raw_words,
        "training_words": int(len(prepared.ids_N)),
        "vocab_size": len(prepared.vocab),
        "epochs": config.epochs,
        **extra,
        "train_seconds": seconds,
        "words_per_second": prepared.raw_words * config.epochs / seconds,
        "loss": epoch_losses[-1],
        "epoch_losses": epoch_losses,
        "config": dataclasses.asdict(config),
        "backend": jax.default_backend(),
        "devices": devices or jax.device_count(),
    }


@dataclasses.dataclass
class TrainResult:
    """The vectors, the metrics written to metrics.json, and the final training state."""

    vectors: Vectors
    metrics: dict
    state: Any


def corpus_summary(corpus: str | os.PathLike, prepared: PreparedCorpus, **extra: int) -> dict:
    """What a checkpoint records to recognise its corpus on resume."""
    return {"path": os.path.abspath(corpus), "corpus_words": prepared.raw_words, "training_words": len(prepared.ids_N),
            "vocab_size": len(prepared.vocab), **extra}


def train_word2vec(corpus: str | os.PathLike, config: TrainConfig, progress: bool = True,
                   checkpoint_dir: str | os.PathLike | None = None, checkpoint_every: float = CHECKPOINT_SECONDS,
                   resume: bool = False) -> TrainResult:
    """Train skip-gram or CBOW with negative sampling and/or hierarchical softmax; returns syn0 as vectors.

    With `checkpoint_dir`, a checkpoint is written there every `checkpoint_every` seconds (0: only on
    SIGINT/SIGTERM) and `resume=True` continues the run saved there, ending bit for bit where an
    uninterrupted run ends (see jaxembed.checkpoint).
    """
    start_time = time.perf_counter()
    mesh = data_mesh(config.devices)
    prepared = prepare_corpus(corpus, config.min_count, config.max_vocab_size, config.max_sentence_length)
    vocab, ids = prepared.vocab, prepared.ids_N
    keep_V = keep_probabilities(vocab.counts, config.sample)
    noise = noise_table(vocab.counts)
    paths = huffman_targets(build_huffman(vocab.counts) if config.hs else None)
    schedule = word2vec_schedule(config.alpha, config.min_alpha, len(ids) * config.epochs)
    ns_offset = len(vocab) - 1 if config.hs else 0
    mode = hidden_mode(config)
    batch_size = sharded_batch_size(config.batch_size, mesh.size)
    step = make_word2vec_step(sgd_rows(schedule), config.hs, ns_offset, mode, mesh)
    state = init_word2vec(config.seed, len(vocab), config.dim, output_rows(len(vocab), config.hs, config.negative))
    state, position, checkpointer = start_run(state, config, corpus_summary(corpus, prepared), checkpoint_dir,
                                              checkpoint_every, resume)

    def blocks(epoch: int, skip: int):
        epoch_ids, epoch_ends = epoch_sentences(ids, prepared.sentence_ends_S, config.seed, epoch, config.shuffle)
        return itertools.islice(example_blocks(epoch_ids, epoch_ends, keep_V, noise, config.window, config.negative,
                                               config.window_examples, batch_size, config.batches_per_call,
                                               config.seed, epoch, shrink_windows=config.shrink_windows), skip, None)

    loop = EpochLoop(step=lambda s, block: step(s, paths, *block.arrays()), blocks=blocks,
                     count=lambda block: block.num_hidden if mode == "each" else block.num_examples,
                     progress=lambda epoch, index, block: int(block.words_done_M[-1]),
                     epochs=config.epochs, units_per_epoch=len(ids), unit="word", desc=config.model,
                     calls_in_flight=calls_in_flight(mesh))
    state, position = run_epochs(loop, state, position, checkpointer, progress)
    emb = np.asarray(state.syn0_VxD)
    seconds = time.perf_counter() - start_time
    metrics = run_metrics(corpus, prepared, config, seconds, position.epoch_losses, mesh.size,
                          examples=position.total_examples, batch_size=batch_size)
    return TrainResult(Vectors(vocab.strings, emb), metrics, state)
