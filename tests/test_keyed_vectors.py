"""Vectors answers gensim's KeyedVectors calls as gensim does: each query against gensim on the same vectors."""
import numpy as np
import pytest

from jaxembed.errors import ConfigError
from jaxembed.eval.benchmarks import GOOGLE_ANALOGIES, WORDSIM353
from jaxembed.eval.analogy import read_analogies
from jaxembed.vectors import Vectors


@pytest.fixture(scope="module")
def pair():
    """(jaxembed Vectors, gensim KeyedVectors) of the same random vectors over 300 words, some of the analogy set's and
    of WordSim-353's."""
    from gensim.models import KeyedVectors
    words = list(dict.fromkeys(w.lower() for _, q in read_analogies(GOOGLE_ANALOGIES)[:3000] for w in q))[:150]
    pairs = [line.split("\t")[:2] for line in open(WORDSIM353, encoding="utf-8") if not line.startswith("#")]
    words = list(dict.fromkeys(words + [w.lower() for pair in pairs[:60] for w in pair]))
    words += [f"filler{i}" for i in range(300 - len(words))]
    table = np.random.default_rng(3).normal(size=(len(words), 12)).astype(np.float32)
    kv = KeyedVectors(vector_size=12)
    kv.add_vectors(words, table)
    kv.fill_norms()
    return Vectors(words, table), kv


def same_ranking(ours, theirs, atol=1e-6):
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=atol)


def test_attributes_and_lookups(pair):
    ours, kv = pair
    assert ours.index_to_key == kv.index_to_key and ours.key_to_index == kv.key_to_index
    assert ours.vector_size == kv.vector_size and len(ours) == len(kv)
    np.testing.assert_allclose(ours.norms, kv.norms, rtol=1e-6)
    np.testing.assert_allclose(ours.get_normed_vectors(), kv.get_normed_vectors(), atol=1e-6)
    word = ours.words[7]
    for key in (word, 7, np.int64(7)):
        np.testing.assert_array_equal(ours[key], kv[key])
        np.testing.assert_allclose(ours.get_vector(key, norm=True), kv.get_vector(key, norm=True), atol=1e-7)
        assert ours.get_index(key) == kv.get_index(key) and (key in ours) == (key in kv)
    np.testing.assert_array_equal(ours[[word, 3, ours.words[9]]], kv[[word, 3, ours.words[9]]])
    assert ours.get_index("zzz", default=-1) == kv.get_index("zzz", default=-1) == -1
    assert ("zzz" in ours) == ("zzz" in kv) == (10_000 in ours) is False
    with pytest.raises(KeyError):
        ours.get_index("zzz")
    with pytest.raises(ValueError):
        ours.get_vector(word)[0] = 1.0  # read-only, as gensim's


@pytest.mark.parametrize("kwargs", [
    dict(pre_normalize=True, post_normalize=False), dict(pre_normalize=False, post_normalize=True),
    dict(weights=[2.0, -1.0, 0.5]), dict(ignore_missing=True, extra="zzz"),
])
def test_get_mean_vector(pair, kwargs):
    ours, kv = pair
    kwargs = dict(kwargs)
    keys = [ours.words[1], ours.words[2], np.arange(12, dtype=np.float32)] + ([kwargs.pop("extra")] if "extra" in kwargs else [])
    if "weights" in kwargs and len(keys) != len(kwargs["weights"]):
        kwargs["weights"] = kwargs["weights"] + [1.0]
    np.testing.assert_allclose(ours.get_mean_vector(keys, **kwargs), kv.get_mean_vector(keys, **kwargs), atol=1e-6)


def queries(vectors: Vectors) -> list[dict]:
    w = vectors.words
    vector = np.linspace(-1, 1, 12).astype(np.float32)
    return [dict(positive=w[0]), dict(positive=[w[0], w[5]], negative=[w[9]]), dict(positive=vector),
            dict(positive=[(w[0], 2.0), w[3]], negative=[(w[4], -0.5)]), dict(positive=[vector, w[2]], negative=w[8]),
            dict(positive=[3, w[4]]), dict(negative=[w[11]]), dict(positive=w[0], restrict_vocab=50),
            dict(positive=w[0], clip_start=10, clip_end=90)]


@pytest.mark.parametrize("index", range(9))
@pytest.mark.parametrize("topn", [10, 1, 0, None])
def test_most_similar_equals_gensim(pair, index, topn):
    ours, kv = pair
    query = queries(ours)[index]
    mine, theirs = ours.most_similar(**query, topn=topn), kv.most_similar(**query, topn=topn)
    if topn is None:
        np.testing.assert_allclose(mine, theirs, atol=1e-6)
    else:
        same_ranking(mine, theirs)


def test_similar_by_word_key_and_vector(pair):
    ours, kv = pair
    word, vector = ours.words[6], ours.vectors[40] + 0.1
    same_ranking(ours.similar_by_word(word, topn=5), kv.similar_by_word(word, topn=5))
    same_ranking(ours.similar_by_key(word, topn=5, restrict_vocab=100), kv.similar_by_key(word, topn=5, restrict_vocab=100))
    same_ranking(ours.similar_by_vector(vector, topn=5), kv.similar_by_vector(vector, topn=5))


@pytest.mark.parametrize("index", range(3))
@pytest.mark.parametrize("topn", [10, None])
def test_most_similar_cosmul_equals_gensim(pair, index, topn):
    ours, kv = pair
    w = ours.words
    query = [dict(positive=[w[0], w[5]], negative=[w[9]]), dict(positive=w[2]),
             dict(positive=[w[1], ours.vectors[20] * 2], negative=[w[3], w[4]])][index]
    mine, theirs = ours.most_similar_cosmul(**query, topn=topn), kv.most_similar_cosmul(**query, topn=topn)
    if topn is None:
        np.testing.assert_allclose(mine, theirs, rtol=1e-5)
    else:
        same_ranking(mine, theirs, atol=1e-5)


def test_pairwise_queries_equal_gensim(pair):
    ours, kv = pair
    w = ours.words
    assert ours.similarity(w[1], w[2]) == pytest.approx(kv.similarity(w[1], w[2]), abs=1e-6)
    assert ours.distance(w[1], w[2]) == pytest.approx(kv.distance(w[1], w[2]), abs=1e-6)
    assert ours.n_similarity(w[:3], w[5:9]) == pytest.approx(kv.n_similarity(w[:3], w[5:9]), abs=1e-6)
    np.testing.assert_allclose(ours.distances(w[4]), kv.distances(w[4]), atol=1e-6)
    np.testing.assert_allclose(ours.distances(ours.vectors[2], w[10:20]), kv.distances(ours.vectors[2], w[10:20]), atol=1e-6)
    np.testing.assert_allclose(Vectors.cosine_similarities(ours.vectors[0], ours.vectors[:30]),
                               kv.cosine_similarities(ours.vectors[0], ours.vectors[:30]), atol=1e-6)
    assert ours.closer_than(w[0], w[30]) == kv.closer_than(w[0], w[30])
    assert ours.rank(w[0], w[30]) == kv.rank(w[0], w[30])
    assert ours.most_similar_to_given(w[0], w[10:25]) == kv.most_similar_to_given(w[0], w[10:25])
    assert ours.doesnt_match(w[20:26]) == kv.doesnt_match(w[20:26])
    for (d1, k1), (d2, k2) in zip(ours.rank_by_centrality(w[20:26] + ["zzz"]), kv.rank_by_centrality(w[20:26] + ["zzz"])):
        assert k1 == k2 and d1 == pytest.approx(d2, abs=1e-6)


def test_evaluations_return_what_gensim_returns(pair):
    ours, kv = pair
    score, sections = ours.evaluate_word_analogies(GOOGLE_ANALOGIES)
    their_score, their_sections = kv.evaluate_word_analogies(GOOGLE_ANALOGIES)
    assert score == pytest.approx(their_score, abs=1e-12)
    assert sections == their_sections
    dummy = ours.evaluate_word_analogies(GOOGLE_ANALOGIES, dummy4unknown=True)
    assert dummy[0] == pytest.approx(kv.evaluate_word_analogies(GOOGLE_ANALOGIES, dummy4unknown=True)[0], abs=1e-12)
    for dummy4unknown in (False, True):
        mine = ours.evaluate_word_pairs(WORDSIM353, dummy4unknown=dummy4unknown)
        theirs = kv.evaluate_word_pairs(WORDSIM353, dummy4unknown=dummy4unknown)
        assert mine[0].statistic == pytest.approx(theirs[0].statistic, abs=1e-6)
        assert mine[1].statistic == pytest.approx(theirs[1].statistic, abs=1e-6)
        assert mine[2] == pytest.approx(theirs[2])


def test_word2vec_format_methods_round_trip_with_gensim(pair, tmp_path):
    from gensim.models import KeyedVectors
    ours, _ = pair
    for binary in (False, True):
        path = tmp_path / f"v{int(binary)}"
        ours.save_word2vec_format(path, binary=binary)
        theirs = KeyedVectors.load_word2vec_format(path, binary=binary)
        assert theirs.index_to_key == ours.words
        np.testing.assert_allclose(theirs.vectors, ours.vectors, rtol=1e-5 if not binary else 0, atol=0)
        again = Vectors.load_word2vec_format(path, binary=binary, limit=50)
        assert again.words == ours.words[:50] and np.array_equal(again.vectors, theirs.vectors[:50])
    with pytest.raises(ConfigError, match="fvocab not supported"):
        ours.save_word2vec_format(tmp_path / "x", fvocab=tmp_path / "vocab")


def test_gensim_arguments_jaxembed_refuses_name_themselves(pair):
    ours, _ = pair
    with pytest.raises(ConfigError, match="indexer"):
        ours.most_similar(ours.words[0], indexer=object())
    with pytest.raises(ConfigError, match=r"positive\[1\] must be"):
        ours.most_similar([ours.words[0], 2.5])
    with pytest.raises(ConfigError, match="vector must be a \\(12,\\) array"):
        ours.similar_by_vector(np.zeros(3))


def test_subword_vectors_answer_as_gensims_fasttext_vectors():
    """An official fastText model read by jaxembed and by gensim's load_facebook_vectors: the same answers for
    vocabulary and out-of-vocabulary words."""
    import os
    import gensim
    from gensim.models.fasttext import load_facebook_vectors
    from jaxembed.io.fasttext import load_fasttext
    path = os.path.join(os.path.dirname(gensim.__file__), "test", "test_data", "lee_fasttext_new.bin")
    ours, kv = load_fasttext(path), load_facebook_vectors(path)
    for word in ("government", "governmentt"):
        np.testing.assert_allclose(ours.get_vector(word), kv.get_vector(word), atol=1e-6)
        np.testing.assert_allclose(ours.get_vector(word, norm=True), kv.get_vector(word, norm=True), atol=1e-6)
    same_ranking(ours.most_similar("governmentt", topn=5), kv.most_similar("governmentt", topn=5), atol=1e-5)
    same_ranking(ours.most_similar(positive=["government", "labor"], negative=["sydney"], topn=5),
                 kv.most_similar(positive=["government", "labor"], negative=["sydney"], topn=5), atol=1e-5)
    assert ours.similarity("governmentt", "labor") == pytest.approx(kv.similarity("governmentt", "labor"), abs=1e-5)
    assert ours.doesnt_match(["government", "labor", "party", "sydney"]) == kv.doesnt_match(
        ["government", "labor", "party", "sydney"])
