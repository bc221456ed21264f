"""Theory checks: PMI on a hand-countable corpus; the expected SGNS objective's optimum is shifted PMI."""
import numpy as np
import pytest

from jaxembed.theory.pmi import marginals, pair_counts, pmi, ppmi, shifted_pmi, smoothed_noise, svd_embeddings
from jaxembed.theory.sgns_objective import (expected_sgns_objective, fit_expected_sgns, negative_counts, newton_scores,
                                            optimal_objective, scores_objective)


def test_pmi_of_a_hand_countable_corpus():
    """Corpus "a b a c" (ids 0 1 0 2), window 1: pairs (a,b) (b,a) (b,a) (a,b) (a,c) (c,a)."""
    counts = pair_counts(np.array([0, 1, 0, 2]), np.array([4]), 3, window=1)
    np.testing.assert_array_equal(counts, [[0, 2, 1], [2, 0, 0], [1, 0, 0]])
    words, contexts, total = marginals(counts)
    assert words.tolist() == [3, 2, 1] and total == 6
    expected_ab = np.log(2 * 6 / (3 * 2))  # #(a,b)|D| / (#a #b)
    table = pmi(counts)
    assert np.isclose(table[0, 1], expected_ab) and np.isclose(table[0, 2], np.log(1 * 6 / (3 * 1)))
    assert np.isneginf(table[1, 2])
    assert np.isclose(shifted_pmi(counts, 5)[0, 1], expected_ab - np.log(5))
    noise = np.array([0.5, 0.3, 0.2])
    assert np.isclose(shifted_pmi(counts, 5, noise)[0, 1], np.log(2 / (5 * 3 * 0.3)))
    np.testing.assert_allclose(ppmi(counts), np.maximum(np.nan_to_num(table, neginf=0.0), 0.0))


def test_reduced_window_weights_pairs_by_word2vec_expectation():
    """word2vec's dynamic window keeps a pair at distance d with probability (W − d + 1)/W."""
    counts = pair_counts(np.array([0, 1, 2]), np.array([3]), 3, window=2, reduced_window=True)
    assert counts[0, 1] == 1.0 and counts[0, 2] == 0.5


def test_smoothed_noise_is_count_to_three_quarters():
    np.testing.assert_allclose(smoothed_noise(np.array([16, 1])), np.array([8, 1]) / 9)


def test_svd_product_is_best_rank_d_approximation():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(12, 12))
    for p in (0.0, 0.5, 1.0):
        w, c = svd_embeddings(m, 12, p)
        np.testing.assert_allclose(w @ c.T, m, atol=1e-10)
    w, c = svd_embeddings(m, 3)
    u, s, vt = np.linalg.svd(m)
    np.testing.assert_allclose(w @ c.T, (u[:, :3] * s[:3]) @ vt[:3], atol=1e-10)


def test_exact_sgns_optimum_is_shifted_pmi():
    """Full-rank (d = V = 30) expected SGNS objective, optimised: w·c → log(#(w,c) / (k #w P_n(c)))."""
    rng = np.random.default_rng(1)
    counts = rng.integers(5, 200, (30, 30)).astype(float)
    counts = counts + counts.T
    noise = smoothed_noise(counts.sum(axis=1))
    w, c, history = fit_expected_sgns(counts, 5, noise, dim=30, steps=600, log_every=200)
    max_error = np.abs(w @ c.T - shifted_pmi(counts, 5, noise)).max()
    assert max_error < 1e-2, history
    assert history[-1][1] <= history[0][1]  # the objective went down


def test_newton_on_scores_reaches_shifted_pmi_and_the_closed_form_optimum():
    """Newton (autodiff gradient and curvature) on a real-looking sparse count matrix: observed cells
    converge to SPMI, the objective to ℓ* from the closed form; unobserved cells head to −∞."""
    rng = np.random.default_rng(2)
    counts = np.where(rng.random((30, 30)) < 0.6, rng.integers(1, 500, (30, 30)), 0).astype(float)
    noise = smoothed_noise(counts.sum(axis=0) + 1)
    scores, history = newton_scores(counts, 5, noise, steps=20)
    observed = counts > 0
    assert np.abs(scores - shifted_pmi(counts, 5, noise))[observed].max() < 1e-8
    assert scores[~observed].max() < -20
    optimum = optimal_objective(counts, 5, noise)
    assert history[-1][1] >= optimum and (history[-1][1] - optimum) / optimum < 1e-6
    assert [h[1] for h in history] == sorted([h[1] for h in history], reverse=True)  # monotone descent
    w, c = svd_embeddings(scores, 30)
    assert float(expected_sgns_objective(w, c, counts, 5, noise)) == pytest.approx(
        float(scores_objective(scores, counts, negative_counts(counts, 5, noise / noise.sum()))), rel=1e-6)
