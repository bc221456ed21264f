"""Corpora given as several files, a directory, glob patterns or Python sentences read as the one text they make."""
import json
import os

import numpy as np
import pytest

from jaxembed.cli import main
from jaxembed.config import Word2VecConfig
from jaxembed.data.corpus import prepare_corpus
from jaxembed.data.sources import corpus_files
from jaxembed.errors import ConfigError, InputFileError
from jaxembed.fit import fit

LINES = [" ".join(f"w{(i * 7 + j * 3) % 23}" for j in range(i % 9 + 1)) for i in range(400)]


@pytest.fixture()
def parts(tmp_path):
    """LINES in one file, and split over three files in a directory (the middle one without a final newline)."""
    (tmp_path / "all.txt").write_text("\n".join(LINES) + "\n")
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, chunk in enumerate((LINES[:150], LINES[150:300], LINES[300:])):
        (folder / f"p{i}.txt").write_text("\n".join(chunk) + ("" if i == 1 else "\n"))
    (folder / ".hidden").write_text("zzz zzz\n")
    (folder / "sub").mkdir()
    return tmp_path


def encoded(corpus):
    prepared = prepare_corpus(corpus, min_count=1)
    return prepared.vocab.strings, np.asarray(prepared.ids_N[:len(prepared.ids_N)]), prepared.sentence_ends_S


@pytest.mark.parametrize("spec", ["parts", ["parts/p0.txt", "parts/p1.txt", "parts/p2.txt"], "parts/p*.txt",
                                  ["parts/p0.txt", "parts/p[12].txt"]])
def test_files_directories_and_patterns_read_as_the_concatenated_file(parts, spec):
    spec = [os.fspath(parts / s) for s in spec] if isinstance(spec, list) else os.fspath(parts / spec)
    files = corpus_files(spec)
    assert files == tuple(os.fspath(parts / "parts" / f"p{i}.txt") for i in range(3))
    for got, want in zip(encoded(files), encoded(os.fspath(parts / "all.txt"))):
        np.testing.assert_array_equal(got, want)


def test_sentences_lists_generators_and_line_sentence_train_as_the_file(parts):
    from gensim.models.word2vec import LineSentence
    config = Word2VecConfig(epochs=1, min_count=1, dim=8, seed=3)
    expected = fit(os.fspath(parts / "all.txt"), config, progress=False)
    sentences = [line.split() for line in LINES]
    for corpus in (sentences, (s for s in sentences), LineSentence(os.fspath(parts / "all.txt")), os.fspath(parts / "parts")):
        result = fit(corpus, config, progress=False)
        np.testing.assert_array_equal(result.vectors.vectors, expected.vectors.vectors)
        assert result.metrics["corpus_words"] == expected.metrics["corpus_words"]
    assert fit(sentences, config, progress=False).metrics["corpus"] == "<sentences>"


def test_default_config_is_word2vec_skip_gram(parts):
    result = fit([line.split() for line in LINES[:100]], progress=False)
    assert result.metrics["model"] == "sgns" and result.metrics["config"] == Word2VecConfig().resolved().__dict__ | {
        "devices": result.metrics["config"]["devices"]}


@pytest.mark.parametrize("corpus, message", [
    (["a b", ["c"]], "sentence 0 must be a list of tokens (str), got str 'a b'"),
    ([["a", "b c"]], "sentence 0: token 'b c' contains whitespace"),
    ([["a"], ["b", 3]], "sentence 1: token 3 is not a str"),
    ([["a", ""]], "sentence 0: token '' is empty"),
    (42, "corpus must be a file path"),
])
def test_bad_sentences_name_the_sentence_and_token(corpus, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fit(corpus, Word2VecConfig(epochs=1, min_count=1), progress=False)


def test_file_sets_that_name_nothing_are_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="corpus directory .* holds no files"):
        corpus_files(os.fspath(tmp_path / "empty"))
    with pytest.raises(InputFileError, match="corpus pattern .* matches no files"):
        corpus_files(os.fspath(tmp_path / "*.txt"))
    (tmp_path / "a.txt").write_text("x y\n")
    with pytest.raises(InputFileError, match="a corpus of several files must be regular files"):
        prepare_corpus((os.fspath(tmp_path / "a.txt"), "/dev/stdin"), min_count=1)


def test_fingerprint_tells_where_the_files_split(tmp_path):
    for name, text in (("a1", "a b "), ("a2", "c\n"), ("b1", "a "), ("b2", "b c\n")):
        (tmp_path / name).write_text(text)
    first = prepare_corpus((os.fspath(tmp_path / "a1"), os.fspath(tmp_path / "a2")), min_count=1)
    second = prepare_corpus((os.fspath(tmp_path / "b1"), os.fspath(tmp_path / "b2")), min_count=1)
    assert first.fingerprint != second.fingerprint


def test_command_line_takes_files_and_patterns_and_records_them(parts, capsys):
    out = parts / "run"
    assert main(["train", "--corpus", os.fspath(parts / "parts" / "p0.txt"), os.fspath(parts / "parts" / "p[12].txt"),
                 "--out", os.fspath(out), "--epochs", "1", "--min-count", "1", "--dim", "8", "--quiet"]) == 0
    recorded = json.loads((out / "run.json").read_text())["corpus"]
    assert recorded == [os.fspath(parts / "parts" / f"p{i}.txt") for i in range(3)]
    assert json.loads((out / "metrics.json").read_text())["corpus"] == recorded


def test_sentences_errors_name_the_sentences_and_ascii_whitespace_only_splits():
    with pytest.raises(InputFileError, match="^the corpus of sentences contains no words"):
        fit([], Word2VecConfig(min_count=1), progress=False)
    result = fit([["café\xa0bar", "x"]] * 10, Word2VecConfig(min_count=1, epochs=1, dim=4), progress=False)
    assert "café\xa0bar" in result.vectors


def test_train_word2vec_takes_gensims_names():
    from gensim.test.utils import common_texts
    from jaxembed import train_fasttext, train_word2vec
    result = train_word2vec(common_texts, vector_size=6, min_count=1, sg=0, hs=1, negative=0, ns_exponent=1.0,
                            workers=4, epochs=1)
    config = result.metrics["config"]
    assert (config["model"], config["dim"], config["hs"], config["negative"], config["noise_power"]) == \
        ("cbow", 6, True, 0, 1.0)
    assert train_word2vec(common_texts, Word2VecConfig(dim=4), min_count=1, epochs=1).vectors.dim == 4
    fasttext = train_fasttext(common_texts, min_count=1, min_n=2, max_n=3, bucket=100, vector_size=4, epochs=1)
    assert (fasttext.metrics["config"]["minn"], fasttext.metrics["config"]["maxn"]) == (2, 3)
    with pytest.raises(ConfigError, match="unknown settings \\['vector_sizes'\\]"):
        train_word2vec(common_texts, vector_sizes=3)
    with pytest.raises(ConfigError, match="dim is given twice"):
        train_word2vec(common_texts, dim=3, vector_size=3)
