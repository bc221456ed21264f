"""Huffman tree over the vocabulary exactly as word2vec.c's `CreateBinaryTree` builds it.

Leaves are the V words (sorted by descending count); inner nodes are numbered 0..V−2 with the root
V−2. Two pointers walk the leaves (rarest first) and the created inner nodes; on equal counts the
inner node is taken (word2vec's strict `<`). The second-smallest child of each merge gets code 1.
For word w, `points[w, :len]` are the inner nodes from the root down and `codes[w, :len]` the
branch bits; hierarchical softmax predicts label 1 − code at each point, as word2vec.c does.
"""
from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class HuffmanTree:
    """codes_VxL (int8), points_VxL (int32, inner-node ids), lengths_V (int32); padded to L = max length."""

    codes_VxL: np.ndarray
    points_VxL: np.ndarray
    lengths_V: np.ndarray

    @property
    def mask_VxL(self) -> np.ndarray:
        return np.arange(self.codes_VxL.shape[1])[None, :] < self.lengths_V[:, None]


def merge_order(counts_V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """word2vec.c's merges: (parent_2V, bit_2V) for the 2V−1 nodes (leaves 0..V−1, inner V..2V−2)."""
    v = len(counts_V)
    count = np.concatenate([np.asarray(counts_V, dtype=np.int64), np.full(v, np.iinfo(np.int64).max // 4)])
    parent = np.zeros(2 * v, dtype=np.int64)
    bit = np.zeros(2 * v, dtype=np.int8)
    leaf, inner = v - 1, v

    def pop_smallest() -> int:
        nonlocal leaf, inner
        if leaf >= 0 and count[leaf] < count[inner]:
            leaf -= 1
            return leaf + 1
        inner += 1
        return inner - 1

    for a in range(v - 1):
        first, second = pop_smallest(), pop_smallest()
        count[v + a] = count[first] + count[second]
        parent[first] = parent[second] = v + a
        bit[second] = 1
    return parent, bit


def build_huffman(counts_V: np.ndarray) -> HuffmanTree:
    """Codes and points for every word (needs V >= 2)."""
    v = len(counts_V)
    if v < 2:
        raise ValueError(f"a Huffman tree needs at least 2 words, got {v}")
    parent, bit = merge_order(counts_V)
    nodes_VxL = leaf_to_root(parent, root=2 * v - 2)
    lengths_V = np.sum(nodes_VxL >= 0, axis=1).astype(np.int32)
    # root-side first: the child nodes whose bits form the code
    position_VxL = lengths_V[:, None] - 1 - np.arange(nodes_VxL.shape[1])[None, :]
    real_VxL = position_VxL >= 0
    path_VxL = np.take_along_axis(nodes_VxL, np.maximum(position_VxL, 0), axis=1)
    codes = np.where(real_VxL, bit[path_VxL], 0).astype(np.int8)
    points = np.where(real_VxL, parent[path_VxL] - v, 0).astype(np.int32)
    return HuffmanTree(codes, points, lengths_V)


def leaf_to_root(parent_2V: np.ndarray, root: int) -> np.ndarray:
    """(V, L) each leaf's nodes from the leaf up to the root's child, −1 past them: all leaves climb one level at a
    time together (L = the deepest leaf's depth)."""
    node_V = np.arange(len(parent_2V) // 2)
    levels = []
    while (node_V != root).any():
        levels.append(np.where(node_V != root, node_V, -1))
        node_V = np.where(node_V != root, parent_2V[node_V], root)
    return np.stack(levels, axis=1)
