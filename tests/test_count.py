"""The count-based models (ppmi, svd): their matrices against theory.pmi and numpy's SVD, their files and commands."""
import json
import os

import numpy as np
import pytest
import scipy.sparse

from jaxembed.cli import main
from jaxembed.config import PpmiConfig, SvdConfig, make_config
from jaxembed.data.corpus import prepare_corpus
from jaxembed.errors import ConfigError, InputFileError
from jaxembed.fit import fit
from jaxembed.io.formats import load_vectors
from jaxembed.io.sparse import load_sparse, save_sparse
from jaxembed.models.count import dirty_subsample, pair_counts, shifted_ppmi, svd_vectors, truncated_svd
from jaxembed.theory.pmi import pair_counts as theory_pair_counts
from jaxembed.theory.pmi import ppmi, shifted_pmi
from jaxembed.vectors import SparseVectors


@pytest.fixture(scope="module")
def hand_corpus(tmp_path_factory) -> str:
    """300 short sentences over 12 words in 6 topics of 2: each sentence draws its words from one topic
    (skewed towards the topic's first word) with probability 0.8, from all words otherwise."""
    rng = np.random.default_rng(5)
    words = np.array([f"w{i}" for i in range(12)])
    lines = []
    for _ in range(300):
        topic = words[2 * rng.integers(6):][:2]
        lines.append(" ".join(rng.choice(topic, p=[0.7, 0.3]) if rng.random() < 0.8 else rng.choice(words)
                              for _ in range(rng.integers(2, 9))))
    path = tmp_path_factory.mktemp("count") / "hand.txt"
    path.write_text("\n".join(lines) + "\n")
    return os.fspath(path)


def dense_counts(path: str, window: int, shrink: bool):
    prepared = prepare_corpus(path, min_count=1)
    counts = theory_pair_counts(np.asarray(prepared.ids_N[:len(prepared.ids_N)]), prepared.sentence_ends_S,
                                len(prepared.vocab), window, reduced_window=shrink)
    return prepared, counts


@pytest.mark.parametrize("shrink", [False, True])
@pytest.mark.parametrize("k", [1, 2])
def test_ppmi_rows_equal_theory_pmi(hand_corpus, k, shrink):
    prepared, counts = dense_counts(hand_corpus, 3, shrink)
    result = fit(hand_corpus, PpmiConfig(min_count=1, window=3, negative=k, cds=1.0, shrink_windows=shrink),
                 progress=False)
    assert isinstance(result.vectors, SparseVectors) and result.vectors.words == prepared.vocab.strings
    np.testing.assert_allclose(result.vectors.matrix.toarray(), ppmi(counts, k), rtol=1e-6, atol=1e-6)
    assert result.metrics["nonzeros"] == np.count_nonzero(ppmi(counts, k))


def test_context_smoothing_is_shifted_pmi_with_smoothed_context_distribution(hand_corpus):
    prepared, counts = dense_counts(hand_corpus, 2, False)
    cooc = pair_counts(prepared, PpmiConfig(min_count=1, window=2, shrink_windows=False))
    contexts = counts.sum(axis=0) ** 0.75
    expected = np.maximum(np.nan_to_num(shifted_pmi(counts, 5, contexts), neginf=0.0), 0.0)
    np.testing.assert_allclose(shifted_ppmi(cooc, 5, 0.75).toarray(), expected, rtol=1e-6, atol=1e-6)


def test_svd_equals_numpy_svd_of_shifted_ppmi_up_to_sign(hand_corpus):
    prepared, counts = dense_counts(hand_corpus, 2, False)
    target = ppmi(counts, 2).astype(np.float32).astype(np.float64)  # the model stores the matrix in float32
    u_np, s_np, vt_np = np.linalg.svd(target)
    result = fit(hand_corpus, SvdConfig(min_count=1, window=2, shrink_windows=False, negative=2, cds=1.0, dim=4,
                                        eig=1.0), progress=False)
    state = result.state
    np.testing.assert_allclose(state.s_D, s_np[:4], rtol=1e-8)
    signs = np.sign(np.sum(state.u_VxD * u_np[:, :4], axis=0))
    np.testing.assert_allclose(state.u_VxD, u_np[:, :4] * signs, atol=1e-8)
    np.testing.assert_allclose(state.v_VxD, vt_np[:4].T * signs, atol=1e-8)
    np.testing.assert_allclose(result.vectors.vectors, u_np[:, :4] * s_np[:4] * signs, atol=1e-5)


def test_eigenvalue_weighting_scales_the_columns(hand_corpus):
    base = SvdConfig(min_count=1, window=2, dim=3, seed=4)
    results = {eig: fit(hand_corpus, base.replace(eig=eig), progress=False) for eig in (0.0, 0.5, 1.0)}
    u, s = results[0.0].state.u_VxD, results[0.0].state.s_D
    for eig, result in results.items():
        np.testing.assert_allclose(result.vectors.vectors, u * s ** eig, rtol=1e-5, atol=1e-6)
    both = svd_vectors(u, s, results[0.0].state.v_VxD, 0.5, "w+c")
    word, context = u * s ** 0.5, results[0.0].state.v_VxD * s ** 0.5
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)
    np.testing.assert_allclose(both, unit(word) + unit(context), atol=1e-12)


def test_truncated_svd_is_deterministic_and_refuses_a_rank_beyond_the_matrix():
    m = scipy.sparse.random_array((30, 20), density=0.3, random_state=1, format="csr")
    first, second = truncated_svd(m, 5, seed=3), truncated_svd(m, 5, seed=3)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert all(np.abs(first[0]).max(axis=0) == first[0].max(axis=0))
    with pytest.raises(ConfigError, match="dim must be < 20 for svd"):
        truncated_svd(m, 20, seed=3)


def test_dirty_subsampling_keeps_each_word_at_its_rate_and_its_sentences():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 4, 200_000).astype(np.int32)
    ends = np.arange(10, 200_001, 10)
    keep = np.array([0.1, 0.5, 0.9, 1.0])
    kept, kept_ends = dirty_subsample(ids, ends, keep, seed=7)
    for word, rate in enumerate(keep):
        total, left = np.sum(ids == word), np.sum(kept == word)
        z = (left - rate * total) / np.sqrt(max(rate * (1 - rate) * total, 1e-12))
        assert abs(z) < 4 or rate == 1.0 and left == total
    assert kept_ends[-1] == len(kept) and np.all(np.diff(kept_ends) > 0)
    again, _ = dirty_subsample(ids, ends, keep, seed=7)
    np.testing.assert_array_equal(kept, again)


def test_clean_subsampling_weighs_each_pair_by_both_keep_probabilities(hand_corpus):
    from jaxembed.data.sampling import keep_probabilities
    prepared, counts = dense_counts(hand_corpus, 2, True)
    config = PpmiConfig(min_count=1, window=2, sample=0.01, subsampling="clean")
    keep = keep_probabilities(prepared.vocab.counts, 0.01)
    assert keep.min() < 0.9
    np.testing.assert_allclose(pair_counts(prepared, config).to_dense(), counts * np.outer(keep, keep), rtol=1e-12)


def test_sparse_vectors_file_round_trip_and_scipy_reads_it(tmp_path):
    matrix = scipy.sparse.random_array((6, 6), density=0.4, random_state=2, format="csr", dtype=np.float32)
    vectors = SparseVectors(["a", "b", "c", "d", "e", "é"], matrix)
    path = tmp_path / "v.npz"
    save_sparse(path, vectors)
    loaded = load_vectors(path)
    assert isinstance(loaded, SparseVectors) and loaded.words == vectors.words
    np.testing.assert_array_equal(loaded.matrix.toarray(), matrix.toarray())
    np.testing.assert_array_equal(scipy.sparse.load_npz(path).toarray(), matrix.toarray())
    (tmp_path / "other.npz").write_bytes(open(path, "rb").read()[:100])
    with pytest.raises(InputFileError, match="other.npz"):
        load_sparse(tmp_path / "other.npz")
    np.savez(tmp_path / "plain.npz", x=np.zeros(3))
    with pytest.raises(InputFileError, match="not sparse vectors: it lacks format"):
        load_vectors(tmp_path / "plain.npz")


def test_sparse_queries_equal_dense_queries():
    from jaxembed.vectors import Vectors
    matrix = scipy.sparse.random_array((40, 25), density=0.3, random_state=3, format="csr", dtype=np.float32)
    words = [f"w{i}" for i in range(40)]
    sparse, dense = SparseVectors(words, matrix), Vectors(words, matrix.toarray())
    ids = np.array([0, 5, 7])
    np.testing.assert_allclose(sparse.cosines(ids, 30), dense.cosines(ids, 30), atol=1e-6)
    np.testing.assert_allclose(sparse.pair_cosines(ids, ids[::-1]), dense.pair_cosines(ids, ids[::-1]), atol=1e-6)
    assert [w for w, _ in sparse.most_similar("w3", topn=5)] == [w for w, _ in dense.most_similar("w3", topn=5)]
    np.testing.assert_allclose(sparse["w3"], dense["w3"])


def test_cli_trains_and_evaluates_both_count_models(small_corpus, tmp_path, capsys):
    assert main(["train", "--model", "ppmi", "--corpus", small_corpus, "--out", str(tmp_path / "p"), "--window", "2",
                 "--quiet"]) == 0
    assert sorted(os.listdir(tmp_path / "p")) == [".jaxembed.lock", "metrics.json", "run.json", "vectors.npz"]
    metrics = json.loads((tmp_path / "p" / "metrics.json").read_text())
    assert metrics["model"] == "ppmi" and metrics["nonzeros"] > 0 and metrics["config"]["cds"] == 0.75
    assert main(["eval", str(tmp_path / "p" / "vectors.npz"), "--json"]) == 0
    results = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert results["wordsim353"]["pairs"] > 0 and results["analogy"]["answered"] > 0
    assert main(["train", "--model", "svd", "--corpus", small_corpus, "--out", str(tmp_path / "s"), "--dim", "20",
                 "--eig", "0", "--output", "w+c", "--quiet"]) == 0
    assert load_vectors(tmp_path / "s" / "vectors.txt").dim == 20


@pytest.mark.parametrize("args, message", [
    (["--model", "ppmi", "--dim", "50"], "settings ['dim'] do not apply to model 'ppmi'"),
    (["--model", "svd", "--epochs", "2"], "settings ['epochs'] do not apply to model 'svd'"),
    (["--model", "svd", "--eig", "2"], "eig must be in [0, 1], got 2.0"),
    (["--model", "ppmi", "--binary"], "the ppmi model writes its sparse rows as vectors.npz"),
    (["--model", "ppmi", "--negative", "0"], "negative (the shift log k) must be >= 1"),
])
def test_count_model_settings_are_checked(small_corpus, tmp_path, capsys, args, message):
    assert main(["train", "--corpus", small_corpus, "--out", str(tmp_path / "run"), "--quiet", *args]) == 2
    assert message in capsys.readouterr().err


def test_count_configs_share_the_common_settings():
    config = make_config({"model": "svd", "window": 2, "dim": 300, "negative": 5, "cds": 1})
    assert isinstance(config, SvdConfig) and (config.window, config.dim, config.negative, config.cds) == (2, 300, 5, 1.0)
    assert isinstance(make_config({"model": "ppmi"}), PpmiConfig)
