"""Corpus reading, vocabulary and encoding against plain-Python oracles and gensim's vocabulary."""
import collections
import gzip
import os

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from jaxembed.data.corpus import count_words, encode_corpus, iter_token_blocks
from jaxembed.data.vocab import build_vocab
from jaxembed.errors import ConfigError, InputFileError


def write(tmp_path, name, text: bytes):
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(text)
    else:
        path.write_bytes(text)
    return str(path)


def joined_lines(blocks) -> list[list[bytes]]:
    """The lines (token lists) that iter_token_blocks' (tokens, line_ends) blocks describe."""
    lines, current = [], []
    for tokens, ends in blocks:
        start = 0
        for end in ends:
            lines.append(current + tokens[start:end])
            current, start = [], end
        current = current + tokens[start:]
    assert current == []  # the end of the file ends the last line
    return lines


@pytest.mark.parametrize("name", ["c.txt", "c.txt.gz", "gzip-without-suffix"])
@pytest.mark.parametrize("text", [b"alpha beta  gamma\ndelta\tepsilon zeta\n\neta theta", b"a b\n", b"", b"x\n\n y "])
def test_blocks_hold_the_lines_and_never_split_tokens(tmp_path, name, text):
    path = write(tmp_path, name + (".gz" if name.startswith("gzip") else ""), text)
    if name.startswith("gzip"):
        os.rename(path, path[:-3])
        path = path[:-3]
    for block in (1, 3, 7, 1 << 20):
        assert joined_lines(iter_token_blocks(path, block_bytes=block)) == [line.split() for line in text.split(b"\n")]


def test_vocab_sorted_by_count_ties_first_seen_and_min_count():
    counts = collections.Counter(b"b a c a b d c e e e".split())
    vocab = build_vocab(counts, min_count=2)
    assert vocab.words == (b"e", b"b", b"a", b"c")
    np.testing.assert_array_equal(vocab.counts, [3, 2, 2, 2])
    assert build_vocab(counts, min_count=1, max_vocab_size=2).words == (b"e", b"b")
    with pytest.raises(ConfigError, match="min_count"):
        build_vocab(counts, min_count=0)


def test_vocab_equals_gensim(small_corpus):
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence
    counts, total = count_words(small_corpus)
    vocab = build_vocab(counts, min_count=5)
    model = Word2Vec(vector_size=4, min_count=5, sorted_vocab=True)
    model.build_vocab(LineSentence(small_corpus))
    gensim_counts = {w: model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key}
    assert dict(zip(vocab.strings, vocab.counts.tolist())) == gensim_counts  # tie order differs: gensim's sort is unstable
    assert (np.diff(vocab.counts) <= 0).all()
    assert total == model.corpus_total_words


def test_encode_drops_oov_and_keeps_sentence_ends(tmp_path):
    path = write(tmp_path, "c.txt", b"a x b\nc a\nx x\nb b b b b\n")
    index = {b"a": 0, b"b": 1, b"c": 2}
    ids, ends = encode_corpus(path, index, max_sentence_length=3)
    np.testing.assert_array_equal(ids, [0, 1, 2, 0, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(ends, [2, 4, 7, 9])


def test_missing_and_empty_corpus_errors(tmp_path):
    from jaxembed.data.corpus import prepare_corpus
    with pytest.raises(InputFileError, match="does not exist"):
        count_words(tmp_path / "nope.txt")
    with pytest.raises(InputFileError, match="no words"):
        prepare_corpus(write(tmp_path, "e.txt", b"\n \n"), 5)
    with pytest.raises(InputFileError, match="min_count=5"):
        prepare_corpus(write(tmp_path, "r.txt", b"a b c d\n"), 5)


def encode_oracle(text: bytes, index: dict[bytes, int], max_sentence_length: int):
    """Plain-Python encoding: per line, sentences of at most max_sentence_length raw tokens, OOV dropped."""
    ids, ends = [], []
    for line in text.split(b"\n"):
        tokens = line.split()
        for start in range(0, len(tokens), max_sentence_length):
            ids += [index[t] for t in tokens[start:start + max_sentence_length] if t in index]
            ends.append(len(ids))
    return ids, sorted(set(ends) - {0})


@settings(max_examples=200, deadline=None)
@given(text=st.lists(st.sampled_from([b"a", b"b", b"c", b"x", b" ", b"  ", b"\n", b"\n\n", b"\t"]), max_size=60).map(b"".join),
       max_sentence_length=st.integers(1, 5), block_bytes=st.integers(1, 16))
def test_streaming_encode_equals_in_memory_oracle(tmp_path_factory, text, max_sentence_length, block_bytes):
    path = tmp_path_factory.getbasetemp() / "encode.txt"
    path.write_bytes(text)
    index = {b"a": 0, b"b": 1, b"c": 2}
    ids, ends = encode_corpus(path, index, max_sentence_length, block_bytes=block_bytes)
    want_ids, want_ends = encode_oracle(text, index, max_sentence_length)
    assert np.asarray(ids).tolist() == want_ids and len(ids) == len(want_ids)
    assert ends.tolist() == want_ends
    if len(want_ids) >= 3:
        np.testing.assert_array_equal(ids[1:3], want_ids[1:3])


def test_invalid_utf8_is_replaced_when_read(tmp_path):
    """Policy: invalid UTF-8 becomes U+FFFD on reading, so words are valid UTF-8 and byte variants merge."""
    path = write(tmp_path, "u.txt", b"caf\xe9 caf\xe8 ok caf\xc3\xa9\n")
    counts, total = count_words(path)
    assert total == 4 and counts == {"caf\ufffd".encode(): 2, b"ok": 1, "café".encode(): 1}


def test_binary_corpus_and_endless_token_are_errors(tmp_path):
    with pytest.raises(InputFileError, match="NUL byte at byte 5.*not a text file"):
        count_words(write(tmp_path, "b.bin", b"abcd \x00\x01\x02"))
    with pytest.raises(InputFileError, match="is corrupt"):
        count_words(write(tmp_path, "truncated-gzip", gzip.compress(b"some words " * 100)[:-30]))
    long_line = write(tmp_path, "l.txt", b"w " * 50 + b"y" * 100 + b" z")
    with pytest.raises(InputFileError, match="no whitespace in .* bytes from byte 100 .*longest token allowed: 64"):
        list(iter_token_blocks(long_line, block_bytes=16, max_token_bytes=64))


def test_one_huge_line_is_read_in_bounded_blocks(tmp_path):
    """A line with no newline is read block by block: no block's tokens exceed block_bytes (+ one token)."""
    words = [b"w%d" % (i % 97) for i in range(20_000)]
    path = write(tmp_path, "one-line.txt", b" ".join(words))
    blocks = list(iter_token_blocks(path, block_bytes=4096))
    assert len(blocks) > 20 and max(sum(map(len, t)) + len(t) for t, _ in blocks) <= 4096 + 8
    assert [w for t, _ in blocks for w in t] == words
    assert sum(len(ends) for _, ends in blocks) == 1
