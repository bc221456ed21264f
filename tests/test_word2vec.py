"""The word2vec plug-in's step against the dense oracle, and end-to-end determinism."""
import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxembed.config import Word2VecConfig
from jaxembed.data.huffman import build_huffman
from jaxembed.errors import ConfigError
from jaxembed.fit import fit
from jaxembed.losses.hsoftmax import hs_loss
from jaxembed.losses.sgns import sgns_loss
from jaxembed.models import word2vec
from jaxembed.models.word2vec import LAYOUT, Word2VecState, huffman_paths, init_word2vec, output_rows
from jaxembed.optim import sparse
from jaxembed.optim.sparse import sgd_rows
from jaxembed.parallel import data_mesh, make_data_parallel_step


def step_parts(schedule, hs, ns_offset, mode):
    """The plug-in's two halves with row SGD on `schedule` (a function of the words done)."""
    return (functools.partial(word2vec.row_updates, optimizer=sgd_rows(), hs=hs, ns_offset=ns_offset, mode=mode),
            functools.partial(word2vec.apply_updates, optimizer=sgd_rows(), schedule=schedule))


def microbatch(state, batch, schedule, hs, ns_offset, mode):
    """One micro-batch on one device: row updates, then the optimiser step."""
    row_updates, apply_updates = step_parts(schedule, hs, ns_offset, mode)
    updates, loss_sum = row_updates(state, batch)
    return apply_updates(state, updates, batch), loss_sum


def oracle_hidden(rows_BxCxD, mask_BxC, mean):
    """h with word2vec's backward pass: value = masked mean (or sum), ∂h/∂x_c = m_c in both cases."""
    total = jnp.einsum("bc,bcd->bd", mask_BxC, rows_BxCxD)
    if not mean:
        return total
    return total - jax.lax.stop_gradient(total - total / jnp.maximum(mask_BxC.sum(1), 1.0)[:, None])


VARIANTS = [  # (hidden mode, hidden rows per example, hs, negative)
    ("each", 1, False, 3), ("mean", 4, False, 3), ("sum", 4, False, 3),
    ("each", 1, True, 0), ("each", 4, True, 0), ("mean", 4, True, 0), ("each", 1, True, 2),
    ("each", 10, True, 2),  # real slots in the first 3 of 10 only: the step computes over 4 (slot_widths)
]


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("mode,C,hs,negative", VARIANTS)
def test_microbatch_equals_dense_oracle(mode, C, hs, negative, chunked, monkeypatch):
    """Row-sparse step == jax.grad of the pure losses w.r.t. whole tables + optax.sgd (duplicates included).

    "each" with C > 1 (skip-gram windows) must equal the sum of the C pairwise losses. `chunked`: the step of a large
    micro-batch, its gradients taken 3 examples at a time from the same tables, the output rows' as factors added 3
    examples at a time (jaxembed.chunks)."""
    if chunked:
        monkeypatch.setattr(word2vec, "chunk_size", lambda examples, *_: min(examples, 3))
        monkeypatch.setattr(sparse, "chunk_size", lambda examples, *_: min(examples, 3))
    rng = np.random.default_rng(0)
    V, D, P, lr = 9, 5, 8, 0.1
    counts = np.array([40, 20, 15, 10, 8, 5, 3, 2, 1])
    tree = build_huffman(counts)
    offset = V - 1 if hs else 0
    R = output_rows(V, hs, negative)
    state = Word2VecState(jnp.asarray(rng.normal(size=(V, D)), jnp.float32), jnp.asarray(rng.normal(size=(R, D)), jnp.float32))
    hidden = jnp.asarray(rng.integers(0, 4, (P, C)), jnp.int32)           # few ids: many duplicates
    real = jnp.asarray(rng.random((P, C)) < 0.7).at[:, 0].set(True).at[-1].set(False)  # last example is padding
    if C > 4:
        real = real.at[:, 3:].set(False)
    outputs = jnp.asarray(rng.integers(0, V, P), jnp.int32)
    negatives = jnp.asarray(rng.integers(0, 5, (P, negative)), jnp.int32)
    valid = real.any(1)

    def example_loss(syn1, h):
        loss = jnp.zeros(P)
        if hs:
            codes, points = jnp.asarray(tree.codes_VxL[outputs], jnp.float32), tree.points_VxL[outputs]
            loss += hs_loss(h, syn1[points], codes, jnp.asarray(tree.mask_VxL[outputs], jnp.float32))
        if negative:
            mask = (negatives != outputs[:, None]).astype(jnp.float32)
            loss += sgns_loss(h, syn1[outputs + offset], syn1[negatives + offset], mask)
        return jnp.where(valid, loss, 0.0)

    def total_loss(tables):
        syn0, syn1 = tables
        if mode == "each":
            return sum(jnp.sum(real[:, c] * example_loss(syn1, syn0[hidden[:, c]])) for c in range(C))
        return jnp.sum(example_loss(syn1, oracle_hidden(syn0[hidden], real.astype(jnp.float32), mode == "mean")))

    tables = (state.syn0_VxD, state.syn1_RxD)
    grads = jax.grad(total_loss)(tables)
    updates, _ = optax.sgd(lr).update(grads, optax.sgd(lr).init(tables))
    expected = optax.apply_updates(tables, updates)
    paths = huffman_paths(tree if hs else None)
    new_state, loss = microbatch(state, (hidden, real, outputs, negatives, 0.0, *paths), lambda n: lr, hs, offset, mode)
    np.testing.assert_allclose(new_state.syn0_VxD, expected[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new_state.syn1_RxD, expected[1], rtol=1e-5, atol=1e-6)
    assert float(loss) == pytest.approx(float(total_loss(tables)), rel=1e-5)


def test_the_step_takes_the_narrowest_compiled_width_holding_every_real_slot():
    assert word2vec.slot_widths(10) == (2, 4, 6, 8, 10) and word2vec.slot_widths(4) == (1, 2, 3, 4)
    assert word2vec.slot_widths(1) == (1,) and word2vec.slot_widths(64) == (13, 26, 39, 52, 64)
    real = np.zeros((3, 10), bool)
    widths = word2vec.slot_widths(10)
    assert int(word2vec.width_branch(jnp.asarray(real), widths)) == 0  # padding micro-batch
    real[1, :3] = True
    assert widths[int(word2vec.width_branch(jnp.asarray(real), widths))] == 4
    real[2, 9] = True  # a window not packed first still gets every slot
    assert widths[int(word2vec.width_branch(jnp.asarray(real), widths))] == 10


def test_scan_of_microbatches_equals_sequential_steps():
    rng = np.random.default_rng(1)
    V, D, M, P, K = 20, 4, 3, 5, 2
    state = init_word2vec(0, V, D, V)
    state = dataclasses.replace(state, syn1_RxD=jnp.asarray(rng.normal(size=(V, D)) * 0.1, jnp.float32))
    arrays = (rng.integers(0, V, (M, P, 1)).astype(np.int32), np.ones((M, P, 1), bool), rng.integers(0, V, (M, P)).astype(np.int32),
              rng.integers(0, V, (M, P, K)).astype(np.int32), np.arange(M, dtype=np.float32) * 10)
    schedule = lambda n: 0.05 - 0.001 * n
    paths = huffman_paths(None)
    sequential = state
    for m in range(M):
        sequential, _ = microbatch(sequential, tuple(a[m] for a in arrays) + paths, schedule, False, 0, "each")
    copy = Word2VecState(jnp.array(state.syn0_VxD), jnp.array(state.syn1_RxD))
    step = make_data_parallel_step(*step_parts(schedule, False, 0, "each"), data_mesh(1), LAYOUT)
    scanned, _ = step(copy, *arrays, *paths)  # P = 5
    np.testing.assert_allclose(scanned.syn0_VxD, sequential.syn0_VxD, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(scanned.syn1_RxD, sequential.syn1_RxD, rtol=1e-6, atol=1e-7)


def test_init_follows_word2vec():
    state = init_word2vec(3, 1000, 50, 999 + 1000)
    syn0 = np.asarray(state.syn0_VxD)
    assert syn0.min() >= -0.5 / 50 and syn0.max() <= 0.5 / 50 and abs(syn0.mean()) < 1e-4
    assert state.syn1_RxD.shape == (1999, 50) and not np.asarray(state.syn1_RxD).any()


def test_same_seed_identical_vectors_and_loss_falls(small_corpus):
    config = Word2VecConfig(dim=16, epochs=2, min_count=3, seed=5)
    first = fit(small_corpus, config, progress=False)
    second = fit(small_corpus, config, progress=False)
    other = fit(small_corpus, config.replace(seed=6), progress=False)
    assert first.vectors.words == second.vectors.words
    np.testing.assert_array_equal(first.vectors.vectors, second.vectors.vectors)
    assert not np.array_equal(first.vectors.vectors, other.vectors.vectors)
    losses = first.metrics["epoch_losses"]
    assert losses[1] < losses[0] < np.log(2) * (1 + 5)  # below the loss at init (all scores 0, 5 noise words)
    for key in ("words_per_second", "train_seconds", "corpus_words", "epochs", "loss"):
        assert key in first.metrics


@pytest.mark.parametrize("model", ["cbow", "sg-hs", "cbow-hs"])
def test_other_variants_deterministic_and_learn(small_corpus, model):
    config = Word2VecConfig(model=model, dim=16, epochs=3, min_count=3, seed=5)
    first = fit(small_corpus, config, progress=False)
    second = fit(small_corpus, config, progress=False)
    np.testing.assert_array_equal(first.vectors.vectors, second.vectors.vectors)
    assert first.metrics["epoch_losses"][-1] < first.metrics["epoch_losses"][0]


@pytest.mark.parametrize("model", ["sgns", "cbow"])
def test_shuffled_sentences_deterministic_and_not_file_order(small_corpus, model):
    config = Word2VecConfig(model=model, dim=16, epochs=2, min_count=3, seed=5, shuffle=True)
    first = fit(small_corpus, config, progress=False)
    second = fit(small_corpus, config, progress=False)
    in_order = fit(small_corpus, config.replace(shuffle=False), progress=False)
    np.testing.assert_array_equal(first.vectors.vectors, second.vectors.vectors)
    assert not np.array_equal(first.vectors.vectors, in_order.vectors.vectors)
    assert first.metrics["epoch_losses"][1] < first.metrics["epoch_losses"][0]


def test_model_defaults_follow_word2vec():
    resolved = lambda **settings: Word2VecConfig(**settings).resolved()
    assert (resolved(model="sgns").alpha, resolved(model="cbow").alpha) == (0.025, 0.05)
    assert (resolved(model="sg-hs").hs, resolved(model="sg-hs").negative) == (True, 0)
    assert (resolved(model="cbow").hs, resolved(model="cbow").negative) == (False, 5)
    assert resolved(model="sgns", hs=True).negative == 5
    assert [resolved(model=m).batch_size for m in ("sgns", "cbow", "sg-hs", "cbow-hs")] == [64, 64, 16, 64]
    assert resolved(model="sgns", hs=True).batch_size == 64  # NS pairs, not windows
    assert Word2VecConfig().replace(model="sg-hs").resolved().hs  # an unresolved config takes the new model's defaults
    assert Word2VecConfig(model="cbow").alpha is None and resolved(model="cbow", alpha=0.01).alpha == 0.01


@pytest.mark.parametrize("field,value,message", [
    ("dim", 0, "dim must be >= 1"), ("window", 0, "window"), ("negative", 0, "negative must be >= 1 when"),
    ("negative", -1, "negative must be >= 0"), ("sample", -1.0, "sample"),
    ("batch_size", 0, "batch_size"), ("min_alpha", 0.5, "min_alpha"), ("epochs", 0, "epochs"), ("model", "x", "model"),
])
def test_invalid_hyperparameters_rejected(field, value, message):
    with pytest.raises(ConfigError, match=message):
        Word2VecConfig(**{field: value})


@pytest.mark.parametrize("model", ["sgns", "sg-hs"])
def test_micro_batches_per_call_change_speed_not_results(small_corpus, model):
    """Grouping the same micro-batches into calls of 8 or of 64 trains the same vectors (bitwise) with one replica
    (replicas take whole calls)."""
    config = Word2VecConfig(model=model, dim=8, epochs=1, min_count=3, devices=1, replicas=1)
    few = fit(small_corpus, config.replace(batches_per_call=8), progress=False)
    many = fit(small_corpus, config.replace(batches_per_call=64), progress=False)
    assert few.vectors.vectors.tobytes() == many.vectors.vectors.tobytes()


@pytest.mark.parametrize("power", [0.75, 1.0, 0.0])
def test_noise_power_sets_the_noise_distribution(power):
    """noise_power (gensim's ns_exponent) is the exponent of P_n(w) ∝ count^power: 0.75 by default, 1 the unigram
    distribution the theory experiments use."""
    counts = np.array([1000, 300, 40, 5])
    config = Word2VecConfig(noise_power=power) if power != 0.75 else Word2VecConfig()
    expected = counts.astype(np.float64) ** power
    np.testing.assert_allclose(word2vec.corpus_sampling(counts, config).noise.probabilities(), expected / expected.sum(),
                               atol=1e-8)
    with pytest.raises(ConfigError, match="noise_power must be >= 0"):
        Word2VecConfig(noise_power=-1.0)
