"""Row-sparse optimisers: optax-shaped `init`/`update` pairs applied to gathered rows of a table.

An update never touches rows outside `ids`, so a step costs O(rows touched), not O(V). Duplicate
ids are summed by the scatter, which equals the dense gradient's row sums; for SGD (linear in the
gradient) the result is exactly dense `optax.sgd` on the full table. Adagrad is not linear, so it
first merges each id's gradients (`merge_duplicate_rows`) and updates the row once: exactly dense
`optax.adagrad` (both tested). Its accumulator is packed beside the parameters in one table.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

import jax
import jax.numpy as jnp
import optax


class RowOptimizer(NamedTuple):
    """init(table_VxD) -> state; update(ids_N, grads_NxD, state, count) -> (updates_NxD, state)."""

    init: Callable[[jax.Array], Any]
    update: Callable[[jax.Array, jax.Array, Any, jax.Array], tuple[jax.Array, Any]]


def word2vec_schedule(alpha: float, min_alpha: float, total_words: int) -> optax.Schedule:
    """word2vec's learning rate: linear from `alpha` to `min_alpha` over all training words,

        lr(n) = alpha − (alpha − min_alpha) · min(n, N) / N,   n = corpus words processed.
    """
    return optax.linear_schedule(init_value=alpha, end_value=min_alpha, transition_steps=max(int(total_words), 1))


def sgd_rows(learning_rate: optax.ScalarOrSchedule) -> RowOptimizer:
    """Plain SGD on rows: updates = −lr(count) · grads (stateless)."""

    def init(table_VxD: jax.Array) -> optax.EmptyState:
        del table_VxD
        return optax.EmptyState()

    def update(ids_N, grads_NxD, state, count):
        del ids_N
        lr = learning_rate(count) if callable(learning_rate) else learning_rate
        return -lr * grads_NxD, state

    return RowOptimizer(init, update)


def apply_rows(table_VxD: jax.Array, ids_N: jax.Array, updates_NxD: jax.Array) -> jax.Array:
    """table[ids] += updates, duplicates summed (scatter-add)."""
    return table_VxD.at[ids_N].add(updates_NxD, mode="promise_in_bounds")


UNMARKED = np.iinfo(np.int32).max


def merge_duplicate_rows(ids_N: jax.Array, grads_NxD: jax.Array, marks_V: jax.Array):
    """Sum the gradients of equal ids, in O(N) (no sort).

    marks_V: int32 scratch, UNMARKED everywhere on entry and on return. Returns (merged_NxD, marks_V):
    merged_NxD[n] is the sum over all occurrences of ids_N[n] (the same for every occurrence).
    """
    positions_N = jnp.arange(ids_N.shape[0], dtype=jnp.int32)
    marked_V = marks_V.at[ids_N].min(positions_N)
    owner_N = marked_V[ids_N]
    summed_NxD = jnp.zeros_like(grads_NxD).at[owner_N].add(grads_NxD)
    # max(owner, UNMARKED) is UNMARKED; reading owner orders the reset after the gather, so XLA scatters in place
    return summed_NxD[owner_N], marked_V.at[ids_N].set(jnp.maximum(owner_N, UNMARKED))


def adagrad_init(params_VxE: jax.Array, initial_accumulator_value: float = 0.1) -> jax.Array:
    """Packed Adagrad table (V, 2E): each row holds its parameters, then its accumulator (optax's
    sum_of_squares), so one gather and one scatter serve both."""
    return jnp.concatenate([params_VxE, jnp.full_like(params_VxE, initial_accumulator_value)], axis=1)


def adagrad_rows(rows_Nx2E: jax.Array, ids_N: jax.Array, grads_NxE: jax.Array, marks_V: jax.Array,
                 learning_rate: float, eps: float = 1e-7) -> tuple[jax.Array, jax.Array]:
    """optax.adagrad on gathered rows of a packed table (`adagrad_init`): with g an id's summed
    gradient, a ← a + g², p ← p − lr · g / sqrt(a + eps) (no change where a = 0).

    Returns (new_rows_Nx2E, marks_V); equal ids get identical new rows, so write them back with
    `set_rows` (a plain scatter-set, order-free).
    """
    e = grads_NxE.shape[1]
    g_NxE, marks_V = merge_duplicate_rows(ids_N, grads_NxE, marks_V)
    accumulated_NxE = rows_Nx2E[:, e:] + g_NxE * g_NxE
    scale_NxE = jnp.where(accumulated_NxE > 0, jax.lax.rsqrt(accumulated_NxE + eps), 0.0)
    return jnp.concatenate([rows_Nx2E[:, :e] - learning_rate * scale_NxE * g_NxE, accumulated_NxE], axis=1), marks_V


def set_rows(table_VxD: jax.Array, ids_N: jax.Array, rows_NxD: jax.Array) -> jax.Array:
    """table[ids] = rows (equal ids must carry equal rows)."""
    return table_VxD.at[ids_N].set(rows_NxD, mode="promise_in_bounds")


def unmarked(rows: int) -> jax.Array:
    """Fresh scratch for `merge_duplicate_rows`."""
    return jnp.full((rows,), UNMARKED, jnp.int32)
