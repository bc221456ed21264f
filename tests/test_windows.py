"""Training windows and word2vec examples: pairs against a direct transcription of word2vec.c's loops (the
oracle), blocks, and the epoch's sentence order."""
import numpy as np
import pytest

from jaxembed.data.corpus import encode_corpus
from jaxembed.data.sampling import keep_probabilities, noise_table
from jaxembed.data.windows import SentenceOrder, Sampling, chunk_bounds, epoch_sentences, sentence_ids, window_slots
from jaxembed.data.word2vec_examples import SIZE_GROUP_BATCHES, example_blocks, word2vec_examples


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


def test_window_slots_give_the_reference_pairs():
    rng = np.random.default_rng(0)
    for trial in range(20):
        n, max_window = int(rng.integers(1, 60)), int(rng.integers(1, 6))
        sentence = np.sort(rng.integers(0, 4, n))
        windows = rng.integers(1, max_window + 1, n)
        slots, valid = window_slots(sentence, windows, max_window)
        centre, slot = np.nonzero(valid)  # by centre, then offset from −b to +b
        context = slots[centre, slot]
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
    sampling = Sampling(keep_probabilities(counts, 1e-2), noise_table(counts), window=3, negative=4)
    blocks = lambda epoch: list(example_blocks(ids, ends, sampling, windows=False, batch_size=16, batches=8, seed=7,
                                               epoch=epoch, chunk_tokens=700))
    first, second, other_epoch = blocks(0), blocks(0), blocks(1)
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
    sg = word2vec_examples(ids, ends, 0, 600, Sampling(keep, noise, 3, 0), False, np.random.default_rng(5))
    cbow = word2vec_examples(ids, ends, 0, 600, Sampling(keep, noise, 3, 2), True, np.random.default_rng(5))
    hidden, mask, outputs, negatives, positions = cbow
    assert hidden.shape[1] == 6 and negatives.shape == (len(outputs), 2) and mask.any(axis=1).all()
    grouped = [sorted(hidden[e][mask[e]].tolist()) for e in range(len(outputs))]
    sg_hidden, _, sg_outputs, _, sg_positions = sg
    expected = [sorted(sg_hidden[sg_positions == p, 0].tolist()) for p in positions]
    assert grouped == expected
    np.testing.assert_array_equal(np.unique(sg_positions), positions)


def sentences_of(ids, ends) -> list[list[int]]:
    starts = np.concatenate([[0], ends[:-1]])
    return [np.asarray(ids[a:b]).tolist() for a, b in zip(starts, ends)]


def test_sentence_order_slices_the_reordered_stream(tmp_path):
    """Any slice of a SentenceOrder equals the same slice of the sentences concatenated in that order,
    over an in-memory array and over the on-disk TokenIds alike."""
    rng = np.random.default_rng(3)
    lengths = rng.integers(1, 9, 40)
    ends = np.cumsum(lengths)
    words = [f"w{i}".encode() for i in range(20)]
    ids = rng.integers(0, 20, int(ends[-1])).astype(np.int32)
    starts = ends - lengths
    (tmp_path / "c.txt").write_bytes(b"".join(b" ".join(words[i] for i in ids[a:b]) + b"\n" for a, b in zip(starts, ends)))
    on_disk, disk_ends = encode_corpus(tmp_path / "c.txt", {w: i for i, w in enumerate(words)})
    np.testing.assert_array_equal(disk_ends, ends)
    order = rng.permutation(len(ends))
    expected = np.concatenate([ids[starts[s]:ends[s]] for s in order])
    for source in (ids, on_disk):
        view = SentenceOrder(source, ends, order)
        assert len(view) == len(ids)
        np.testing.assert_array_equal(view.sentence_ends_S, np.cumsum(lengths[order]))
        for a, b in [(0, len(ids)), (0, 1), (5, 17), (len(ids) - 3, len(ids) + 9), (11, 11)]:
            np.testing.assert_array_equal(view[a:b], expected[a:b])
        with pytest.raises(TypeError, match="contiguous slices"):
            view[::2]


def test_epoch_sentences_shuffle_per_epoch_and_seed():
    ids = np.arange(100, dtype=np.int32)
    ends = np.arange(5, 101, 5)
    same_ids, same_ends = epoch_sentences(ids, ends, 1, 0, shuffle=False)
    assert same_ids is ids and same_ends is ends
    orders = {}
    for seed, epoch in [(1, 0), (1, 0), (1, 1), (2, 0)]:
        view, view_ends = epoch_sentences(ids, ends, seed, epoch, shuffle=True)
        shuffled = sentences_of(view, view_ends)
        assert sorted(shuffled) == sentences_of(ids, ends)  # every sentence once, intact
        orders.setdefault((seed, epoch), []).append(shuffled)
    assert orders[1, 0][0] == orders[1, 0][1]
    assert len({str(o[0]) for o in orders.values()}) == 3


def test_a_shuffled_epoch_samples_the_same_pairs():
    """Without subsampling and with the full window, an epoch's (context, centre) pairs are the corpus's
    co-occurrences whatever the sentence order: shuffling changes when a pair is seen, not how often."""
    rng = np.random.default_rng(4)
    ids = rng.integers(0, 25, 3000).astype(np.int32)
    ends = np.cumsum(rng.integers(1, 40, 200))
    ends = ends[ends < len(ids)].tolist() + [len(ids)]
    ends = np.array(ends)
    counts = np.bincount(ids, minlength=25)

    def pair_counts(epoch_ids, epoch_ends):
        sampling = Sampling(np.ones(25), noise_table(counts), window=3, negative=2, shrink_windows=False)
        blocks = example_blocks(epoch_ids, epoch_ends, sampling, windows=False, batch_size=32, batches=4, seed=1, epoch=0,
                                chunk_tokens=500)
        table = np.zeros((25, 25), int)
        for b in blocks:
            real = b.hidden_mask_MxPxC[..., 0]
            np.add.at(table, (b.hidden_MxPxC[..., 0][real], b.outputs_MxP[real]), 1)
        return table

    in_order = pair_counts(ids, ends)
    shuffled = pair_counts(*epoch_sentences(ids, ends, 1, 0, shuffle=True))
    assert in_order.sum() > 10000
    np.testing.assert_array_equal(shuffled, in_order)


def test_windows_by_size_are_the_same_examples_in_groups_of_one_size_with_real_slots_first():
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 40, 6000).astype(np.int32)
    ends = np.array([5, 2000, 2001, 6000])
    counts = np.bincount(ids, minlength=40)
    sampling = Sampling(keep_probabilities(counts, 1e-2), noise_table(counts), window=4, negative=2)
    blocks = {by_size: list(example_blocks(ids, ends, sampling, windows=True, batch_size=4, batches=8, seed=2, epoch=0,
                                           chunk_tokens=1500, by_size=by_size)) for by_size in (False, True)}

    def examples(block_list):
        return sorted((int(o), tuple(sorted(h[m].tolist())), tuple(n.tolist()))
                      for b in block_list for h, m, o, n in zip(*(x.reshape((-1,) + x.shape[2:]) for x in b.arrays()[:4]))
                      if m.any())

    assert examples(blocks[True]) == examples(blocks[False])
    for a, b in zip(blocks[True], blocks[False]):
        np.testing.assert_array_equal(a.words_done_M, b.words_done_M)  # the learning rate of the corpus position
    group = SIZE_GROUP_BATCHES * 4
    hidden = np.concatenate([b.hidden_MxPxC.reshape(-1, 8) for b in blocks[True]])
    mask = np.concatenate([b.hidden_mask_MxPxC.reshape(-1, 8) for b in blocks[True]])
    sizes = mask.sum(axis=1)
    real = sizes > 0
    for start in range(0, real.sum(), group):
        assert (np.diff(sizes[real][start:start + group]) >= 0).all()
    assert (mask == (np.arange(8) < sizes[:, None])).all()  # real slots first
    assert (hidden[~mask] == 0).all()
