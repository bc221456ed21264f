"""Row-sparse optimisers against dense optax on the whole table (the oracle)."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxembed.optim import sparse
from jaxembed.optim.sparse import (adagrad_rows, gradient_terms, merge_duplicate_rows, occurrence_counts, sgd_rows,
                                   word2vec_schedule)


@pytest.mark.parametrize("in_order", [True, False])
def test_sparse_sgd_equals_dense_optax_with_duplicate_ids(in_order):
    rng = np.random.default_rng(0)
    table = jnp.asarray(rng.normal(size=(10, 3)), jnp.float32)
    ids = jnp.array([1, 4, 1, 9, 4, 4])
    row_targets = jnp.asarray(rng.normal(size=(6, 3)), jnp.float32)
    loss = lambda t: 0.5 * jnp.sum((t[ids] - row_targets) ** 2)
    dense_update, _ = optax.sgd(0.1).update(jax.grad(loss)(table), optax.sgd(0.1).init(table))
    expected = optax.apply_updates(table, dense_update)
    opt = sgd_rows(in_order=in_order)
    packed = opt.init(table)
    updated = opt.update(packed, ids, opt.rows(packed, ids) - row_targets, 0.1)
    np.testing.assert_allclose(opt.params(updated), expected, rtol=1e-6)


def test_word2vec_schedule_is_linear_in_words():
    schedule = word2vec_schedule(0.025, 0.0001, 1000)
    for n in (0, 250, 999, 1000, 5000):
        assert np.isclose(schedule(n), 0.025 - (0.025 - 0.0001) * min(n, 1000) / 1000)


@pytest.mark.parametrize("in_order", [True, False])
def test_sparse_adagrad_equals_dense_optax_over_steps_with_duplicates(in_order):
    rng = np.random.default_rng(1)
    params = jnp.asarray(rng.normal(size=(12, 4)), jnp.float32)
    dense_opt = optax.adagrad(0.3, initial_accumulator_value=1.0)
    dense, dense_state = params, dense_opt.init(params)
    opt = adagrad_rows(initial_accumulator_value=1.0, in_order=in_order)
    table = opt.init(params)
    for _ in range(4):
        ids = jnp.asarray(rng.integers(0, 6, 9))  # few ids: many duplicates; rows 6..11 never touched
        targets = jnp.asarray(rng.normal(size=(9, 4)), jnp.float32)
        loss = lambda t: 0.5 * jnp.sum((t[ids] - targets) ** 2)
        updates, dense_state = dense_opt.update(jax.grad(loss)(dense), dense_state)
        dense = optax.apply_updates(dense, updates)
        table = opt.update(table, ids, opt.rows(table, ids) - targets, 0.3)
        np.testing.assert_allclose(opt.params(table), dense, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(table[:, 4:], dense_state[0].sum_of_squares, rtol=1e-5)


def test_merge_duplicate_rows_sums_and_counts_each_ids_gradients():
    ids = jnp.array([3, 1, 3, 3, 0, 1])
    grads = jnp.arange(6.0)[:, None] * jnp.ones((1, 2))  # entry 0's gradient is zero: not counted
    unique, merged, counts = merge_duplicate_rows(ids, grads, in_order=True)
    np.testing.assert_array_equal(unique, [0, 1, 3, -1, -1, -1])
    np.testing.assert_array_equal(merged[:, 0], [4, 1 + 5, 0 + 2 + 3, 0, 0, 0])
    np.testing.assert_array_equal(counts, [1, 2, 2, 0, 0, 0])
    unique, merged, counts = merge_duplicate_rows(ids, grads, in_order=False)  # sums on each run's last entry
    np.testing.assert_array_equal(unique, [0, -1, 1, -1, -1, 3])
    np.testing.assert_array_equal(merged[:, 0], [4, 0, 6, 0, 0, 5])
    np.testing.assert_array_equal(counts, [1, 0, 2, 0, 0, 2])
    np.testing.assert_array_equal(occurrence_counts(ids, gradient_terms(grads, None), 5), [2, 2, 2, 2, 1, 2])
    np.testing.assert_array_equal(occurrence_counts(ids, jnp.array([1, 1, 2, 3, 1, 4]), 5), [6, 5, 6, 6, 1, 5])


@pytest.mark.parametrize("in_order", [True, False])
def test_count_aware_sgd_caps_a_frequent_rows_step_at_tau_mean_updates(in_order):
    """Oracle: per row, the sum of its gradients when it has at most τ of them, else τ times their mean."""
    rng = np.random.default_rng(2)
    table = jnp.asarray(rng.normal(size=(8, 3)), jnp.float32)
    ids = jnp.asarray(np.concatenate([np.zeros(20, int), np.ones(3, int), [5, 7, 7]]))
    grads = jnp.asarray(rng.normal(size=(len(ids), 3)), jnp.float32).at[-1].set(0.0)  # a masked entry
    tau, lr = 4.0, 0.1
    expected = np.asarray(table).copy()
    for row in np.unique(ids):
        g = np.asarray(grads)[np.asarray(ids) == row]
        g = g[np.any(g != 0, axis=1)]
        expected[row] -= lr * g.sum(axis=0) * min(1.0, tau / len(g))
    opt = sgd_rows(max_row_updates=tau, in_order=in_order)
    np.testing.assert_allclose(opt.update(table, ids, grads, lr), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("in_order", [True, False])
@pytest.mark.parametrize("tau", [None, 3.0])
@pytest.mark.parametrize("given_terms", [False, True])
@pytest.mark.parametrize("chunk", [0, 2])
def test_factored_sgd_equals_the_update_of_its_values(in_order, tau, given_terms, chunk, monkeypatch):
    """Oracle (numpy): row ids[p, t] receives Σ_c coef[p, c, t] · rows[p, c], summed per row and, with τ, scaled by
    min(1, τ / its terms); the values are formed three examples at a time (the last chunk holding two), or in the
    update's own chunks of two (the last holding one)."""
    monkeypatch.setattr(sparse, "APPLY_CHUNK_VALUES", 3 * 3 * 4)  # 3 examples × T × D
    rng = np.random.default_rng(4)
    P, C, T, D, V, lr = 5, 2, 3, 4, 6, 0.1
    table = jnp.asarray(rng.normal(size=(V, D)), jnp.float32)
    ids = rng.integers(0, 3, (P, T))
    coef = rng.normal(size=(P, C, T)).astype(np.float32)
    coef[1, :, 2] = 0.0  # a masked target: no term
    rows = rng.normal(size=(P, C, D)).astype(np.float32)
    terms = rng.integers(1, 4, (P, T)) * np.any(coef != 0, axis=1) if given_terms else np.any(coef != 0, axis=1)
    values = np.einsum("pct,pcd->ptd", coef, rows)
    expected = np.asarray(table).copy()
    for row in np.unique(ids):
        at = ids == row
        expected[row] -= lr * values[at].sum(axis=0) * (1.0 if tau is None else min(1.0, tau / terms[at].sum()))
    opt = sgd_rows(max_row_updates=tau, in_order=in_order)
    got = opt.update_factored(table, jnp.asarray(ids), jnp.asarray(coef), jnp.asarray(rows), lr,
                              jnp.asarray(terms) if given_terms else None, chunk)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_merge_in_sorted_runs_is_bitwise_reproducible():
    rng = np.random.default_rng(3)
    ids = jnp.asarray(rng.zipf(1.5, 5000) % 50)
    grads = jnp.asarray(rng.normal(size=(5000, 16)), jnp.float32)
    merge = jax.jit(lambda i, g: merge_duplicate_rows(i, g, in_order=False))
    first, second = merge(ids, grads), merge(ids, grads)
    for a, b in zip(first, second):
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes()
