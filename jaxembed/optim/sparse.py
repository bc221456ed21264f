"""Row-sparse optimisers: optax-shaped `init`/`update` pairs applied to gathered rows of a table.

An update never touches rows outside `ids`, so a step costs O(rows touched), not O(V). Duplicate
ids are summed by the scatter, which equals the dense gradient's row sums; for SGD (linear in the
gradient) the result is exactly dense `optax.sgd` on the full table (tested).
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

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
