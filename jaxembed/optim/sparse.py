"""Row-sparse optimisers: optax's update rules applied to the rows a batch touches, never to the whole table.

A `RowOptimizer` owns the layout of its table: `init` packs the parameters and the optimiser's per-row
state side by side (one gather and one scatter serve both), `update` takes one step on the rows of
`ids_N` given their gradients, and `rows` / `params` read the parameters back. Equal ids in a batch
are combined as the dense gradient combines them, by summing, so each optimiser equals its dense
optax counterpart on the whole table (tested against optax.sgd and optax.adagrad):

    sgd_rows:      table = params;               p_v ← p_v − lr · Σ_{n: ids_n = v} g_n    (scatter-add)
    adagrad_rows:  table = [params | accum];     g_v = Σ_{n: ids_n = v} g_n,  a_v ← a_v + g_v²,
                                                 p_v ← p_v − lr · g_v / sqrt(a_v + eps)

SGD is linear in the gradient, so its scatter-add sums duplicates by itself. Adagrad is not, so it first
merges equal ids (`merge_duplicate_rows`) and updates each distinct row once.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax


class RowOptimizer(NamedTuple):
    """init(params_VxD) -> table_VxS; update(table, ids_N, grads_NxD, learning_rate) -> table;
    rows(table, ids_N) -> (N, D) parameters of those rows; params(table) -> (V, D) parameters."""

    init: Callable[[jax.Array], jax.Array]
    update: Callable[[jax.Array, jax.Array, jax.Array, jax.Array], jax.Array]
    rows: Callable[[jax.Array, jax.Array], jax.Array]
    params: Callable[[jax.Array], jax.Array]


def word2vec_schedule(alpha: float, min_alpha: float, total_words: int) -> optax.Schedule:
    """word2vec's learning rate: linear from `alpha` to `min_alpha` over all training words,

        lr(n) = alpha − (alpha − min_alpha) · min(n, N) / N,   n = corpus words processed.
    """
    return optax.linear_schedule(init_value=alpha, end_value=min_alpha, transition_steps=max(int(total_words), 1))


def sgd_rows() -> RowOptimizer:
    """Plain SGD on rows: table[ids] += −lr · grads, duplicates summed (no state)."""

    def update(table_VxD, ids_N, grads_NxD, learning_rate):
        return table_VxD.at[ids_N].add(-learning_rate * grads_NxD, mode="promise_in_bounds")

    return RowOptimizer(init=lambda params_VxD: params_VxD, update=update, rows=lambda table_VxD, ids_N: table_VxD[ids_N],
                        params=lambda table_VxD: table_VxD)


def merge_duplicate_rows(ids_N: jax.Array, grads_NxD: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(unique_ids_N, summed_NxD): the distinct ids in ascending order, padded with −1, and each one's summed
    gradient (zero rows for the padding). The ids are sorted alone (a cheap one-key sort), each occurrence
    finds its id's slot by binary search, and a scatter-add sums the gradients into their slots: in their
    original order on XLA:CPU, so the result is bitwise reproducible there (an accelerator's scatter-add
    may add duplicates in any order). Cost O(N log N), whatever the table size."""
    sorted_N = jax.lax.sort(ids_N)
    first_N = jnp.concatenate([jnp.ones(1, bool), sorted_N[1:] != sorted_N[:-1]])
    slot_of_sorted_N = jnp.cumsum(first_N) - 1
    slot_N = slot_of_sorted_N[jnp.searchsorted(sorted_N, ids_N)]
    summed_NxD = jnp.zeros_like(grads_NxD).at[slot_N].add(grads_NxD)
    return jnp.full_like(ids_N, -1).at[slot_of_sorted_N].set(sorted_N), summed_NxD


def adagrad_rows(initial_accumulator_value: float = 0.1, eps: float = 1e-7) -> RowOptimizer:
    """optax.adagrad on rows of a packed table [params (D) | sum of squared gradients (D)] (module docstring);
    no change where the accumulator is 0."""

    def init(params_VxD):
        return jnp.concatenate([params_VxD, jnp.full_like(params_VxD, initial_accumulator_value)], axis=1)

    def update(table_Vx2D, ids_N, grads_NxD, learning_rate):
        dim, vocab = grads_NxD.shape[1], table_Vx2D.shape[0]
        unique_N, g_NxD = merge_duplicate_rows(ids_N, grads_NxD)
        # padding slots point past the table, each to its own row (the indices stay unique): read as 0, never written
        rows_N = jnp.where(unique_N >= 0, unique_N, vocab + jnp.arange(unique_N.shape[0], dtype=unique_N.dtype))
        old_Nx2D = table_Vx2D.at[rows_N].get(mode="fill", fill_value=0.0)
        accumulated_NxD = old_Nx2D[:, dim:] + g_NxD * g_NxD
        scale_NxD = jnp.where(accumulated_NxD > 0, jax.lax.rsqrt(accumulated_NxD + eps), 0.0)
        new_Nx2D = jnp.concatenate([old_Nx2D[:, :dim] - learning_rate * scale_NxD * g_NxD, accumulated_NxD], axis=1)
        return table_Vx2D.at[rows_N].set(new_Nx2D, mode="drop", unique_indices=True)

    def rows(table_Vx2D, ids_N):
        return table_Vx2D[ids_N, :table_Vx2D.shape[1] // 2]

    return RowOptimizer(init=init, update=update, rows=rows, params=lambda table_Vx2D: table_Vx2D[:, :table_Vx2D.shape[1] // 2])
