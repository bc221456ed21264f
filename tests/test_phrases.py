"""Phrase detection against gensim's `Phrases` on the same sentences: counts, scores, joining, pruning, passes."""
import gzip
import os
import threading

import numpy as np
import pytest

from jaxembed.errors import ConfigError, InputFileError
from jaxembed.phrases import PhraseConfig, learn_phrases, phrase_passes, write_phrased

COLLOCATIONS = (["new", "york"], ["san", "francisco"], ["new", "york", "city"], ["bank", "of", "america"])


def generated_lines(seed: int, n_lines: int = 300) -> list[str]:
    """Lines of Zipf-distributed filler words, some empty, with the collocations inserted at random places."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(60)] + ["of", "the"]
    lines = []
    for _ in range(n_lines):
        tokens = [words[j] for j in np.minimum(rng.zipf(1.4, rng.integers(0, 16)) - 1, len(words) - 1)]
        for collocation in COLLOCATIONS:
            if rng.random() < 0.25:
                at = rng.integers(0, len(tokens) + 1)
                tokens[at:at] = collocation
        lines.append(" ".join(tokens))
    return lines


def sentences_of(lines: list[str]) -> list[list[str]]:
    """The sentences gensim's LineSentence reads from these lines: no empty ones."""
    return [line.split() for line in lines if line.split()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[str, list[str]]:
    lines = generated_lines(0)
    path = tmp_path_factory.mktemp("phrases") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return os.fspath(path), lines


def gensim_phrases(sentences, config: PhraseConfig):
    from gensim.models.phrases import Phrases
    return Phrases(sentences, min_count=config.min_count, threshold=config.threshold, scoring=config.scoring,
                   delimiter=config.delimiter, connector_words=config.connector_words,
                   max_vocab_size=config.max_vocab_size or 40_000_000)


def assert_same_as_gensim(ours, theirs) -> None:
    """Same counts, word count, exported phrases (scores to 1e-9 relative) as a gensim Phrases model."""
    assert ours.corpus_word_count == theirs.corpus_word_count
    assert {key.decode(): count for key, count in ours.counts.items()} == theirs.vocab
    exported, expected = ours.export_phrases(), theirs.export_phrases()
    assert exported.keys() == expected.keys()
    for phrase, score in expected.items():
        assert exported[phrase] == pytest.approx(score, rel=1e-9), phrase


CONFIGS = [
    PhraseConfig(min_count=5, threshold=3.0),
    PhraseConfig(min_count=3, threshold=0.3, scoring="npmi"),
    PhraseConfig(min_count=2, threshold=2.0, connector_words=frozenset({"of", "the"})),
    PhraseConfig(min_count=2, threshold=1.0, max_vocab_size=300),  # prunes, min_reduce rising
    PhraseConfig(min_count=2, threshold=0.1, scoring="npmi", max_vocab_size=150, connector_words=frozenset({"of"})),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.scoring}-{c.max_vocab_size}-{len(c.connector_words)}")
def test_equals_gensim(corpus, config, tmp_path):
    path, lines = corpus
    sentences = sentences_of(lines)
    theirs = gensim_phrases(sentences, config)
    ours = learn_phrases(path, config)
    assert_same_as_gensim(ours, theirs)
    bigram_keys = sum("_" in key for key in theirs.vocab)
    assert 0 < len(ours.export_phrases()) < bigram_keys  # the threshold keeps some candidates, rejects others
    assert [ours.apply(s) for s in sentences] == [theirs[s] for s in sentences]
    write_phrased(path, tmp_path / "phrased.txt", ours)
    written = (tmp_path / "phrased.txt").read_text().split("\n")
    assert written == [" ".join(theirs[line.split()]) for line in lines] + [""]


@pytest.mark.parametrize("block_bytes", [5, 13, 64])
def test_block_boundaries_inside_lines_lose_no_bigram(corpus, block_bytes, tmp_path):
    """Blocks of a few bytes end inside lines and inside sentences, between the two words of bigrams."""
    path, lines = corpus
    config = CONFIGS[-1]
    theirs = gensim_phrases(sentences_of(lines), config)
    ours = learn_phrases(path, config, block_bytes=block_bytes)
    assert_same_as_gensim(ours, theirs)
    write_phrased(path, tmp_path / "phrased.txt", ours, block_bytes=block_bytes)
    written = (tmp_path / "phrased.txt").read_text().split("\n")
    assert written == [" ".join(theirs[line.split()]) for line in lines] + [""]


def test_bigrams_never_cross_a_line_end(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("x y a\nb z a\n" * 50 + "a b\n")
    assert learn_phrases(path, PhraseConfig(min_count=1, threshold=1e-9)).counts[b"a_b"] == 1  # within a line only
    path.write_text("x y a\nb z a\n" * 50)
    phrases = learn_phrases(path, PhraseConfig(min_count=1, threshold=1e-9), block_bytes=4)
    assert b"a_b" not in phrases.counts and phrases.counts[b"y_a"] == 50
    assert "y_a" in phrases.export_phrases() and "a_b" not in phrases.export_phrases()
    assert phrases.apply(["a", "b"]) == ["a", "b"]


def test_a_score_equal_to_the_threshold_is_no_phrase(tmp_path):
    lines = ["new york"] * 3 + ["new", "york"]  # score (3 − 1) / (4 · 4) · 3 = 0.375 exactly
    path = tmp_path / "tie.txt"
    path.write_text("\n".join(lines))
    for threshold, joined in [(0.375, False), (0.374, True)]:
        config = PhraseConfig(min_count=1, threshold=threshold)
        phrases, theirs = learn_phrases(path, config), gensim_phrases(sentences_of(lines), config)
        assert_same_as_gensim(phrases, theirs)
        assert ("new_york" in phrases.export_phrases()) is joined
        assert phrases.apply(["new", "york"]) == theirs[["new", "york"]] == (["new_york"] if joined else ["new", "york"])


def test_long_lines_are_cut_into_sentences_as_line_sentence(tmp_path):
    from gensim.models.word2vec import LineSentence
    lines = [" ".join(generated_lines(1, 40)), "", " ".join(generated_lines(2, 25))]  # lines of hundreds of tokens
    path = tmp_path / "long.txt"
    path.write_text("\n".join(lines))
    config = PhraseConfig(min_count=2, threshold=1.0, max_sentence_length=7)
    theirs = gensim_phrases(LineSentence(os.fspath(path), max_sentence_length=7), config)
    ours = learn_phrases(path, config, block_bytes=11)
    assert_same_as_gensim(ours, theirs)
    write_phrased(path, tmp_path / "phrased.txt", ours, block_bytes=11)
    expected = [" ".join(sum((theirs[line.split()[i:i + 7]] for i in range(0, len(line.split()), 7)), []))
                for line in lines]
    assert (tmp_path / "phrased.txt").read_text().split("\n") == expected


def test_two_passes_make_three_word_phrases(tmp_path):
    rng = np.random.default_rng(3)
    lines = [" ".join([f"w{i}" for i in rng.integers(0, 40, 6)] + ["new", "york", "city"] * (i % 3 > 0)
                      + ["new", "york"] * (i % 5 == 0) + [f"w{i}" for i in rng.integers(0, 40, 4)]) for i in range(200)]
    path = tmp_path / "city.txt"
    path.write_text("\n".join(lines) + "\n")
    config = PhraseConfig(min_count=3, threshold=2.0)
    first, second = phrase_passes(path, tmp_path / "out.txt.gz", config, passes=2)
    bigrams = gensim_phrases(sentences_of(lines), config)
    trigrams = gensim_phrases(bigrams[sentences_of(lines)], config)
    assert_same_as_gensim(first, bigrams)
    assert_same_as_gensim(second, trigrams)
    assert "new_york" in first.export_phrases()
    assert second.apply(["w1", "new_york", "city"]) == trigrams[["w1", "new_york", "city"]] == ["w1", "new_york_city"]
    with gzip.open(tmp_path / "out.txt.gz", "rt") as f:
        written = f.read().split("\n")
    assert written == [" ".join(trigrams[bigrams[line.split()]]) for line in lines] + [""]
    assert sum("new_york_city" in line for line in written) == sum(i % 3 > 0 for i in range(200))


def test_gzip_and_pipe_inputs_read_as_plain(corpus, tmp_path):
    path, lines = corpus
    config = CONFIGS[0]
    plain = learn_phrases(path, config)
    packed = tmp_path / "corpus.gz"
    with gzip.open(packed, "wt") as f:
        f.write("\n".join(lines) + "\n")
    assert learn_phrases(packed, config).counts == plain.counts
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    feeder = threading.Thread(target=lambda: fifo.write_text("\n".join(lines) + "\n"), daemon=True)
    feeder.start()
    (learned,) = phrase_passes(fifo, tmp_path / "out.txt", config, passes=1)  # read twice through a spool
    feeder.join(timeout=10)
    assert learned.counts == plain.counts
    write_phrased(path, tmp_path / "direct.txt", plain)
    assert (tmp_path / "out.txt").read_bytes() == (tmp_path / "direct.txt").read_bytes()


def test_output_has_one_line_per_input_line(tmp_path):
    path = tmp_path / "ragged.txt"
    path.write_bytes(b"new york\n\n  \t new   york  \r\nnew\n\nyork new york")  # no final newline
    phrases = learn_phrases(path, PhraseConfig(min_count=1, threshold=0.4))
    write_phrased(path, tmp_path / "out.txt", phrases, block_bytes=3)
    assert (tmp_path / "out.txt").read_bytes() == b"new_york\n\nnew_york\nnew\n\nyork new_york"
    tokens = [f"w{i}" for i in np.random.default_rng(4).integers(0, 500, 25_000)]
    tokens[::50] = ["new york"] * len(tokens[::50])
    path.write_text(" ".join(tokens))  # text8: one line with no newline, cut into sentences of 10,000 tokens
    phrases = learn_phrases(path, PhraseConfig())
    assert list(phrases.export_phrases()) == ["new_york"]
    write_phrased(path, tmp_path / "out.txt", phrases, block_bytes=1 << 12)
    written = (tmp_path / "out.txt").read_text()
    assert "\n" not in written and written.split() == " ".join(tokens).replace("new york", "new_york").split()


@pytest.mark.parametrize("settings,named", [
    (dict(min_count=0), "min_count"), (dict(threshold=0.0), "threshold"), (dict(scoring="npmi", threshold=1.5), "threshold"),
    (dict(scoring="pmi"), "scoring"), (dict(delimiter=""), "delimiter"), (dict(delimiter="a b"), "delimiter"),
    (dict(max_vocab_size=0), "max_vocab_size"), (dict(max_sentence_length=0), "max_sentence_length"),
    (dict(connector_words="of"), "connector_words"),
])
def test_bad_settings_raise_config_error(settings, named):
    with pytest.raises(ConfigError, match=named):
        PhraseConfig(**settings)


def test_bad_passes_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="passes"):
        phrase_passes(tmp_path / "in.txt", tmp_path / "out.txt", PhraseConfig(), passes=0)
    missing = os.fspath(tmp_path / "missing.txt")
    with pytest.raises(InputFileError, match="missing.txt"):
        learn_phrases(missing, PhraseConfig())
    phrases = learn_phrases(__file__, PhraseConfig())
    with pytest.raises(InputFileError, match="missing.txt"):
        write_phrased(missing, tmp_path / "out.txt", phrases)
    assert not (tmp_path / "out.txt").exists()


def test_command_line_writes_the_phrased_corpus_and_names_bad_settings(corpus, tmp_path, capsys):
    from jaxembed.cli import main
    path, lines = corpus
    out = tmp_path / "phrased.txt"
    assert main(["phrases", "--corpus", path, "--out", str(out), "--passes", "2", "--min-count", "3", "--threshold", "1"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("pass 1: ") and "\npass 2: " in printed and "new_york" in printed
    expected = phrase_passes(path, tmp_path / "expected.txt", PhraseConfig(min_count=3, threshold=1.0), 2)
    assert out.read_text() == (tmp_path / "expected.txt").read_text()
    assert len(expected) == 2 and len(out.read_text().splitlines()) == len(lines)
    assert main(["phrases", "--corpus", path, "--out", str(out), "--scoring", "npmi"]) == 2
    assert "threshold" in capsys.readouterr().err
