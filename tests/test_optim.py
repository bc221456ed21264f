"""Row-sparse SGD against dense optax.sgd on the whole table (the oracle)."""
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxembed.optim.sparse import (UNMARKED, adagrad_init, adagrad_rows, apply_rows, merge_duplicate_rows, set_rows, sgd_rows,
                                   unmarked, word2vec_schedule)


def test_sparse_sgd_equals_dense_optax_with_duplicate_ids():
    rng = np.random.default_rng(0)
    table = jnp.asarray(rng.normal(size=(10, 3)), jnp.float32)
    ids = jnp.array([1, 4, 1, 9, 4, 4])
    row_targets = jnp.asarray(rng.normal(size=(6, 3)), jnp.float32)
    loss = lambda t: 0.5 * jnp.sum((t[ids] - row_targets) ** 2)
    dense_grad = jax.grad(loss)(table)
    dense_update, _ = optax.sgd(0.1).update(dense_grad, optax.sgd(0.1).init(table))
    expected = optax.apply_updates(table, dense_update)
    opt = sgd_rows(0.1)
    row_update, _ = opt.update(ids, table[ids] - row_targets, opt.init(table), 0)
    np.testing.assert_allclose(apply_rows(table, ids, row_update), expected, rtol=1e-6)


def test_word2vec_schedule_is_linear_in_words():
    schedule = word2vec_schedule(0.025, 0.0001, 1000)
    for n in (0, 250, 999, 1000, 5000):
        assert np.isclose(schedule(n), 0.025 - (0.025 - 0.0001) * min(n, 1000) / 1000)
    update, _ = sgd_rows(schedule).update(None, jnp.ones((2, 2)), None, 500)
    np.testing.assert_allclose(update, -schedule(500) * np.ones((2, 2)), rtol=1e-6)


def test_sparse_adagrad_equals_dense_optax_over_steps_with_duplicates():
    rng = np.random.default_rng(1)
    params = jnp.asarray(rng.normal(size=(12, 4)), jnp.float32)
    dense_opt = optax.adagrad(0.3, initial_accumulator_value=1.0)
    dense, dense_state = params, dense_opt.init(params)
    table, marks = adagrad_init(params, initial_accumulator_value=1.0), unmarked(12)
    for _ in range(4):
        ids = jnp.asarray(rng.integers(0, 6, 9))  # few ids: many duplicates; rows 6..11 never touched
        targets = jnp.asarray(rng.normal(size=(9, 4)), jnp.float32)
        loss = lambda t: 0.5 * jnp.sum((t[ids] - targets) ** 2)
        updates, dense_state = dense_opt.update(jax.grad(loss)(dense), dense_state)
        dense = optax.apply_updates(dense, updates)
        rows, marks = adagrad_rows(table[ids], ids, table[ids, :4] - targets, marks, 0.3)
        table = set_rows(table, ids, rows)
        np.testing.assert_allclose(table[:, :4], dense, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(table[:, 4:], dense_state[0].sum_of_squares, rtol=1e-5)
    assert (np.asarray(marks) == UNMARKED).all()  # scratch restored


def test_merge_duplicate_rows_sums_each_ids_gradients():
    ids = jnp.array([3, 1, 3, 3, 0])
    grads = jnp.arange(5.0)[:, None] * jnp.ones((1, 2))
    merged, marks = merge_duplicate_rows(ids, grads, unmarked(5))
    np.testing.assert_array_equal(merged[:, 0], [0 + 2 + 3, 1, 5, 5, 4])
    assert (np.asarray(marks) == UNMARKED).all()
