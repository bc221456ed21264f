"""word2vec's sampling rules against their defining formulas and against empirical frequencies."""
import numpy as np

from jaxembed.data.sampling import AliasTable, keep_probabilities, noise_table, reduced_windows, subsample_mask


def test_keep_probability_is_word2vec_formula():
    counts = np.array([1000, 100, 10, 1])
    total = counts.sum()
    sample = 1e-2
    expected = [min(1.0, (np.sqrt(c / (sample * total)) + 1) * (sample * total) / c) for c in counts]
    np.testing.assert_allclose(keep_probabilities(counts, sample), expected)
    assert keep_probabilities(counts, sample)[-1] == 1.0          # rare words always kept
    np.testing.assert_array_equal(keep_probabilities(counts, 0.0), 1.0)


def test_subsample_mask_keeps_expected_fraction():
    keep = np.array([0.1, 0.5, 1.0])
    ids = np.repeat(np.arange(3), 200_000)
    mask = subsample_mask(ids, keep, np.random.default_rng(0))
    np.testing.assert_allclose([mask[ids == i].mean() for i in range(3)], keep, atol=4e-3)


def test_reduced_windows_uniform_on_1_to_window():
    w = reduced_windows(500_000, 5, np.random.default_rng(1))
    assert w.min() == 1 and w.max() == 5
    np.testing.assert_allclose(np.bincount(w)[1:] / len(w), 0.2, atol=3e-3)


def test_noise_table_is_exact_unigram_075():
    counts = np.random.default_rng(2).zipf(1.3, 5000)
    expected = counts ** 0.75 / np.sum(counts ** 0.75)
    np.testing.assert_allclose(noise_table(counts).probabilities(), expected, rtol=1e-6, atol=1e-9)


def test_alias_samples_follow_distribution():
    p = np.array([0.5, 0.25, 0.125, 0.0625, 0.0625])
    draws = AliasTable.from_weights(p).sample((400_000,), np.random.default_rng(3))
    assert draws.dtype == np.int32
    np.testing.assert_allclose(np.bincount(draws, minlength=5) / draws.size, p, atol=3e-3)


def test_alias_handles_zero_weight():
    draws = AliasTable.from_weights(np.array([1.0, 0.0, 3.0])).sample((100_000,), np.random.default_rng(4))
    assert not (draws == 1).any()
    np.testing.assert_allclose((draws == 2).mean(), 0.75, atol=5e-3)
