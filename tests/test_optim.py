"""Row-sparse SGD against dense optax.sgd on the whole table (the oracle)."""
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxembed.optim.sparse import apply_rows, sgd_rows, word2vec_schedule


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
