"""Word–word co-occurrence counts for GloVe, memory-bounded, as GloVe's `cooccur` computes them.

For every in-vocabulary token at position t of a sentence and every earlier token at t − d,
1 ≤ d ≤ window (out-of-vocabulary tokens are dropped before windowing, so distances count
in-vocabulary words only; windows never cross a line), the pair gets weight 1/d (GloVe; or 1, or
any weight per distance):

    X[w_{t−d}, w_t] += 1/d,     and, symmetric (default), X[w_t, w_{t−d}] += 1/d.

Like GloVe's cooccur, pairs of frequent words — (i+1)(j+1) ≤ P for frequency ranks i, j — are
summed in a dense triangular-ish table sized to the memory limit; all others are sorted and
reduced per chunk, spilled to disk as sorted runs when their memory share is used up, and merged
at the end by key ranges. Everything is vectorised numpy: no per-pair Python loop.

Distances past the longest sentence − 1 never pair two words, so the window is cut there
(`windows.context_reach`); the pair arrays of a chunk are sized for the full window, at least 1,024
tokens, unless even those would exceed their memory share at the distances that can occur
(`pair_chunk_tokens`: very large windows only, whose sums then add in another order).
"""
from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Callable

import numpy as np

from jaxembed.data.windows import context_reach
from jaxembed.errors import ConfigError

PAIR_BYTES = 48
"""Bytes per pair in a chunk's arrays: ids, keys, weights, masks and sort temporaries."""
MIN_CHUNK_TOKENS = 1024
FLOOR_CHUNK_BYTES = 1 << 27
"""A chunk has at least MIN_CHUNK_TOKENS tokens (fewer are slow), beyond its memory share if need be, unless their
pairs would then exceed FLOOR_CHUNK_BYTES."""


@dataclasses.dataclass(frozen=True)
class Cooccurrences:
    """Sparse X in coordinate form, sorted by (row, col): rows_N, cols_N int32 ids, values_N float64."""

    rows_N: np.ndarray
    cols_N: np.ndarray
    values_N: np.ndarray
    vocab_size: int

    def __len__(self) -> int:
        return len(self.values_N)

    def to_dense(self) -> np.ndarray:
        """(V, V) dense matrix (small vocabularies only)."""
        dense = np.zeros((self.vocab_size, self.vocab_size))
        np.add.at(dense, (self.rows_N, self.cols_N), self.values_N)
        return dense


def dense_row_widths(vocab_size: int, max_product: int) -> np.ndarray:
    """(V,) columns of each row kept dense: j < width[i] ⟺ (i+1)(j+1) ≤ max_product."""
    return np.minimum(max_product // np.arange(1, vocab_size + 1, dtype=np.int64), vocab_size)


def max_product_for(vocab_size: int, budget_bytes: int) -> int:
    """Largest P whose dense table (Σ_i width_i float64 cells) fits in `budget_bytes`."""
    low, high = 0, vocab_size * vocab_size
    while low < high:
        mid = (low + high + 1) // 2
        if dense_row_widths(vocab_size, mid).sum() * 8 <= budget_bytes:
            low = mid
        else:
            high = mid - 1
    return low


def distance_weights(window: int, distance_weighting) -> np.ndarray:
    """(window,) weight of a pair at distance d = 1..window: 1/d (True, GloVe), 1 (False), or the given array
    (e.g. word2vec's expected weight under its reduced window, (window − d + 1)/window)."""
    if isinstance(distance_weighting, (bool, np.bool_)):
        d = np.arange(1, window + 1, dtype=np.float64)
        return 1.0 / d if distance_weighting else np.ones(window)
    weights = np.asarray(distance_weighting, np.float64)
    if weights.shape != (window,):
        raise ConfigError(f"distance weights must have one value per distance 1..{window}, got shape {weights.shape}")
    return weights


def left_pairs(ids_n: np.ndarray, sentence_n: np.ndarray, first: int, weights_W: np.ndarray):
    """(earlier_E, later_E, weight_E): every later position t >= first with each context t − d,
    1 <= d <= W, t − d >= 0, in the same sentence (sentence_n non-decreasing); weight weights_W[d − 1].
    Ordered by d, then t."""
    t_T = np.arange(first, len(ids_n))
    before_T = t_T - np.searchsorted(sentence_n, sentence_n[t_T], side="left")  # earlier tokens of t's sentence
    d_index, t_index = np.nonzero(np.arange(1, len(weights_W) + 1)[:, None] <= before_T[None, :])
    later = t_T[t_index]
    return ids_n[later - 1 - d_index], ids_n[later], weights_W[d_index]


def reduce_sorted(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort by key and sum the values of equal keys."""
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    if len(keys) == 0:
        return keys, values
    starts = np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]]))
    return keys[starts], np.add.reduceat(values, starts)


class SortedRuns:
    """Reduced, key-sorted runs of sparse counts: held in memory up to `budget_bytes`, then each run
    is written to its own pair of files (no concatenation, so a spill needs no extra memory)."""

    def __init__(self, budget_bytes: int, directory: str):
        self.budget_bytes, self.directory = budget_bytes, directory
        self.memory: list[tuple[np.ndarray, np.ndarray]] = []
        self.spilled: list[tuple[str, int]] = []  # (path prefix, entries)

    def add(self, keys: np.ndarray, values: np.ndarray, reduced: bool = False) -> None:
        """Add counts; `reduced` promises keys already sorted and unique."""
        self.memory.append((keys, values) if reduced else reduce_sorted(keys, values))
        if sum(k.nbytes + v.nbytes for k, v in self.memory) > self.budget_bytes:
            for keys, values in self.memory:
                prefix = os.path.join(self.directory, f"run{len(self.spilled)}")
                keys.astype(np.int64).tofile(prefix + ".keys")
                values.astype(np.float64).tofile(prefix + ".values")
                self.spilled.append((prefix, len(keys)))
            self.memory = []

    def sources(self) -> list[tuple[np.ndarray, Callable]]:
        """(keys to search, read(a, b) -> (keys, values) copy) per run; files are read, not mapped, so
        merged slices do not stay resident."""
        def file_reader(prefix):
            return lambda a, b: (np.fromfile(prefix + ".keys", np.int64, b - a, offset=8 * a),
                                 np.fromfile(prefix + ".values", np.float64, b - a, offset=8 * a))
        on_disk = [(np.memmap(prefix + ".keys", np.int64, "r", shape=(n,)), file_reader(prefix)) for prefix, n in self.spilled if n]
        in_memory = [(k, lambda a, b, k=k, v=v: (k[a:b], v[a:b])) for k, v in self.memory if len(k)]
        return on_disk + in_memory

    def merged(self, partition_entries: int):
        """Yield (keys, values) of all runs merged, in key order, about `partition_entries` entries at a time."""
        sources = self.sources()
        total = sum(len(k) for k, _ in sources)
        if total == 0:
            return
        sample = np.concatenate([np.asarray(k[::max(1, len(k) * len(sources) // 4096 + 1)]) for k, _ in sources])
        parts = max(1, -(-total // max(partition_entries, 1)))
        bounds = np.unique(np.quantile(sample, np.linspace(0, 1, parts + 1)[1:-1], method="lower").astype(np.int64))
        edges = [0, *bounds.tolist(), np.iinfo(np.int64).max]
        for low, high in zip(edges[:-1], edges[1:]):
            pieces = [read(np.searchsorted(keys, low, side="left"), np.searchsorted(keys, high, side="left"))
                      for keys, read in sources]
            yield reduce_sorted(np.concatenate([k for k, _ in pieces]), np.concatenate([v for _, v in pieces]))


class DenseTable:
    """Counts of the frequent pairs: a flat float64 table, row i holding columns j < width_i."""

    def __init__(self, widths_V: np.ndarray):
        self.widths_V, self.offsets = widths_V, np.concatenate([[0], np.cumsum(widths_V)])
        self.cells = np.zeros(int(self.offsets[-1]), np.float64)

    def split(self, rows_E: np.ndarray, cols_E: np.ndarray) -> np.ndarray:
        """(E,) True where (row, col) is stored here."""
        return cols_E < self.widths_V[rows_E]

    def add(self, rows_E: np.ndarray, cols_E: np.ndarray, weights_E: np.ndarray) -> None:
        np.add.at(self.cells, self.offsets[rows_E] + cols_E, weights_E)

    def keys_and_values(self, vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Nonzero cells as sorted unique keys row·V + col and their counts (three nnz-sized arrays at most)."""
        cells = np.flatnonzero(self.cells)
        values = self.cells[cells]
        keys = np.searchsorted(self.offsets, cells, side="right") - 1  # rows
        cells -= self.offsets[keys]  # columns
        keys *= vocab_size
        keys += cells
        return keys, values


def pair_chunk_tokens(window: int, reach: int, symmetric: bool, budget_bytes: int) -> int:
    """Tokens per chunk: as many as `budget_bytes` holds pairs for at `window` pairs a side per token, at least
    MIN_CHUNK_TOKENS; fewer only when the pairs at the `reach` that can occur would exceed both `budget_bytes`
    and FLOOR_CHUNK_BYTES (very large windows)."""
    pair_bytes = (2 if symmetric else 1) * PAIR_BYTES
    tokens = max(MIN_CHUNK_TOKENS, budget_bytes // (window * pair_bytes))
    limit = max(budget_bytes, FLOOR_CHUNK_BYTES)
    return tokens if tokens * reach * pair_bytes <= limit else max(1, limit // (reach * pair_bytes))


def count_cooccurrences(ids_N: np.ndarray, sentence_ends_S: np.ndarray, vocab_size: int, window: int = 10,
                        symmetric: bool = True, distance_weighting: bool | np.ndarray = True, memory_mb: float = 1024.0,
                        chunk_tokens: int | None = None, tmp_dir: str | None = None) -> Cooccurrences:
    """Co-occurrence counts of an encoded corpus (module docstring).

    ids_N: in-vocabulary token ids (0 = most frequent); sentence_ends_S: sentence end offsets.
    `memory_mb` bounds the counting structures: the dense table takes 1/4 of it, each chunk's pair
    arrays 1/8, sparse runs 1/8 before they spill to disk; the result is assembled through files so
    it is never held twice.
    """
    if window < 1:
        raise ConfigError(f"window must be >= 1, got {window}")
    if memory_mb <= 0:
        raise ConfigError(f"memory limit must be > 0 MB, got {memory_mb}")
    reach = context_reach(window, sentence_ends_S)
    weights_W = distance_weights(window, distance_weighting)[:reach]
    budget = int(memory_mb * 2 ** 20)
    dense = DenseTable(dense_row_widths(vocab_size, max_product_for(vocab_size, budget // 4)))
    chunk_tokens = chunk_tokens or pair_chunk_tokens(window, reach, symmetric, budget // 8)
    sentence_N = np.searchsorted(sentence_ends_S, np.arange(len(ids_N)), side="right")
    with tempfile.TemporaryDirectory(dir=tmp_dir, prefix="jaxembed-cooccur-") as work_dir:
        runs = SortedRuns(budget // 8, work_dir)
        for start in range(0, len(ids_N), chunk_tokens):
            stop = min(start + chunk_tokens, len(ids_N))
            history = min(start, reach)  # earlier tokens that are context of this chunk's first tokens
            earlier, later, weights = left_pairs(ids_N[start - history:stop], sentence_N[start - history:stop],
                                                 history, weights_W)
            if symmetric:
                earlier, later, weights = np.concatenate([earlier, later]), np.concatenate([later, earlier]), np.concatenate([weights, weights])
            in_dense = dense.split(earlier, later)
            dense.add(earlier[in_dense], later[in_dense], weights[in_dense])
            sparse = ~in_dense
            runs.add(earlier[sparse].astype(np.int64) * vocab_size + later[sparse], weights[sparse])
            del earlier, later, weights, in_dense, sparse
        keys, values = dense.keys_and_values(vocab_size)
        del dense
        runs.add(keys, values, reduced=True)
        del keys, values
        return assemble(runs.merged(partition_entries=budget // 8 // 32), vocab_size, work_dir)


def assemble(partitions, vocab_size: int, work_dir: str) -> Cooccurrences:
    """Write merged (keys, values) partitions to files as rows/cols/values, then read them back once."""
    paths = {name: os.path.join(work_dir, name) for name in ("rows", "cols", "values")}
    with open(paths["rows"], "wb") as rows, open(paths["cols"], "wb") as cols, open(paths["values"], "wb") as values:
        for keys, counts in partitions:
            (keys // vocab_size).astype(np.int32).tofile(rows)
            (keys % vocab_size).astype(np.int32).tofile(cols)
            counts.astype(np.float64).tofile(values)
    return Cooccurrences(np.fromfile(paths["rows"], np.int32), np.fromfile(paths["cols"], np.int32),
                         np.fromfile(paths["values"], np.float64), vocab_size)
