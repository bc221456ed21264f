"""word2vec examples generated on the device: the host ships a chunk of token ids, jax.random does the rest.

Per chunk of whole sentences (T token slots, ids padded with −1), with one key per (seed, epoch, chunk)
and a sub-key per draw, so any chunk can be regenerated (resume) and the run is deterministic:

    1. subsampling:      keep token t when u_t ≤ keep_V[id_t]          (word2vec.c's rule, u_t ~ U[0, 1))
    2. the kept tokens move to the front, in order (their sentence ids with them);
    3. reduced windows:  b_i ~ U{1..window} per kept centre (`window` itself without shrinking);
    4. slots (i, o), o ∈ {−W..−1, 1..W}: valid when |o| ≤ b_i and kept token i + o is in i's sentence;
    5. examples:  pairs (skip-gram with negative sampling): one per valid slot, centre by centre,
                  offsets in order (word2vec.c's order), hidden row = the context word;
                  windows (CBOW; skip-gram with hierarchical softmax only): one per centre with a
                  valid slot, hidden rows = its 2W slots (masked);
       both moved to the front and cut into M micro-batches of P;
    6. noise words: K per example from the alias table of count^0.75 (data.sampling.AliasTable), drawn
       for one micro-batch at a time as the step reaches it (`micro_batch`), so none for padding.

The draws are jax.random's, not numpy's, so the examples are not those of the host path
(data.word2vec_examples), but they follow the same distributions (tests/test_device_examples.py).
Huffman paths need nothing here: the step reads them from the output ids, as on the host path.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxembed.data.windows import Sampling, chunk_sentence_ids, fixed_chunk_bounds


DEVICE_CHUNK_TOKENS = 1 << 17
"""Tokens per chunk, and per jitted call, when the examples are made on the device."""


def token_chunks(ids, sentence_ends: np.ndarray, chunk_tokens: int, offset: int):
    """(ids_T padded with −1, sentence_T, start, stop) per chunk of whole sentences, for the device generator."""
    for start, stop in fixed_chunk_bounds(sentence_ends, chunk_tokens):
        ids_T = np.full(chunk_tokens, -1, np.int32)
        ids_T[:stop - start] = ids[start:stop]
        sentence_T = chunk_sentence_ids(sentence_ends, start, stop, chunk_tokens).astype(np.int32)
        yield ids_T, sentence_T, np.float32(offset + start), offset + stop


def chunk_key(seed: int, epoch, chunk) -> jax.Array:
    """The key of one chunk's draws: key(seed) folded with the epoch, then the chunk index."""
    return jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), epoch), chunk)


def sampling_arrays(sampling: Sampling) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keep_V float32, threshold_V uint32, alias_V int32): the host Sampling's tables, for the device."""
    return (sampling.keep_V.astype(np.float32), sampling.noise.threshold_V, sampling.noise.alias_V)


def alias_draws(key: jax.Array, shape: tuple[int, ...], threshold_V: jax.Array, alias_V: jax.Array) -> jax.Array:
    """int32 ids of `shape` from an alias table: a uniform slot, kept when a uniform 32-bit draw is below its
    threshold, else its alias (exact to 2^-32 per probability, as AliasTable.sample)."""
    slot_key, accept_key = jax.random.split(key)
    slot = jax.random.randint(slot_key, shape, 0, alias_V.shape[0], jnp.int32)
    accept = jax.random.bits(accept_key, shape, jnp.uint32) < threshold_V[slot]
    return jnp.where(accept, slot, alias_V[slot])


def front(mask_N: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(index_N, count): the positions where mask_N holds, in order, then N for the rest; and how many hold."""
    n = mask_N.shape[0]
    return jnp.flatnonzero(mask_N, size=n, fill_value=n), jnp.sum(mask_N, dtype=jnp.int32)


def kept_tokens(key: jax.Array, ids_T: jax.Array, sentence_T: jax.Array, keep_V: jax.Array):
    """Steps 1–2: (kept ids_T (−1 after the kept ones), their sentences_T, their chunk positions_T, count)."""
    real_T = ids_T >= 0
    keep_T = real_T & (jax.random.uniform(key, ids_T.shape) <= keep_V[jnp.where(real_T, ids_T, 0)])
    index_T, count = front(keep_T)
    take = lambda x, fill: jnp.take(x, index_T, mode="fill", fill_value=fill)
    return take(ids_T, -1), take(sentence_T, -1), index_T, count


def window_mask(key: jax.Array, sentence_T: jax.Array, count: jax.Array, window: int, shrink: bool) -> tuple[jax.Array, jax.Array]:
    """Steps 3–4 over the kept tokens: (context positions_TxO clipped into range, valid_TxO)."""
    t = sentence_T.shape[0]
    b_T = (jax.random.randint(key, (t,), 1, window + 1, jnp.int32) if shrink else jnp.full((t,), window, jnp.int32))
    offsets_O = jnp.concatenate([jnp.arange(-window, 0), jnp.arange(1, window + 1)])
    context_TxO = jnp.arange(t)[:, None] + offsets_O[None, :]
    inside_TxO = (context_TxO >= 0) & (context_TxO < count) & (jnp.arange(t) < count)[:, None]
    clipped_TxO = jnp.clip(context_TxO, 0, t - 1)
    valid_TxO = inside_TxO & (jnp.abs(offsets_O)[None, :] <= b_T[:, None]) & (sentence_T[clipped_TxO] == sentence_T[:, None])
    return clipped_TxO, valid_TxO


def micro_batches(x_E, batch_size: int):
    """(E, ...) -> (M, P, ...), E padded to a multiple of P with zeros."""
    m = -(-x_E.shape[0] // batch_size)
    padded = jnp.pad(x_E, [(0, m * batch_size - x_E.shape[0])] + [(0, 0)] * (x_E.ndim - 1))
    return padded.reshape((m, batch_size) + x_E.shape[1:])


class ChunkExamples(NamedTuple):
    """One chunk's examples on the device, cut into M micro-batches of P (padding after the last example):
    hidden_MxPxC, hidden_mask_MxPxC, outputs_MxP as a host block holds them, words_done_M (corpus words
    before each micro-batch), and the key its noise words are drawn from, micro-batch by micro-batch."""

    hidden_MxPxC: jax.Array
    hidden_mask_MxPxC: jax.Array
    outputs_MxP: jax.Array
    words_done_M: jax.Array
    noise_key: jax.Array


def chunk_examples(ids_T: jax.Array, sentence_T: jax.Array, start: jax.Array, key: jax.Array, keep_V: jax.Array, *,
                   window: int, shrink: bool, windows: bool, batch_size: int) -> tuple[ChunkExamples, jax.Array]:
    """Steps 1–5 for one chunk (module docstring): its examples and how many there are.

    ids_T: token ids, −1 after the chunk's last token; sentence_T: each token's sentence (any ids that
    differ between sentences); start: corpus words before the chunk (the run's position, float32);
    words_done_M: start + the chunk position of each micro-batch's first centre.
    """
    subsample_key, window_key, noise_key = jax.random.split(key, 3)
    kept_T, kept_sentence_T, position_T, count = kept_tokens(subsample_key, ids_T, sentence_T, keep_V)
    context_TxO, valid_TxO = window_mask(window_key, kept_sentence_T, count, window, shrink)
    if windows:
        example_E, examples = front(valid_TxO.any(axis=1))
        centre_E = jnp.minimum(example_E, ids_T.shape[0] - 1)
        real_E = jnp.arange(example_E.shape[0]) < examples
        hidden_ExC = kept_T[context_TxO[centre_E]]
        mask_ExC = valid_TxO[centre_E] & real_E[:, None]
    else:
        example_E, examples = front(valid_TxO.reshape(-1))
        slot_E = jnp.minimum(example_E, valid_TxO.size - 1)
        centre_E = slot_E // valid_TxO.shape[1]
        real_E = jnp.arange(valid_TxO.size) < examples
        hidden_ExC = kept_T[context_TxO.reshape(-1)[slot_E]][:, None]
        mask_ExC = real_E[:, None]
    outputs_E = jnp.where(real_E, kept_T[centre_E], 0)
    hidden, mask, outputs = (micro_batches(x, batch_size) for x in (jnp.where(mask_ExC, hidden_ExC, 0), mask_ExC,
                                                                      outputs_E))
    first_M = jnp.minimum(jnp.arange(outputs.shape[0]) * batch_size, jnp.maximum(examples - 1, 0))
    words_done_M = start + position_T[centre_E[first_M]].astype(jnp.float32)
    return ChunkExamples(hidden, mask, outputs, words_done_M, noise_key), examples


def micro_batch(chunk: ChunkExamples, index: jax.Array, threshold_V: jax.Array, alias_V: jax.Array, *,
                negative: int) -> tuple[jax.Array, ...]:
    """Micro-batch `index` of a chunk as the host path gives it: (hidden_PxC, hidden_mask_PxC, outputs_P,
    negatives_PxK, words_done), its K noise words per example drawn now (step 6), from the chunk's noise
    key folded with `index`, so padding micro-batches draw nothing."""
    take = lambda x: jax.lax.dynamic_index_in_dim(x, index, keepdims=False)
    outputs_P = take(chunk.outputs_MxP)
    negatives_PxK = alias_draws(jax.random.fold_in(chunk.noise_key, index), (outputs_P.shape[0], negative),
                                threshold_V, alias_V)
    return take(chunk.hidden_MxPxC), take(chunk.hidden_mask_MxPxC), outputs_P, negatives_PxK, take(chunk.words_done_M)
