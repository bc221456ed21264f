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

Large batches: with B examples per update a frequent row (a common word, a noise word, the Huffman root)
receives hundreds of gradients computed from the same stale parameters, and their sum is hundreds of
sequential steps taken at once, which overshoots and diverges. `sgd_rows(max_row_updates=τ)` scales a
row's summed update by min(1, τ / c_v), c_v its number of per-example gradients in the batch: rows seen at
most τ times get exactly plain SGD's update, more frequent ones τ times their mean gradient
(experiments/README.md measures τ and the alternatives).

Determinism: XLA:CPU's scatter-add sums duplicates in their order; GPUs and TPUs add them atomically in
any order. Off the CPU (`in_order=False`), duplicates are therefore merged by a segmented scan over the
ids sorted with their gradients, and the merged rows are written with unique indices, so a run is
bitwise reproducible on one device of any kind.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxembed.chunks import chunk_size, scan_chunks
from jaxembed.losses.logistic import sum_over_window


class RowOptimizer(NamedTuple):
    """init(params_VxD) -> table_VxS; update(table, ids_N, grads_NxD, learning_rate, terms_N=None) -> table
    (terms_N: how many per-example gradients each row of grads sums, for the count-aware update);
    rows(table, ids_N) -> (N, D) parameters of those rows; params(table) -> (V, D) parameters;
    update_factored(table, ids_PxT, coef_PxCxT, rows_PxCxD, learning_rate, terms_PxT=None, chunk=0) -> table: `update`
    with the gradient of row ids[p, t] given as Σ_c coef[p, c, t] · rows[p, c] (`factored_values`), formed `chunk`
    examples at a time where the optimiser forms them in chunks (0: its own choice, APPLY_CHUNK_VALUES)."""

    init: Callable[[jax.Array], jax.Array]
    update: Callable[[jax.Array, jax.Array, jax.Array, jax.Array], jax.Array]
    rows: Callable[[jax.Array, jax.Array], jax.Array]
    params: Callable[[jax.Array], jax.Array]
    update_factored: Callable


def factored_values(coef_PxCxT: jax.Array, rows_PxCxD: jax.Array) -> jax.Array:
    """(P, T, D) v_pt = Σ_c coef_pct · rows_pc: the row gradients a factored update stands for."""
    return sum_over_window(coef_PxCxT, rows_PxCxD)


def factored_terms(coef_PxCxT: jax.Array, terms_PxT: jax.Array | None) -> jax.Array:
    """(P, T) int32 per-example gradients each factored value sums: terms_PxT, or 1 where any coefficient is nonzero."""
    return jnp.any(coef_PxCxT != 0, axis=1).astype(jnp.int32) if terms_PxT is None else terms_PxT.astype(jnp.int32)


def dense_factored(update: Callable) -> Callable:
    """`update_factored` of an optimiser that takes the values whole: they are formed for all P examples at once."""

    def update_factored(table, ids_PxT, coef_PxCxT, rows_PxCxD, learning_rate, terms_PxT=None, chunk=0):
        del chunk  # formed whole
        values_PxTxD = factored_values(coef_PxCxT, rows_PxCxD)
        terms_N = factored_terms(coef_PxCxT, terms_PxT).reshape(-1)
        return update(table, ids_PxT.reshape(-1), values_PxTxD.reshape(-1, values_PxTxD.shape[-1]), learning_rate,
                      terms_N)

    return update_factored


APPLY_CHUNK_VALUES = 1 << 17
"""How many floats of row gradients (examples × rows × D) a factored SGD update forms at a time on a CPU (512 KB),
so that a chunk's values stay in cache between being made and being added (jaxembed.chunks), where the update does
not name the chunks its factors were made in (`FactoredRowUpdate.chunk`, which it then follows)."""


def word2vec_schedule(alpha: float, min_alpha: float, total_words: int) -> optax.Schedule:
    """word2vec's learning rate: linear from `alpha` to `min_alpha` over all training words,

        lr(n) = alpha − (alpha − min_alpha) · min(n, N) / N,   n = corpus words processed.

    N is passed as a float: as a Python int above 2**31 it would not convert to the schedule's int32.
    """
    return optax.linear_schedule(init_value=alpha, end_value=min_alpha, transition_steps=max(float(total_words), 1.0))


def in_order_scatter() -> bool:
    """Whether a scatter-add of duplicate ids sums them in their order (bitwise reproducible): XLA:CPU
    does; GPUs and TPUs add duplicates atomically in any order, so there duplicates are first summed by
    a segmented scan over the sorted ids (`merge_duplicate_rows`)."""
    return jax.default_backend() == "cpu"


def gradient_terms(grads_NxD: jax.Array, terms_N: jax.Array | None) -> jax.Array:
    """(N,) int32 per-example gradients each entry sums: terms_N, or 1 for every nonzero gradient row (padding
    and masked entries, whose gradients are zero, do not count)."""
    return jnp.any(grads_NxD != 0, axis=1).astype(jnp.int32) if terms_N is None else terms_N.astype(jnp.int32)


def occurrence_counts(ids_N: jax.Array, terms_N: jax.Array, rows: int) -> jax.Array:
    """(N,) the number of per-example gradients (terms_N summed) the row of entry n receives in the batch,
    ids in [0, rows). A histogram over the table's rows: integer adds, so exact in any order."""
    return jnp.zeros(rows, jnp.int32).at[ids_N].add(terms_N, mode="promise_in_bounds")[ids_N]


def count_scale(counts_N: jax.Array, max_row_updates: float) -> jax.Array:
    """(N,) s_n = min(1, τ / c_n): a row with c ≤ τ updates in the batch gets their sum, a more frequent one τ
    times their mean (τ = max_row_updates)."""
    return jnp.minimum(1.0, max_row_updates / jnp.maximum(counts_N, 1).astype(jnp.float32))


def sgd_rows(max_row_updates: float | None = None, in_order: bool | None = None) -> RowOptimizer:
    """SGD on rows (no state): p_v ← p_v − lr · s_v · Σ_{n: ids_n = v} g_n, with s_v = 1 (plain SGD, the
    dense gradient's sum) when `max_row_updates` τ is None, else s_v = min(1, τ / c_v), c_v the row's number
    of per-example gradients in the batch (`gradient_terms`, `count_scale`): the count-aware large-batch rule.

    in_order (default: `in_order_scatter()`): duplicates are summed by one scatter-add in their order;
    else merged by `merge_duplicate_rows` first and written with unique indices, so the sum's order is
    fixed on every backend.
    """
    in_order = in_order_scatter() if in_order is None else in_order

    def update(table_VxD, ids_N, grads_NxD, learning_rate, terms_N=None):
        if in_order:
            if max_row_updates is not None:
                counts_N = occurrence_counts(ids_N, gradient_terms(grads_NxD, terms_N), table_VxD.shape[0])
                grads_NxD = grads_NxD * count_scale(counts_N, max_row_updates)[:, None]
            return table_VxD.at[ids_N].add(-learning_rate * grads_NxD, mode="promise_in_bounds")
        unique_N, summed_NxD, counts_N = merge_duplicate_rows(ids_N, grads_NxD, in_order=False, terms_N=terms_N)
        if max_row_updates is not None:
            summed_NxD = summed_NxD * count_scale(counts_N, max_row_updates)[:, None]
        rows_N = padding_apart(unique_N, table_VxD.shape[0])
        return table_VxD.at[rows_N].add(-learning_rate * summed_NxD, mode="drop", unique_indices=True)

    def update_factored(table_VxD, ids_PxT, coef_PxCxT, rows_PxCxD, learning_rate, terms_PxT=None, chunk=0):
        if not in_order:
            return dense_factored(update)(table_VxD, ids_PxT, coef_PxCxT, rows_PxCxD, learning_rate, terms_PxT)
        arrays = (ids_PxT, coef_PxCxT, rows_PxCxD)
        if max_row_updates is not None:
            terms_N = factored_terms(coef_PxCxT, terms_PxT).reshape(-1)
            counts_N = occurrence_counts(ids_PxT.reshape(-1), terms_N, table_VxD.shape[0])
            arrays += (count_scale(counts_N, max_row_updates).reshape(ids_PxT.shape),)

        def add_chunk(table, chunk):
            ids_cxT, coef_cxCxT, rows_cxCxD, *scale_cxT = chunk
            values_cxTxD = factored_values(coef_cxCxT, rows_cxCxD)
            if scale_cxT:
                values_cxTxD = values_cxTxD * scale_cxT[0][:, :, None]
            return table.at[ids_cxT.reshape(-1)].add(-learning_rate * values_cxTxD.reshape(-1, values_cxTxD.shape[-1]),
                                                     mode="promise_in_bounds")

        chunk = chunk or chunk_size(ids_PxT.shape[0], ids_PxT.shape[1] * rows_PxCxD.shape[2], APPLY_CHUNK_VALUES)
        return scan_chunks(add_chunk, table_VxD, arrays, chunk)

    return RowOptimizer(init=lambda params_VxD: params_VxD, update=update, rows=lambda table_VxD, ids_N: table_VxD[ids_N],
                        params=lambda table_VxD: table_VxD, update_factored=update_factored)


def segment_sums(first_N: jax.Array, values_NxD: jax.Array) -> jax.Array:
    """(N, D) inclusive sums of `values` within runs that start where first_N is True: a segmented
    associative scan, whose additions happen in an order fixed by N alone (no atomics)."""

    def combine(a, b):
        (start_a, sum_a), (start_b, sum_b) = a, b
        return start_a | start_b, jnp.where(start_b[..., None], sum_b, sum_a + sum_b)

    return jax.lax.associative_scan(combine, (first_N, values_NxD))[1]


def merge_duplicate_rows(ids_N: jax.Array, grads_NxD: jax.Array, in_order: bool | None = None,
                         terms_N: jax.Array | None = None) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(unique_ids_N, summed_NxD, counts_N): each distinct id once, padded with −1, with its summed gradient
    and its number of per-example gradients (`gradient_terms`; zero rows and counts for the padding). Cost
    O(N log N), whatever the table size; bitwise reproducible either way.

    in_order (default: `in_order_scatter()`): the ids are sorted alone, each occurrence finds its id's slot
    by binary search and a scatter-add sums the gradients into the slots in their original order
    (ascending distinct ids first). Otherwise the gradients are sorted with their ids and `segment_sums`
    adds each run, the sum landing on the run's last entry."""
    in_order = in_order_scatter() if in_order is None else in_order
    touched_N = gradient_terms(grads_NxD, terms_N)
    if in_order:
        sorted_N = jax.lax.sort(ids_N)
        first_N = jnp.concatenate([jnp.ones(1, bool), sorted_N[1:] != sorted_N[:-1]])
        slot_of_sorted_N = jnp.cumsum(first_N) - 1
        slot_N = slot_of_sorted_N[jnp.searchsorted(sorted_N, ids_N)]
        summed_NxD = jnp.zeros_like(grads_NxD).at[slot_N].add(grads_NxD)
        counts_N = jnp.zeros_like(touched_N).at[slot_N].add(touched_N)
        return jnp.full_like(ids_N, -1).at[slot_of_sorted_N].set(sorted_N), summed_NxD, counts_N
    sorted_N, order_N = jax.lax.sort((ids_N, jnp.arange(ids_N.shape[0], dtype=jnp.int32)), num_keys=1, is_stable=True)
    first_N = jnp.concatenate([jnp.ones(1, bool), sorted_N[1:] != sorted_N[:-1]])
    last_N = jnp.concatenate([sorted_N[1:] != sorted_N[:-1], jnp.ones(1, bool)])
    summed_NxD = segment_sums(first_N, grads_NxD[order_N])
    counts_N = segment_sums(first_N, touched_N[order_N][:, None])[:, 0]
    return (jnp.where(last_N, sorted_N, -1), jnp.where(last_N[:, None], summed_NxD, 0.0),
            jnp.where(last_N, counts_N, 0))


def padding_apart(unique_N: jax.Array, rows: int) -> jax.Array:
    """The distinct ids with each −1 padding slot pointing past the table at a row of its own, so the
    indices stay unique: such rows read as 0 (mode "fill") and are never written (mode "drop")."""
    return jnp.where(unique_N >= 0, unique_N, rows + jnp.arange(unique_N.shape[0], dtype=unique_N.dtype))


def adagrad_rows(initial_accumulator_value: float = 0.1, eps: float = 1e-7, in_order: bool | None = None) -> RowOptimizer:
    """optax.adagrad on rows of a packed table [params (D) | sum of squared gradients (D)] (module docstring);
    no change where the accumulator is 0; in_order as for `merge_duplicate_rows`."""

    def init(params_VxD):
        return jnp.concatenate([params_VxD, jnp.full_like(params_VxD, initial_accumulator_value)], axis=1)

    def update(table_Vx2D, ids_N, grads_NxD, learning_rate, terms_N=None):
        del terms_N  # Adagrad's step adapts to the summed gradient's size by itself
        dim, vocab = grads_NxD.shape[1], table_Vx2D.shape[0]
        unique_N, g_NxD, _ = merge_duplicate_rows(ids_N, grads_NxD, in_order)
        rows_N = padding_apart(unique_N, vocab)
        old_Nx2D = table_Vx2D.at[rows_N].get(mode="fill", fill_value=0.0)
        accumulated_NxD = old_Nx2D[:, dim:] + g_NxD * g_NxD
        scale_NxD = jnp.where(accumulated_NxD > 0, jax.lax.rsqrt(accumulated_NxD + eps), 0.0)
        new_Nx2D = jnp.concatenate([old_Nx2D[:, :dim] - learning_rate * scale_NxD * g_NxD, accumulated_NxD], axis=1)
        return table_Vx2D.at[rows_N].set(new_Nx2D, mode="drop", unique_indices=True)

    def rows(table_Vx2D, ids_N):
        return table_Vx2D[ids_N, :table_Vx2D.shape[1] // 2]

    return RowOptimizer(init=init, update=update, rows=rows, params=lambda table_Vx2D: table_Vx2D[:, :table_Vx2D.shape[1] // 2],
                        update_factored=dense_factored(update))
