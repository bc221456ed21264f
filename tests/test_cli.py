"""The command line end to end on a small real corpus: files written, gensim loads them, errors exit 2."""
import json

import numpy as np
import pytest

from jaxembed.cli import main


def test_train_writes_vectors_and_metrics_then_eval(small_corpus, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--model", "sgns", "--corpus", small_corpus, "--out", str(out), "--dim", "12",
                 "--epochs", "1", "--min-count", "3", "--shuffle", "1", "--binary", "--quiet"])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["shuffle"] is True
    for key in ("words_per_second", "train_seconds", "corpus_words", "epochs", "loss"):
        assert key in metrics
    from gensim.models import KeyedVectors
    text = KeyedVectors.load_word2vec_format(str(out / "vectors.txt"))
    binary = KeyedVectors.load_word2vec_format(str(out / "vectors.bin"), binary=True)
    assert text.vector_size == 12 and len(text) == metrics["vocab_size"]
    np.testing.assert_allclose(text.vectors, binary.vectors, rtol=1e-4, atol=1e-6)
    capsys.readouterr()
    assert main(["eval", str(out / "vectors.txt"), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert 0 <= results["analogy"]["coverage"] <= 1 and results["wordsim353"]["pairs"] > 0


def test_train_glove_from_the_command_line(small_corpus, tmp_path):
    out = tmp_path / "glove"
    assert main(["train", "--model", "glove", "--corpus", small_corpus, "--out", str(out), "--dim", "8", "--epochs", "2",
                 "--min-count", "3", "--window", "4", "--x-max", "10", "--alpha", "0.5", "--glove-output", "word", "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == "glove" and metrics["nonzeros"] > 0
    assert (metrics["config"]["alpha"], metrics["config"]["x_max"], metrics["config"]["window"]) == (0.5, 10.0, 4)
    from gensim.models import KeyedVectors
    assert KeyedVectors.load_word2vec_format(str(out / "vectors.txt")).vector_size == 8


def test_convert_text_to_binary_and_back(tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("2 3\nfoo 1 2 3\nbar 4 5 6.5\n")
    assert main(["convert", str(src), str(tmp_path / "b.bin"), "--to", "binary"]) == 0
    assert main(["convert", str(tmp_path / "b.bin"), str(tmp_path / "c.txt"), "--to", "text"]) == 0
    assert (tmp_path / "c.txt").read_text() == "2 3\nfoo 1 2 3\nbar 4 5 6.5\n"


@pytest.mark.parametrize("args,message", [
    (["train", "--corpus", "/nonexistent.txt", "--out", "x"], "does not exist"),
    (["train", "--corpus", "CORPUS", "--out", "x", "--dim", "0"], "dim must be >= 1"),
    (["train", "--corpus", "CORPUS", "--out", "x", "--min-alpha", "1"], "min_alpha"),
    (["eval", "/nonexistent.vec"], "cannot read"),
    (["train", "--corpus", "CORPUS", "--out", "x", "--model", "glove", "--negative", "5"], "do not apply to model 'glove'"),
    (["train", "--corpus", "CORPUS", "--out", "x", "--model", "glove", "--x-max", "-1"], "x_max must be > 0"),
    (["train", "--corpus", "CORPUS", "--out", "x", "--model", "glove", "--shuffle", "1"], "do not apply to model 'glove'"),
])
def test_bad_input_exits_2_with_message(args, message, small_corpus, capsys):
    args = [small_corpus if a == "CORPUS" else a for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
