"""Skip-gram pair generation against a direct transcription of word2vec.c's loops (the oracle)."""
import numpy as np

from jaxembed.data.batches import chunk_bounds, chunk_examples, example_blocks, sentence_ids, window_pairs
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


def test_example_blocks_deterministic_and_padded():
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 50, 5000).astype(np.int32)
    ends = np.array([1000, 2500, 5000])
    counts = np.bincount(ids, minlength=50)
    args = (ids, ends, keep_probabilities(counts, 1e-2), noise_table(counts), 3, 4, False, 16, 8)
    first = list(example_blocks(*args, seed=7, epoch=0, chunk_tokens=700))
    second = list(example_blocks(*args, seed=7, epoch=0, chunk_tokens=700))
    other_epoch = list(example_blocks(*args, seed=7, epoch=1, chunk_tokens=700))
    for a, b in zip(first, second):
        for x, y in zip(a.arrays(), b.arrays()):
            np.testing.assert_array_equal(x, y)
    assert not np.array_equal(first[0].negatives_MxPxK, other_epoch[0].negatives_MxPxK)
    assert all(b.hidden_MxPxC.shape == (8, 16, 1) and b.negatives_MxPxK.shape == (8, 16, 4) for b in first)
    assert all(b.hidden_mask_MxPxC.all() for b in first[:-1]) and not first[-1].hidden_mask_MxPxC.all()
    progress = np.concatenate([b.words_done_M for b in first])
    assert (np.diff(progress) >= 0).all() and progress[-1] < len(ids)
    assert 0 < sum(b.num_examples for b in first) <= len(ids) * 6


def test_window_examples_group_the_pairs_by_centre():
    """Window examples (CBOW, skip-gram-HS) == the skip-gram pairs grouped by centre (same RNG
    draws), padded to 2·window."""
    rng = np.random.default_rng(2)
    ids = rng.integers(0, 30, 600).astype(np.int32)
    ends = np.array([7, 300, 301, 600])
    counts = np.bincount(ids, minlength=30)
    keep, noise = keep_probabilities(counts, 1e-2), noise_table(counts)
    sg = chunk_examples(ids, ends, 0, 600, keep, noise, 3, 0, False, np.random.default_rng(5))
    cbow = chunk_examples(ids, ends, 0, 600, keep, noise, 3, 2, True, np.random.default_rng(5))
    hidden, mask, outputs, negatives, positions = cbow
    assert hidden.shape[1] == 6 and negatives.shape == (len(outputs), 2) and mask.any(axis=1).all()
    grouped = [sorted(hidden[e][mask[e]].tolist()) for e in range(len(outputs))]
    sg_hidden, _, sg_outputs, _, sg_positions = sg
    expected = [sorted(sg_hidden[sg_positions == p, 0].tolist()) for p in positions]
    assert grouped == expected
    np.testing.assert_array_equal(np.unique(sg_positions), positions)
