"""Skip-gram pair generation against a direct transcription of word2vec.c's loops (the oracle)."""
import numpy as np

from jaxembed.data.batches import chunk_bounds, pair_blocks, sentence_ids, window_pairs
from jaxembed.data.sampling import keep_probabilities, noise_table


def loop_pairs(sentence, windows, max_window):
    """word2vec.c: for each centre i, offsets a in [b, 2W−b], a != W, context inside the sentence."""
    pairs = []
    for i in range(len(sentence)):
        b = max_window - windows[i]
        for a in range(b, 2 * max_window + 1 - b):
            j = i - max_window + a
            if a != max_window and 0 <= j < len(sentence) and sentence[j] == sentence[i]:
                pairs.append((i, j))
    return pairs


def test_window_pairs_match_reference_loops():
    rng = np.random.default_rng(0)
    for trial in range(20):
        n, max_window = int(rng.integers(1, 60)), int(rng.integers(1, 6))
        sentence = np.sort(rng.integers(0, 4, n))
        windows = rng.integers(1, max_window + 1, n)
        centre, context = window_pairs(sentence, windows, max_window)
        assert list(zip(centre.tolist(), context.tolist())) == loop_pairs(sentence, windows, max_window)


def test_sentence_ids_and_chunks_follow_sentence_ends():
    ends = np.array([3, 7, 8, 15])
    np.testing.assert_array_equal(sentence_ids(15, ends), [0, 0, 0, 1, 1, 1, 1, 2, 3, 3, 3, 3, 3, 3, 3])
    bounds = chunk_bounds(ends, 5)
    assert bounds[0][0] == 0 and bounds[-1][1] == 15
    assert all(stop in ends for _, stop in bounds)
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))


def test_pair_blocks_deterministic_padded_and_in_sentence():
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 50, 5000).astype(np.int32)
    ends = np.array([1000, 2500, 5000])
    counts = np.bincount(ids, minlength=50)
    args = (ids, ends, keep_probabilities(counts, 1e-2), noise_table(counts), 3, 4, 16, 8)
    first = list(pair_blocks(*args, seed=7, epoch=0, chunk_tokens=700))
    second = list(pair_blocks(*args, seed=7, epoch=0, chunk_tokens=700))
    other_epoch = list(pair_blocks(*args, seed=7, epoch=1, chunk_tokens=700))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.inputs_MxP, b.inputs_MxP)
        np.testing.assert_array_equal(a.negatives_MxPxK, b.negatives_MxPxK)
    assert not np.array_equal(first[0].negatives_MxPxK, other_epoch[0].negatives_MxPxK)
    assert all(b.inputs_MxP.shape == (8, 16) and b.negatives_MxPxK.shape == (8, 16, 4) for b in first)
    assert all(b.valid_MxP.all() for b in first[:-1]) and not first[-1].valid_MxP.all()
    progress = np.concatenate([b.words_done_M for b in first])
    assert (np.diff(progress) >= 0).all() and progress[-1] < len(ids)
    total = sum(b.num_pairs for b in first)
    assert 0 < total <= len(ids) * 6
