"""The jitted SGNS step against the dense oracle, and end-to-end determinism."""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxembed.config import TrainConfig
from jaxembed.errors import ConfigError
from jaxembed.losses.sgns import sgns_loss
from jaxembed.optim.sparse import sgd_rows
from jaxembed.train import SGNSState, init_sgns, make_sgns_step, sgns_microbatch, train_sgns


def test_microbatch_equals_dense_grad_and_optax_sgd():
    """Row-sparse step == jax.grad of the summed loss w.r.t. whole tables + optax.sgd, duplicates included."""
    rng = np.random.default_rng(0)
    V, D, P, K, lr = 12, 6, 9, 3, 0.1
    state = SGNSState(jnp.asarray(rng.normal(size=(V, D)), jnp.float32), jnp.asarray(rng.normal(size=(V, D)), jnp.float32))
    inputs = jnp.asarray(rng.integers(0, 4, P), jnp.int32)            # few ids: many duplicates
    outputs = jnp.asarray(rng.integers(0, 4, P), jnp.int32)
    negatives = jnp.asarray(rng.integers(0, 5, (P, K)), jnp.int32)
    valid = jnp.asarray(np.arange(P) < P - 2)

    def total_loss(tables):
        syn0, syn1 = tables
        mask = (negatives != outputs[:, None]).astype(jnp.float32)
        per_pair = sgns_loss(syn0[inputs], syn1[outputs], syn1[negatives], mask)
        return jnp.sum(jnp.where(valid, per_pair, 0.0))

    tables = (state.syn0_VxD, state.syn1_VxD)
    grads = jax.grad(total_loss)(tables)
    updates, _ = optax.sgd(lr).update(grads, optax.sgd(lr).init(tables))
    expected = optax.apply_updates(tables, updates)
    new_state, loss = sgns_microbatch(state, (inputs, outputs, negatives, valid, 0.0), sgd_rows(lr))
    np.testing.assert_allclose(new_state.syn0_VxD, expected[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new_state.syn1_VxD, expected[1], rtol=1e-5, atol=1e-6)
    assert float(loss) == pytest.approx(float(total_loss(tables)), rel=1e-5)


def test_scan_of_microbatches_equals_sequential_steps():
    rng = np.random.default_rng(1)
    V, D, M, P, K = 20, 4, 3, 5, 2
    state = init_sgns(0, V, D)
    state = dataclasses.replace(state, syn1_VxD=jnp.asarray(rng.normal(size=(V, D)) * 0.1, jnp.float32))
    arrays = (rng.integers(0, V, (M, P)).astype(np.int32), rng.integers(0, V, (M, P)).astype(np.int32),
              rng.integers(0, V, (M, P, K)).astype(np.int32), np.ones((M, P), bool), np.arange(M, dtype=np.float32) * 10)
    schedule = lambda n: 0.05 - 0.001 * n
    sequential = state
    for m in range(M):
        sequential, _ = sgns_microbatch(sequential, tuple(a[m] for a in arrays), sgd_rows(schedule))
    copy = SGNSState(jnp.array(state.syn0_VxD), jnp.array(state.syn1_VxD))
    scanned, _ = make_sgns_step(sgd_rows(schedule))(copy, *arrays)
    np.testing.assert_allclose(scanned.syn0_VxD, sequential.syn0_VxD, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(scanned.syn1_VxD, sequential.syn1_VxD, rtol=1e-6, atol=1e-7)


def test_init_follows_word2vec():
    state = init_sgns(3, 1000, 50)
    syn0 = np.asarray(state.syn0_VxD)
    assert syn0.min() >= -0.5 / 50 and syn0.max() <= 0.5 / 50 and abs(syn0.mean()) < 1e-4
    assert not np.asarray(state.syn1_VxD).any()


def test_same_seed_identical_vectors_and_loss_falls(small_corpus):
    config = TrainConfig(dim=16, epochs=2, min_count=3, seed=5)
    first = train_sgns(small_corpus, config, progress=False)
    second = train_sgns(small_corpus, config, progress=False)
    other = train_sgns(small_corpus, config.replace(seed=6), progress=False)
    assert first.vectors.words == second.vectors.words
    np.testing.assert_array_equal(first.vectors.vectors, second.vectors.vectors)
    assert not np.array_equal(first.vectors.vectors, other.vectors.vectors)
    losses = first.metrics["epoch_losses"]
    assert losses[1] < losses[0] < np.log(2) * (1 + config.negative)  # below the loss at init (all scores 0)
    for key in ("words_per_second", "train_seconds", "corpus_words", "epochs", "loss"):
        assert key in first.metrics


@pytest.mark.parametrize("field,value,message", [
    ("dim", 0, "dim must be >= 1"), ("window", 0, "window"), ("negative", 0, "negative"), ("sample", -1.0, "sample"),
    ("batch_size", 0, "batch_size"), ("min_alpha", 0.5, "min_alpha"), ("epochs", 0, "epochs"), ("model", "x", "model"),
])
def test_invalid_hyperparameters_rejected(field, value, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**{field: value})
