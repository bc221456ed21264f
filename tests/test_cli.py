"""The command line end to end on a small real corpus: files written, gensim loads them, errors exit 2."""
import json
import re

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
                 "--min-count", "3", "--window", "4", "--x-max", "10", "--weight-exponent", "0.5", "--output", "w", "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == "glove" and metrics["nonzeros"] > 0
    config = metrics["config"]
    assert (config["weight_exponent"], config["x_max"], config["window"], config["output"]) == (0.5, 10.0, 4, "w")
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


@pytest.mark.parametrize("flags,shuffle", [([], False), (["--shuffle"], True), (["--shuffle", "1"], True),
                                           (["--shuffle", "true"], True), (["--shuffle", "0"], False)])
def test_switches_take_both_forms(flags, shuffle):
    from jaxembed.cli import build_parser, config_from_args
    args = build_parser().parse_args(["train", "--corpus", "c", "--out", "o", *flags, "--hs", "--negative", "5"])
    config = config_from_args(args)
    assert (config.shuffle, config.hs, config.negative) == (shuffle, True, 5)


def stated_defaults(help_text: str, flag: str) -> dict[str, str]:
    """model -> default as the help of `flag` states it: "[families] (default V; m1, m2: V2; ...)"."""
    from jaxembed.config import FAMILIES, MODELS
    segment = help_text.split(f" {flag} ", 1)[1].split(" --", 1)[0]
    families = re.search(r"\[([a-z0-9, ]+)\] \(default", segment)
    applies = [m for f in families.group(1).split(", ") for m in FAMILIES[f]] if families else list(MODELS)
    usual, *others = segment.rsplit("(default ", 1)[1].rsplit(")", 1)[0].split("; ")
    stated = dict.fromkeys(applies, usual)
    for part in others:
        models, value = part.split(": ", 1)
        stated.update(dict.fromkeys(models.split(", "), value))
    return stated


def test_help_states_each_models_default_from_the_dataclasses(capsys, monkeypatch):
    """--help is generated from the configs: for every setting, the models it names and the default it states for
    each are the resolved defaults of the dataclasses."""
    from jaxembed.cli import build_parser, shown
    from jaxembed.config import CONFIG_CLASSES, MODELS, config_fields
    monkeypatch.setenv("COLUMNS", "10000")  # no line wrapping: argparse would also break lines after hyphens
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "(default 64 pairs; cbow, cbow-hs: 64 centre windows; sg-hs: 16 centre windows; glove: 1024 nonzeros)" in help_text
    for name, field in config_fields().items():
        if name == "model":
            continue
        expected = {}
        for model in MODELS:
            config = CONFIG_CLASSES[model](model=model).resolved()
            if name in config.__dataclass_fields__:
                value = shown(getattr(config, name), field)
                expected[model] = f"{value} {config.batch_unit}" if name == "batch_size" else value
        assert stated_defaults(help_text, "--" + name.replace("_", "-")) == expected, name
