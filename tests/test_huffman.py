"""Huffman tree: a hand-computed word2vec.c tree, prefix-freeness and optimal code lengths (heapq oracle)."""
import heapq

import numpy as np
import pytest

from jaxembed.data.huffman import build_huffman


def test_small_tree_matches_hand_computed_word2vec_tree():
    # word2vec.c on counts [5, 3, 2, 1]: merge (1,2)->n0 [code of 2 is 1], then (n0=3, word1=3): equal counts
    # take the inner node first -> (n0, 1)->n1 [code of 1 is 1], then (0, n1)->root n2 [code of n1 is 1].
    tree = build_huffman(np.array([5, 3, 2, 1]))
    np.testing.assert_array_equal(tree.lengths_V, [1, 2, 3, 3])
    np.testing.assert_array_equal(tree.codes_VxL, [[0, 0, 0], [1, 1, 0], [1, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(tree.points_VxL, [[2, 0, 0], [2, 1, 0], [2, 1, 0], [2, 1, 0]])


def huffman_cost(counts):
    """Optimal Σ count·depth by the textbook heap algorithm (the sum of all merge weights)."""
    heap = list(map(int, counts))
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        cost += merged
        heapq.heappush(heap, merged)
    return cost


@pytest.mark.parametrize("seed", range(5))
def test_codes_prefix_free_and_optimal(seed):
    rng = np.random.default_rng(seed)
    counts = np.sort(rng.zipf(1.4, int(rng.integers(2, 300))))[::-1]
    tree = build_huffman(counts)
    codes = ["".join(map(str, tree.codes_VxL[w, :tree.lengths_V[w]])) for w in range(len(counts))]
    ordered = sorted(codes)
    assert all(not b.startswith(a) for a, b in zip(ordered, ordered[1:]))
    assert int(np.sum(counts * tree.lengths_V)) == huffman_cost(counts)
    assert (tree.points_VxL[:, 0] == len(counts) - 2).all()                 # every path starts at the root
    assert tree.points_VxL.max() <= len(counts) - 2 and tree.points_VxL.min() >= 0


def test_same_code_lengths_as_gensim():
    from gensim.models import Word2Vec
    counts = np.sort(np.random.default_rng(11).zipf(1.5, 400))[::-1]
    words = [f"w{i}" for i in range(len(counts))]
    model = Word2Vec(vector_size=4, min_count=1, hs=1, negative=0)
    model.build_vocab_from_freq(dict(zip(words, map(int, counts))))
    gensim_cost = sum(int(c) * len(model.wv.get_vecattr(w, "code")) for w, c in zip(model.wv.index_to_key, model.wv.expandos["count"]))
    assert gensim_cost == int(np.sum(counts * build_huffman(counts).lengths_V))
