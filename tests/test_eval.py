"""Evaluation against gensim's evaluators and scipy (the oracles), on vectors with real vocabulary."""
import numpy as np
import pytest
import scipy.stats

from jaxembed import Vectors
from jaxembed.eval.analogy import COSMUL_EPSILON, evaluate_word_analogies, read_analogies
from jaxembed.eval.benchmarks import GOOGLE_ANALOGIES, SIMLEX999, WORDSIM353, evaluate_all
from jaxembed.eval.similarity import evaluate_word_pairs, rankdata, spearman


@pytest.fixture(scope="module")
def eval_vectors():
    """Random vectors over the benchmark words (plus fillers and an upper-case duplicate), ~80% covered."""
    words = sorted({w.lower() for _, q in read_analogies(GOOGLE_ANALOGIES) for w in q})
    rng = np.random.default_rng(0)
    words = [w for w in words if rng.random() < 0.9] + ["filler%d" % i for i in range(300)] + ["Paris"]
    for path in (WORDSIM353, SIMLEX999):
        for line in open(path):
            if not line.startswith("#"):
                words += [w for w in line.split("\t")[:2] if rng.random() < 0.9]
    words = list(dict.fromkeys(words))
    base = rng.normal(size=(len(words), 24)).astype(np.float32)
    return Vectors(words, base)


def gensim_kv(vectors):
    from gensim.models import KeyedVectors
    kv = KeyedVectors(vector_size=vectors.dim)
    kv.add_vectors(vectors.words, vectors.vectors)
    return kv


def test_analogy_accuracy_equals_gensim(eval_vectors):
    kv = gensim_kv(eval_vectors)
    for restrict in (300_000, 1500):
        ours = evaluate_word_analogies(eval_vectors, GOOGLE_ANALOGIES, restrict_vocab=restrict)
        score, sections = kv.evaluate_word_analogies(GOOGLE_ANALOGIES, restrict_vocab=restrict)
        total = sections[-1]
        assert ours.answered == len(total["correct"]) + len(total["incorrect"])
        assert ours.accuracy_cosadd == pytest.approx(score, abs=1e-12)
        assert 0 < ours.coverage < 1


def test_cosmul_matches_brute_force(eval_vectors, tmp_path):
    unit = eval_vectors.unit
    questions = [q for _, q in read_analogies(GOOGLE_ANALOGIES) if all(w.lower() in eval_vectors for w in q)][:150]
    correct = 0
    for a, b, c, d in ([eval_vectors.index[w.lower()] for w in q] for q in questions):
        cos = (1 + unit @ unit[[a, b, c]].T) / 2
        score = cos[:, 1] * cos[:, 2] / (cos[:, 0] + COSMUL_EPSILON)
        score[[a, b, c]] = -np.inf
        correct += int(np.argmax(score) == d)
    path = tmp_path / "questions.txt"
    path.write_text(": section\n" + "".join(" ".join(q) + "\n" for q in questions))
    result = evaluate_word_analogies(eval_vectors, path)
    assert result.answered == len(questions)
    assert result.accuracy_cosmul == pytest.approx(correct / len(questions))


@pytest.mark.parametrize("path", [WORDSIM353, SIMLEX999])
def test_word_pairs_equal_gensim(eval_vectors, path):
    pearson, spearman_result, oov_percent = gensim_kv(eval_vectors).evaluate_word_pairs(path)
    ours = evaluate_word_pairs(eval_vectors, path)
    assert ours.spearman == pytest.approx(spearman_result.statistic, abs=1e-9)
    assert ours.pearson == pytest.approx(pearson.statistic, abs=1e-6)
    assert 100 * ours.oov_ratio == pytest.approx(oov_percent)
    assert ours.oov_pairs > 0


def test_rank_statistics_equal_scipy():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 6, 200).astype(float)
    y = x + rng.normal(size=200)
    np.testing.assert_allclose(rankdata(x), scipy.stats.rankdata(x))
    assert spearman(x, y) == pytest.approx(scipy.stats.spearmanr(x, y).statistic)


def test_evaluate_all_reports_coverage(eval_vectors):
    results = evaluate_all(eval_vectors)
    assert set(results) == {"analogy", "wordsim353", "simlex999"}
    assert results["analogy"]["total"] == 19544
    assert results["wordsim353"]["pairs"] + results["wordsim353"]["oov_pairs"] == 353


def test_semantic_and_syntactic_split_equals_gensim_sections(eval_vectors):
    _, sections = gensim_kv(eval_vectors).evaluate_word_analogies(GOOGLE_ANALOGIES)
    analogy = evaluate_all(eval_vectors)["analogy"]
    for part, syntactic in (("semantic", False), ("syntactic", True)):
        chosen = [s for s in sections[:-1] if s["section"].startswith("gram") == syntactic]
        correct = sum(len(s["correct"]) for s in chosen)
        answered = sum(len(s["correct"]) + len(s["incorrect"]) for s in chosen)
        assert analogy[part]["answered"] == answered > 0
        assert analogy[part]["accuracy"] == pytest.approx(correct / answered, abs=1e-12)
    assert analogy["semantic"]["answered"] + analogy["syntactic"]["answered"] == analogy["answered"]


def test_sparse_vectors_evaluate_as_the_same_dense_vectors(eval_vectors):
    import scipy.sparse
    from jaxembed.vectors import SparseVectors
    sparse = SparseVectors(eval_vectors.words, scipy.sparse.csr_array(np.where(eval_vectors.vectors > 0.5,
                                                                               eval_vectors.vectors, 0.0)))
    dense = Vectors(eval_vectors.words, sparse.matrix.toarray())
    ours, expected = evaluate_all(sparse), evaluate_all(dense)
    assert ours["analogy"]["answered"] == expected["analogy"]["answered"]
    for key in ("accuracy", "accuracy_cosmul"):
        assert ours["analogy"][key] == pytest.approx(expected["analogy"][key], abs=2e-4)
    for name in ("wordsim353", "simlex999"):
        assert ours[name]["spearman"] == pytest.approx(expected[name]["spearman"], abs=1e-5)
