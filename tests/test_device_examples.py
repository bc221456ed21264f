"""The on-device example generator against the host path and theory.pmi's counts (fixed windows, no
subsampling: exactly the same pairs), and against its distributions (keep rate, window sizes, noise) with
fixed seeds."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxembed.data.device_examples import (alias_draws, chunk_examples, chunk_key, micro_batch, sampling_arrays,
                                           token_chunks, window_mask)
from jaxembed.data.sampling import keep_probabilities, noise_table
from jaxembed.data.windows import Sampling
from jaxembed.data.word2vec_examples import example_blocks
from jaxembed.theory.pmi import pair_counts

V = 30


def corpus(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    ids = rng.zipf(1.3, n).astype(np.int64) % V
    ends = np.unique(np.concatenate([np.sort(rng.choice(np.arange(1, n), 40, replace=False)), [n]]))
    return ids.astype(np.int32), ends


def generated(ids, ends, sampling, *, windows, batch_size=64, chunk_tokens=1024, seed=3, epoch=0):
    """Every chunk's real examples: (hidden_ExC, mask_ExC, outputs_E, negatives_ExK)."""
    keep_V, threshold_V, alias_V = map(jnp.asarray, sampling_arrays(sampling))
    parts = []
    for index, (ids_T, sentence_T, start, _) in enumerate(token_chunks(ids, ends, chunk_tokens, 0)):
        chunk, count = chunk_examples(ids_T, sentence_T, start, chunk_key(seed, epoch, index), keep_V,
                                      window=sampling.window, shrink=sampling.shrink_windows, windows=windows,
                                      batch_size=batch_size)
        batches = [micro_batch(chunk, jnp.int32(i), threshold_V, alias_V, negative=sampling.negative)
                   for i in range(-(-int(count) // batch_size))]
        parts.append(tuple(np.concatenate([np.asarray(b[k]) for b in batches])[:int(count)] for k in range(4)))
    return tuple(np.concatenate(p) for p in zip(*parts))


def pair_matrix(context, centre):
    counts = np.zeros((V, V))
    np.add.at(counts, (context, centre), 1)
    return counts


def host_pairs(ids, ends, sampling):
    blocks = list(example_blocks(ids, ends, sampling, windows=False, batch_size=64, batches=4, seed=1, epoch=0))
    mask = np.concatenate([b.hidden_mask_MxPxC.reshape(-1) for b in blocks])
    context = np.concatenate([b.hidden_MxPxC.reshape(-1) for b in blocks])[mask]
    centre = np.concatenate([b.outputs_MxP.reshape(-1) for b in blocks])[mask]
    return pair_matrix(context, centre)


@pytest.mark.parametrize("windows", [False, True])
def test_fixed_window_no_subsampling_gives_exactly_the_corpus_pairs(windows):
    ids, ends = corpus()
    counts = np.bincount(ids, minlength=V)
    sampling = Sampling(np.ones(V), noise_table(counts), window=3, negative=2, shrink_windows=False)
    hidden, mask, outputs, _ = generated(ids, ends, sampling, windows=windows)
    centre = np.broadcast_to(outputs[:, None], hidden.shape)[mask]
    device = pair_matrix(hidden[mask], centre)
    np.testing.assert_array_equal(device, host_pairs(ids, ends, sampling))
    np.testing.assert_array_equal(device, pair_counts(ids, ends, V, 3))


def test_pairs_come_centre_by_centre_in_word2vec_order():
    ids = np.arange(12, dtype=np.int32) % V
    ends = np.array([5, 12])
    sampling = Sampling(np.ones(V), noise_table(np.ones(V)), window=2, negative=1, shrink_windows=False)
    hidden, _, outputs, _ = generated(ids, ends, sampling, windows=False)
    expected = [(c, i) for i in range(12) for c in range(i - 2, i + 3)
                if c != i and 0 <= c < 12 and (c < 5) == (i < 5)]
    assert list(zip(hidden[:, 0].tolist(), outputs.tolist())) == [(ids[c], ids[i]) for c, i in expected]


def test_subsampling_keep_rate_and_window_sizes_match_their_expectations():
    ids, ends = corpus(seed=1, n=20000)
    counts = np.bincount(ids, minlength=V)
    keep = keep_probabilities(counts, 1e-2)
    sampling = Sampling(keep, noise_table(counts), window=4, negative=1)
    hidden, mask, outputs, _ = generated(ids, ends, sampling, windows=True, chunk_tokens=4096)
    # every kept occurrence of a word is one centre window (centres without a context word aside: rare here)
    kept_V = np.bincount(outputs, minlength=V)
    expected_V = counts * keep
    frequent = counts > 200
    z = (kept_V - expected_V) / np.sqrt(counts * keep * (1 - keep) + 1e-9)
    assert np.all(np.abs(z[frequent & (keep < 1)]) < 4.5), z[frequent]


def test_reduced_windows_are_uniform_on_one_to_window():
    t, window = 20000, 4
    _, valid_TxO = window_mask(jax.random.key(2), jnp.zeros(t, jnp.int32), jnp.int32(t), window, shrink=True)
    sizes = np.asarray(valid_TxO.sum(axis=1))[window:t - window]  # interior centres: 2b context words
    assert np.all(sizes % 2 == 0)
    observed = np.bincount(sizes // 2, minlength=window + 1)[1:]
    assert observed.sum() == t - 2 * window
    expected = observed.sum() / window
    chi2 = np.sum((observed - expected) ** 2 / expected)
    assert chi2 < 16.3, (observed, chi2)  # 3 degrees of freedom, p = 0.001


def test_noise_draws_follow_count_to_the_three_quarters():
    counts = np.array([1000, 300, 50, 7, 1, 0, 20, 400], dtype=np.int64)
    table = noise_table(counts)
    draws = np.asarray(alias_draws(jax.random.key(5), (200_000,), jnp.asarray(table.threshold_V),
                                   jnp.asarray(table.alias_V)))
    observed = np.bincount(draws, minlength=len(counts))
    p = counts ** 0.75 / np.sum(counts ** 0.75)
    expected = p * len(draws)
    nonzero = p > 0
    assert observed[~nonzero].sum() == 0
    chi2 = np.sum((observed[nonzero] - expected[nonzero]) ** 2 / expected[nonzero])
    assert chi2 < 24.3, chi2  # 6 degrees of freedom, p = 0.0005


def test_chunks_are_reproducible_and_differ_between_epochs():
    ids, ends = corpus(seed=2)
    counts = np.bincount(ids, minlength=V)
    sampling = Sampling(keep_probabilities(counts, 1e-2), noise_table(counts), window=3, negative=2)
    first, again = (generated(ids, ends, sampling, windows=False) for _ in range(2))
    other_epoch = generated(ids, ends, sampling, windows=False, epoch=1)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert first[0].shape != other_epoch[0].shape or not np.array_equal(first[0], other_epoch[0])


def test_skipgram_windows_run_their_micro_batches_once_and_report_pairs():
    """Skip-gram on windows: the micro-batches to run come from the windows, the loss is reported per pair (counting
    pairs there ran the last micro-batch again and again)."""
    from jaxembed.models.word2vec import device_generator
    ids = jnp.asarray(np.random.default_rng(2).integers(0, 6, 64).astype(np.int32))
    sentence = jnp.zeros(64, jnp.int32)
    generator = device_generator(seed=1, window=3, negative=2, shrink=True, windows=True, batch_size=16, count_pairs=True)
    examples, count, reported = generator.chunk(ids, sentence, jnp.float32(0), 0, 0, jnp.ones(6, jnp.float32))
    assert int(count) == 64 and -(-int(count) // 16) == examples.outputs_MxP.shape[0]
    assert int(reported) == int(np.asarray(examples.hidden_mask_MxPxC).sum()) > int(count)
