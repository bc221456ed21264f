"""Row-sparse optimisers against dense optax on the whole table (the oracle)."""
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxembed.optim.sparse import adagrad_rows, merge_duplicate_rows, sgd_rows, word2vec_schedule


def test_sparse_sgd_equals_dense_optax_with_duplicate_ids():
    rng = np.random.default_rng(0)
    table = jnp.asarray(rng.normal(size=(10, 3)), jnp.float32)
    ids = jnp.array([1, 4, 1, 9, 4, 4])
    row_targets = jnp.asarray(rng.normal(size=(6, 3)), jnp.float32)
    loss = lambda t: 0.5 * jnp.sum((t[ids] - row_targets) ** 2)
    dense_update, _ = optax.sgd(0.1).update(jax.grad(loss)(table), optax.sgd(0.1).init(table))
    expected = optax.apply_updates(table, dense_update)
    opt = sgd_rows()
    packed = opt.init(table)
    updated = opt.update(packed, ids, opt.rows(packed, ids) - row_targets, 0.1)
    np.testing.assert_allclose(opt.params(updated), expected, rtol=1e-6)


def test_word2vec_schedule_is_linear_in_words():
    schedule = word2vec_schedule(0.025, 0.0001, 1000)
    for n in (0, 250, 999, 1000, 5000):
        assert np.isclose(schedule(n), 0.025 - (0.025 - 0.0001) * min(n, 1000) / 1000)


def test_sparse_adagrad_equals_dense_optax_over_steps_with_duplicates():
    rng = np.random.default_rng(1)
    params = jnp.asarray(rng.normal(size=(12, 4)), jnp.float32)
    dense_opt = optax.adagrad(0.3, initial_accumulator_value=1.0)
    dense, dense_state = params, dense_opt.init(params)
    opt = adagrad_rows(initial_accumulator_value=1.0)
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


def test_merge_duplicate_rows_sums_each_ids_gradients():
    ids = jnp.array([3, 1, 3, 3, 0])
    grads = jnp.arange(5.0)[:, None] * jnp.ones((1, 2))
    unique, merged = merge_duplicate_rows(ids, grads)
    np.testing.assert_array_equal(unique, [0, 1, 3, -1, -1])
    np.testing.assert_array_equal(merged[:, 0], [4, 1, 0 + 2 + 3, 0, 0])
