"""Continued training (init_from, save_state): the earlier run's words and rows carried into a run on new text."""
import collections
import os

import numpy as np
import pytest

from jaxembed.config import Word2VecConfig
from jaxembed.errors import ConfigError, InputFileError
from jaxembed.fit import fit
from jaxembed.io.state import STATE_NAME, load_state
from jaxembed.models import word2vec

FIRST = [" ".join(f"a{(i * 5 + j) % 30}" for j in range(8)) for i in range(300)]
SECOND = [" ".join(f"{'a' if j % 2 else 'b'}{(i * 3 + j) % 40}" for j in range(8)) for i in range(300)]


@pytest.fixture(scope="module")
def earlier(tmp_path_factory):
    """An sgns run on FIRST saved with its state, and the text of SECOND."""
    root = tmp_path_factory.mktemp("continued")
    (root / "first.txt").write_text("\n".join(FIRST) + "\n")
    (root / "second.txt").write_text("\n".join(SECOND) + "\n")
    config = Word2VecConfig(dim=8, epochs=1, min_count=3, save_state=True, seed=2)
    fit(os.fspath(root / "first.txt"), config, progress=False, save_to=root / "run")
    return root


def continued_model(root, **settings):
    config = Word2VecConfig(**{"dim": 8, "epochs": 1, "min_count": 3, "seed": 5, **settings})
    prepared = word2vec.read_corpus(os.fspath(root / "second.txt"), config)
    model = word2vec.build(prepared, config, 1)
    return prepared, model, model.init()


def test_state_file_holds_the_vocabulary_counts_and_both_tables(earlier):
    state = load_state(earlier / "run" / STATE_NAME)
    counts = collections.Counter(" ".join(FIRST).split())
    assert set(state.words) == {w for w, c in counts.items() if c >= 3}
    assert [counts[w] for w in state.words] == state.counts.tolist()
    assert state.input_VxD.shape == state.output_VxD.shape == (len(state.words), 8)


def test_known_words_keep_their_rows_and_counts_add_up(earlier):
    state = load_state(earlier / "run" / STATE_NAME)
    prepared, model, tables = continued_model(earlier, init_from=os.fspath(earlier / "run"))
    words = prepared.vocab.strings
    second = collections.Counter(" ".join(SECOND).split())
    assert set(state.words) <= set(words)
    assert set(words) - set(state.words) == {w for w, c in second.items() if c >= 3 and w not in state.words}
    counts = dict(zip(words, prepared.vocab.counts.tolist()))
    for word, count in zip(state.words, state.counts.tolist()):
        assert counts[word] == count + second.get(word, 0)
    assert list(prepared.vocab.counts) == sorted(prepared.vocab.counts, reverse=True)
    rows = [words.index(w) for w in state.words]
    syn0, syn1 = np.asarray(tables.syn0_VxD), np.asarray(tables.syn1_RxD)
    np.testing.assert_array_equal(syn0[rows], state.input_VxD)
    np.testing.assert_array_equal(syn1[rows], state.output_VxD)
    fresh = [i for i, w in enumerate(words) if w not in state.words]
    assert fresh and np.all(np.abs(syn0[fresh]) <= 0.5 / 8) and not syn1[fresh].any()


def test_hierarchical_softmax_nodes_start_again_and_vectors_files_give_input_rows(earlier):
    state = load_state(earlier / "run" / STATE_NAME)
    prepared, _, tables = continued_model(earlier, init_from=os.fspath(earlier / "run" / "vectors.txt"), model="sg-hs")
    words = prepared.vocab.strings
    np.testing.assert_allclose(np.asarray(tables.syn0_VxD)[[words.index(w) for w in state.words]], state.input_VxD,
                               atol=1e-6)
    assert not np.asarray(tables.syn1_RxD).any()
    second = collections.Counter(" ".join(SECOND).split())
    assert dict(zip(words, prepared.vocab.counts.tolist())) == {w: second.get(w, 0) for w in words}


def test_continued_training_trains_and_bad_sources_are_named(earlier, tmp_path):
    result = fit(os.fspath(earlier / "second.txt"), Word2VecConfig(dim=8, epochs=1, min_count=3,
                                                                   init_from=os.fspath(earlier / "run")), progress=False)
    assert result.metrics["continued_words"] == len(load_state(earlier / "run" / STATE_NAME).words)
    with pytest.raises(ConfigError, match="holds vectors of dim 8; set dim to 8"):
        continued_model(earlier, init_from=os.fspath(earlier / "run"), dim=16)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="without state.msgpack, model.bin or vectors.txt"):
        continued_model(earlier, init_from=os.fspath(tmp_path / "empty"))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / STATE_NAME).write_bytes(b"\x81\xa1x\x01")
    with pytest.raises(InputFileError, match="saved state .* cannot be read"):
        continued_model(earlier, init_from=os.fspath(tmp_path / "bad"))


def test_fasttext_continues_from_its_model_bin(earlier, tmp_path):
    from jaxembed.config import FastTextConfig
    from jaxembed.io.fasttext import load_fasttext_model
    from jaxembed.models import fasttext
    first = FastTextConfig(dim=8, epochs=1, min_count=3, bucket=50, minn=2, maxn=3, seed=2)
    fit(os.fspath(earlier / "first.txt"), first, progress=False, save_to=tmp_path / "ft")
    model = load_fasttext_model(tmp_path / "ft" / "model.bin")
    config = first.replace(init_from=os.fspath(tmp_path / "ft"), seed=9)
    prepared = fasttext.read_corpus(os.fspath(earlier / "second.txt"), config)
    state = fasttext.build(prepared, config, 1).init()
    words = prepared.vocab.strings
    old = [w.decode() for w in model.entries[:model.nwords]]
    assert set(old) <= set(words)
    rows = [words.index(w) for w in old]
    input_RxD, output_VxD = np.asarray(state.input_RxD), np.asarray(state.output_VxD)
    np.testing.assert_array_equal(input_RxD[rows], model.input_RxD[:model.nwords])
    np.testing.assert_array_equal(input_RxD[len(words):], model.input_RxD[model.nwords:])
    np.testing.assert_array_equal(output_VxD[rows], model.output_OxD)
    with pytest.raises(ConfigError, match="hashes n-grams with bucket 50, minn 2, maxn 3"):
        fasttext.build(prepared, config.replace(bucket=60), 1)


def test_glove_continues_from_its_state_with_biases(earlier, tmp_path):
    from jaxembed.config import GloveConfig
    from jaxembed.models import glove
    first = GloveConfig(dim=6, epochs=2, min_count=3, window=3, save_state=True, seed=2)
    fit(os.fspath(earlier / "first.txt"), first, progress=False, save_to=tmp_path / "glove")
    state = load_state(tmp_path / "glove" / STATE_NAME)
    assert state.model == "glove" and state.input_VxD.shape == state.output_VxD.shape == (len(state.words), 7)
    config = first.replace(init_from=os.fspath(tmp_path / "glove"), save_state=False, seed=8)
    prepared = glove.read_corpus(os.fspath(earlier / "second.txt"), config)
    model = glove.build(prepared, config, 1)
    words = prepared.vocab.strings
    params = np.asarray(model.init().table_Rx2E)[:, :7]
    rows = np.array([words.index(w) for w in state.words])
    np.testing.assert_array_equal(params[rows], state.input_VxD)
    np.testing.assert_array_equal(params[len(words) + rows], state.output_VxD)
    with pytest.raises(ConfigError, match="holds vectors of dim 6; set dim to 6"):
        glove.build(prepared, config.replace(dim=5), 1)


def test_other_families_give_their_word_vectors_only(earlier, tmp_path):
    from jaxembed.config import GloveConfig
    from jaxembed.io.state import earlier_tables
    glove_run = tmp_path / "glove"
    fit(os.fspath(earlier / "first.txt"), GloveConfig(dim=8, epochs=1, min_count=3, window=3, save_state=True),
        progress=False, save_to=glove_run)
    state = load_state(glove_run / STATE_NAME)
    as_word2vec = earlier_tables(glove_run, "word2vec")
    np.testing.assert_array_equal(as_word2vec.input_VxD, state.input_VxD[:, :-1])
    assert as_word2vec.output_VxD is None and earlier_tables(glove_run, "glove").output_VxD is not None
    prepared, _, tables = continued_model(earlier, init_from=os.fspath(glove_run))
    assert not np.asarray(tables.syn1_RxD).any()
    from jaxembed.models import glove
    config = GloveConfig(dim=8, epochs=1, min_count=3, init_from=os.fspath(earlier / "run"))
    params = np.asarray(glove.build(glove.read_corpus(os.fspath(earlier / "second.txt"), config), config, 1)
                        .init().table_Rx2E)
    sgns = load_state(earlier / "run" / STATE_NAME)
    words = glove.read_corpus(os.fspath(earlier / "second.txt"), config).vocab.strings
    np.testing.assert_array_equal(params[[words.index(w) for w in sgns.words], :8], sgns.input_VxD)
