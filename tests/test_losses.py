"""Hand-derived gradients of the pure losses against jax.grad (the oracle), jit and no-jit."""
import functools
import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxembed.data.huffman import build_huffman
from jaxembed.losses.cbow import cbow_hidden, cbow_loss, context_row_updates
from jaxembed.losses.glove import glove_grads, glove_loss
from jaxembed.losses.hsoftmax import hs_log_probs, hs_loss, hs_targets
from jaxembed.losses.logistic import batch_logistic_loss, logistic_grads, window_logistic_grads
from jaxembed.losses.sgns import sgns_loss, sgns_targets

jax.config.update("jax_enable_x64", False)


def random_rows(seed, b=7, k=5, d=16, scale=1.0):
    rng = np.random.default_rng(seed)
    w = jnp.asarray(rng.normal(size=(b, d)) * scale, jnp.float32)
    c = jnp.asarray(rng.normal(size=(b, d)) * scale, jnp.float32)
    neg = jnp.asarray(rng.normal(size=(b, k, d)) * scale, jnp.float32)
    mask = jnp.asarray(rng.random((b, k)) > 0.2, jnp.float32)
    return w, c, neg, mask


def sgns_problem(seed, b=7, k=5, v=12, d=16, scale=1.0):
    """A table, pairs (w, output) and noise ids, some equal to the output (masked): (table, w, outputs, negatives)."""
    rng = np.random.default_rng(seed)
    table = jnp.asarray(rng.normal(size=(v, d)) * scale, jnp.float32)
    w = jnp.asarray(rng.normal(size=(b, d)) * scale, jnp.float32)
    return table, w, jnp.asarray(rng.integers(0, 4, b)), jnp.asarray(rng.integers(0, 4, (b, k)))


class SGNSGradientTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_training_gradients_equal_autodiff_of_sgns_loss(self):
        """What training computes (the logistic core on sgns_targets) == jax.grad of the textbook SGNS loss."""
        for seed, scale in [(0, 0.3), (1, 1.0), (2, 8.0)]:  # scale 8 saturates σ(w·c) (|s| ~ 30)
            table, w, outputs, negatives = sgns_problem(seed, scale=scale)
            mask = (negatives != outputs[:, None]).astype(jnp.float32)
            total = lambda w, c, neg: jnp.sum(sgns_loss(w, c, neg, mask))
            expected = self.variant(jax.grad(total, argnums=(0, 1, 2)))(w, table[outputs], table[negatives])
            ids, labels, weights = sgns_targets(outputs, negatives, jnp.ones(len(outputs), bool))
            dw, dout, loss = self.variant(logistic_grads)(w, table[ids], labels, weights)
            chex.assert_trees_all_close((dw, dout[:, 0], dout[:, 1:]), expected, rtol=2e-5, atol=2e-5)
            chex.assert_tree_all_finite(dout)
            np.testing.assert_allclose(loss, sgns_loss(w, table[outputs], table[negatives], mask), rtol=1e-5)

    @chex.variants(with_jit=True, without_jit=True)
    def test_logistic_core_gradients_equal_autodiff(self):
        rng = np.random.default_rng(3)
        h = jnp.asarray(rng.normal(size=(5, 8)), jnp.float32)
        out = jnp.asarray(rng.normal(size=(5, 4, 8)) * 3, jnp.float32)
        labels = jnp.asarray(rng.random((5, 4)) > 0.5, jnp.float32)
        weights = jnp.asarray(rng.random((5, 4)), jnp.float32)
        total = lambda h, out: jnp.sum(batch_logistic_loss(h, out, labels, weights))
        dh, dout = self.variant(jax.grad(total, argnums=(0, 1)))(h, out)
        got_dh, got_dout, loss = self.variant(logistic_grads)(h, out, labels, weights)
        chex.assert_trees_all_close((got_dh, got_dout), (dh, dout), rtol=1e-5, atol=1e-6)
        chex.assert_trees_all_close(loss, batch_logistic_loss(h, out, labels, weights), rtol=1e-6)

    @chex.variants(with_jit=True, without_jit=True)
    def test_window_gradients_equal_autodiff_of_pairwise_sum(self):
        """C hidden vectors sharing T targets == the pairwise losses summed over masked (c, t);
        C = 1 (pairs) and C > 1 (windows) take different code paths."""
        rng = np.random.default_rng(7)
        for scale, window in itertools.product((0.5, 6.0), (1, 6)):  # 6.0 saturates
            h = jnp.asarray(rng.normal(size=(4, window, 8)) * scale, jnp.float32)
            hidden_mask = jnp.asarray(rng.random((4, window)) > 0.4, jnp.float32)
            out = jnp.asarray(rng.normal(size=(4, 5, 8)) * scale, jnp.float32)
            labels = jnp.asarray(rng.random((4, 5)) > 0.5, jnp.float32)
            weights = jnp.asarray(rng.random((4, 5)) > 0.3, jnp.float32)

            def total(h, out):
                pairwise = jax.vmap(batch_logistic_loss, in_axes=(1, None, None, None), out_axes=1)(h, out, labels, weights)
                return jnp.sum(hidden_mask * pairwise)

            dh, dout = self.variant(jax.grad(total, argnums=(0, 1)))(h, out)
            got_dh, got_dout, loss = self.variant(window_logistic_grads)(h, hidden_mask, out, labels, weights)
            chex.assert_trees_all_close((got_dh, got_dout), (dh, dout), rtol=2e-5, atol=2e-5)
            np.testing.assert_allclose(jnp.sum(loss), total(h, out), rtol=1e-5)


def test_sgns_loss_matches_definition():
    """L = −log σ(w·c) − Σ_k m_k log σ(−w·n_k), computed independently in float64 numpy."""
    w, c, neg, mask = random_rows(4, scale=2.0)
    w64, c64, n64, m64 = (np.asarray(a, np.float64) for a in (w, c, neg, mask))
    log_sigmoid = lambda x: -np.logaddexp(0.0, -x)
    expected = -log_sigmoid(np.sum(w64 * c64, -1)) - np.sum(m64 * log_sigmoid(-np.einsum("bd,bkd->bk", w64, n64)), -1)
    np.testing.assert_allclose(sgns_loss(w, c, neg, mask), expected, rtol=1e-5)


def test_saturated_scores_give_finite_loss():
    w, c, neg, mask = random_rows(5, scale=30.0)
    assert np.isfinite(np.asarray(sgns_loss(w, c, neg, mask))).all()


def test_targets_mask_noise_equal_to_output_and_padding():
    out = jnp.array([3, 4, 5])
    neg = jnp.array([[3, 1], [2, 2], [5, 5]])
    valid = jnp.array([True, True, False])
    targets, labels, weights = sgns_targets(out, neg, valid)
    np.testing.assert_array_equal(labels, [[1, 0, 0]] * 3)
    np.testing.assert_array_equal(targets, [[3, 3, 1], [4, 2, 2], [5, 5, 5]])
    np.testing.assert_array_equal(weights, [[1, 0, 1], [1, 1, 1], [0, 0, 0]])


class CBOWAndHSGradientTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_cbow_training_gradients_equal_autodiff_with_word2vec_backward(self):
        """word2vec's CBOW update: every context row receives ∂L/∂h (n × the exact gradient of the mean). It is
        jax.grad of the loss whose hidden vector has the mean as value and the sum's backward pass."""
        rng = np.random.default_rng(6)
        for mean in (True, False):
            ctx = jnp.asarray(rng.normal(size=(6, 4, 8)), jnp.float32)
            ctx_mask = jnp.asarray(rng.random((6, 4)) < 0.6, jnp.float32).at[:, 0].set(1.0)  # 1..4 context words
            _, c, neg, neg_mask = random_rows(7, b=6, k=3, d=8, scale=2.0)

            def total(ctx, c, neg):
                summed = jnp.einsum("bc,bcd->bd", ctx_mask, ctx)
                h = summed - jax.lax.stop_gradient(summed - cbow_hidden(ctx, ctx_mask, mean))
                return jnp.sum(sgns_loss(h, c, neg, neg_mask))

            expected = self.variant(jax.grad(total, argnums=(0, 1, 2)))(ctx, c, neg)
            out = jnp.concatenate([c[:, None], neg], axis=1)
            labels = jnp.zeros(4).at[0].set(1.0)
            weights = jnp.concatenate([jnp.ones((6, 1)), neg_mask], axis=1)

            def training(ctx, out):
                dh, dout, _ = logistic_grads(cbow_hidden(ctx, ctx_mask, mean), out, labels, weights)
                return context_row_updates(dh, ctx_mask), dout[:, 0], dout[:, 1:]

            chex.assert_trees_all_close(self.variant(training)(ctx, out), expected, rtol=2e-5, atol=2e-6)
            np.testing.assert_allclose(jnp.sum(cbow_loss(ctx, ctx_mask, c, neg, neg_mask, mean)), total(ctx, c, neg),
                                       rtol=1e-6)

    @chex.variants(with_jit=True, without_jit=True)
    def test_hs_training_gradients_equal_autodiff_on_padded_paths(self):
        """The logistic core on hs_targets (labels 1 − code) == jax.grad of the HS loss."""
        rng = np.random.default_rng(8)
        tree = build_huffman(np.array([50, 30, 30, 12, 9, 9, 7, 3, 2, 1, 1]))
        codes, points, mask = (jnp.asarray(a, dtype) for a, dtype in ((tree.codes_VxL, jnp.float32), (tree.points_VxL, jnp.int32),
                                                                         (tree.mask_VxL, jnp.float32)))
        h = jnp.asarray(rng.normal(size=(5, 8)), jnp.float32)
        inner = jnp.asarray(rng.normal(size=(10, 8)) * 3, jnp.float32)
        outputs = jnp.asarray([0, 3, 7, 10, 10])
        total = lambda h, nodes: jnp.sum(hs_loss(h, nodes, codes[outputs], mask[outputs]))
        expected = self.variant(jax.grad(total, argnums=(0, 1)))(h, inner[points[outputs]])
        ids, labels, weights = hs_targets(outputs, jnp.ones(5, bool), codes, points, mask)
        dh, dnodes, _ = self.variant(logistic_grads)(h, inner[ids], labels, weights)
        chex.assert_trees_all_close((dh, dnodes), expected, rtol=2e-5, atol=2e-6)
        assert not np.asarray(expected[1])[np.asarray(mask[outputs]) == 0].any()  # padded path nodes get no gradient


def test_cbow_hidden_is_masked_mean():
    ctx = jnp.arange(24, dtype=jnp.float32).reshape(2, 3, 4)
    mask = jnp.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    np.testing.assert_allclose(cbow_hidden(ctx, mask), [(ctx[0, 0] + ctx[0, 2]) / 2, ctx[1, 1]])
    np.testing.assert_allclose(cbow_hidden(ctx, mask, mean=False), [ctx[0, 0] + ctx[0, 2], ctx[1, 1]])


def test_hs_probabilities_sum_to_one_over_vocabulary():
    """Checks the Huffman tree and the HS loss together: Σ_w p(w | h) = 1 for any h."""
    counts = np.array([50, 30, 30, 12, 9, 9, 7, 3, 2, 1, 1])
    tree = build_huffman(counts)
    rng = np.random.default_rng(9)
    inner = jnp.asarray(rng.normal(size=(len(counts) - 1, 6)), jnp.float32)
    for _ in range(3):
        h = jnp.asarray(rng.normal(size=6) * 2, jnp.float32)
        log_p = hs_log_probs(h, inner, jnp.asarray(tree.codes_VxL, jnp.float32), jnp.asarray(tree.points_VxL),
                             jnp.asarray(tree.mask_VxL, jnp.float32))
        assert float(jnp.sum(jnp.exp(log_p))) == pytest.approx(1.0, abs=1e-5)
        # and −log p(w|h) is exactly the HS loss of w's path
        w = 7
        path_loss = hs_loss(h[None], inner[tree.points_VxL[w]][None], jnp.asarray(tree.codes_VxL[w:w + 1], jnp.float32),
                            jnp.asarray(tree.mask_VxL[w:w + 1], jnp.float32))
        assert float(path_loss[0]) == pytest.approx(-float(log_p[w]), rel=1e-5)


class GloVeGradientTest(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_hand_gradients_equal_autodiff(self):
        rng = np.random.default_rng(8)
        for scale in (0.1, 2.0):
            w, wc = (jnp.asarray(rng.normal(size=(9, 6)) * scale, jnp.float32) for _ in range(2))
            b, bc = (jnp.asarray(rng.normal(size=9), jnp.float32) for _ in range(2))
            x = jnp.asarray(np.concatenate([[1.0, 10.0, 150.0], rng.uniform(0.1, 300, 6)]), jnp.float32)  # both sides of x_max
            total = lambda *p: jnp.sum(glove_loss(*p, x, 100.0, 0.75))
            expected = self.variant(jax.grad(total, argnums=(0, 1, 2, 3)))(w, wc, b, bc)
            *got, loss = self.variant(glove_grads)(w, wc, b, bc, x, 100.0, 0.75)
            chex.assert_trees_all_close(tuple(got), expected, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(jnp.sum(loss), total(w, wc, b, bc), rtol=1e-6)


def test_glove_loss_matches_definition():
    w, wc = np.array([[1.0, 2.0]]), np.array([[0.5, -1.0]])
    b, bc, x = np.array([0.3]), np.array([-0.2]), np.array([20.0])
    e = 0.5 - 2.0 + 0.3 - 0.2 - np.log(20.0)
    expected = 0.5 * (20.0 / 100.0) ** 0.75 * e ** 2
    np.testing.assert_allclose(glove_loss(*(jnp.asarray(a, jnp.float32) for a in (w, wc, b, bc, x))), [expected], rtol=1e-5)


@pytest.mark.parametrize("slots", [1, 10, 64, 65, 300])
def test_sum_over_window_equals_the_numpy_sum_for_any_width(slots):
    """Unrolled up to UNROLLED_SLOTS slots, one einsum beyond (wide windows would otherwise compile for minutes)."""
    from jaxembed.losses.logistic import sum_over_window
    rng = np.random.default_rng(slots)
    g, h = rng.standard_normal((3, slots, 4)).astype(np.float32), rng.standard_normal((3, slots, 5)).astype(np.float32)
    expected = np.einsum("bct,bcd->btd", g.astype(np.float64), h.astype(np.float64))
    np.testing.assert_allclose(np.asarray(sum_over_window(jnp.asarray(g), jnp.asarray(h))), expected, rtol=1e-5, atol=1e-5)
