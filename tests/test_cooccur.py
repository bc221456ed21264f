"""Co-occurrence counting against a per-pair loop oracle, including spills and tiny dense tables."""
import numpy as np
import pytest

from jaxembed.data.cooccur import Cooccurrences, count_cooccurrences, dense_row_widths, max_product_for
from jaxembed.io.cooccurrence import load_cooccurrences, save_cooccurrences
from jaxembed.errors import ConfigError, InputFileError


def loop_oracle(ids, ends, vocab_size, window, symmetric, distance_weighting):
    """GloVe cooccur's loop: each token against up to `window` earlier tokens of its sentence."""
    dense = np.zeros((vocab_size, vocab_size))
    start = 0
    for end in ends:
        for t in range(start, end):
            for d in range(1, window + 1):
                if t - d < start:
                    break
                weight = distance_weighting[d - 1] if isinstance(distance_weighting, list) else 1.0 / d if distance_weighting else 1.0
                dense[ids[t - d], ids[t]] += weight
                if symmetric:
                    dense[ids[t], ids[t - d]] += weight
        start = end
    return dense


def random_corpus(seed, n=3000, vocab=40):
    rng = np.random.default_rng(seed)
    ids = np.minimum(rng.zipf(1.3, n) - 1, vocab - 1).astype(np.int32)  # Zipf-like: frequent ids small
    ends = np.unique(np.concatenate([np.sort(rng.choice(np.arange(1, n), 25, replace=False)), [n]]))
    return ids, ends


@pytest.mark.parametrize("window,symmetric,weighting", [(10, True, True), (3, False, True), (5, True, False),
                                                        (3, True, [1.0, 2 / 3, 1 / 3])])
@pytest.mark.parametrize("memory_mb,chunk_tokens", [(1024.0, None), (0.02, 97)])  # 0.02 MB: tiny dense table, many spills
def test_counts_equal_loop_oracle(window, symmetric, weighting, memory_mb, chunk_tokens, tmp_path):
    ids, ends = random_corpus(0)
    cooc = count_cooccurrences(ids, ends, 40, window, symmetric, weighting, memory_mb, chunk_tokens, str(tmp_path))
    expected = loop_oracle(ids, ends, 40, window, symmetric, weighting)
    np.testing.assert_allclose(cooc.to_dense(), expected, rtol=1e-12)
    keys = cooc.rows_N.astype(np.int64) * 40 + cooc.cols_N
    assert (np.diff(keys) > 0).all() and (cooc.values_N > 0).all()  # sorted, unique, no explicit zeros
    assert len(cooc) == np.count_nonzero(expected)
    assert not list(tmp_path.iterdir())  # spill files removed


def test_dense_region_follows_rank_product():
    widths = dense_row_widths(10, 12)
    assert widths.tolist() == [10, 6, 4, 3, 2, 2, 1, 1, 1, 1]
    p = max_product_for(1000, 80_000)
    assert dense_row_widths(1000, p).sum() * 8 <= 80_000 < dense_row_widths(1000, p + 1).sum() * 8


def test_glove_binary_round_trip_and_layout(tmp_path):
    cooc = Cooccurrences(np.array([0, 2], np.int32), np.array([1, 0], np.int32), np.array([1.5, 0.25]), 3)
    path = tmp_path / "cooccurrence.bin"
    save_cooccurrences(path, cooc)
    raw = path.read_bytes()
    assert len(raw) == 32 and np.frombuffer(raw[:8], "<i4").tolist() == [1, 2] and np.frombuffer(raw[8:16], "<f8")[0] == 1.5
    back = load_cooccurrences(path, 3)
    np.testing.assert_array_equal(back.to_dense(), cooc.to_dense())


def test_bad_cooccurrence_files_name_the_problem(tmp_path):
    path = tmp_path / "bad.bin"
    path.write_bytes(b"\x00" * 17)
    with pytest.raises(InputFileError, match="not a multiple of the 16-byte record"):
        load_cooccurrences(path, 3)
    save_cooccurrences(path, Cooccurrences(np.array([5], np.int32), np.array([0], np.int32), np.array([1.0]), 9))
    with pytest.raises(InputFileError, match=r"outside 1\.\.3"):
        load_cooccurrences(path, 3)
    with pytest.raises(InputFileError, match="cannot be read"):
        load_cooccurrences(tmp_path / "missing.bin", 3)
    with pytest.raises(ConfigError, match="window"):
        count_cooccurrences(np.zeros(3, np.int32), np.array([3]), 1, window=0)
