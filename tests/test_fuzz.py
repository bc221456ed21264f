"""Fuzzing every reader: any byte string either loads or raises the documented error (InputFileError).

Inputs are raw bytes, and valid files of each format mutated (cut, overwritten, inserted bytes),
which reach deeper than random bytes. What loads must be well formed: words unique and as many as
rows, dim >= 1; the corpus reader must return exactly the lines of the (UTF-8-repaired) text.
"""
import gzip
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from jaxembed.data.corpus import iter_token_blocks, valid_utf8
from jaxembed.errors import InputFileError
from jaxembed.io.fasttext import FastTextArgs, FastTextModel, load_fasttext, load_fasttext_model, write_fasttext_model
from jaxembed.io.formats import load_vectors
from jaxembed.io.glove import load_glove
from jaxembed.io.word2vec import load_word2vec
from jaxembed.vectors import Vectors

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
WORDS = st.text(alphabet=st.sampled_from("abcé的 \t\n\x00\ufffd1-."), min_size=1, max_size=4)
PIECES = [b"a", b"bc", b" ", b"\n", b"\t", b"\r", b"1", b"-2.5", b"e3", b"nan", b"\xff", b"\xc3\xa9", b"\xe2\x82", b"\x00", b"3 2"]


@st.composite
def tables(draw):
    """(words, (N, D) float32 values) of a small vectors file."""
    dim = draw(st.integers(1, 3))
    words = draw(st.lists(WORDS, max_size=4, unique=True))
    values = draw(st.lists(st.floats(-1e6, 1e6, width=32), min_size=len(words) * dim, max_size=len(words) * dim))
    return words, np.asarray(values, np.float32).reshape(len(words), dim)


def text_rows(words, values) -> bytes:
    return b"".join(f"{w} {' '.join(map(repr, row.tolist()))}\n".encode() for w, row in zip(words, values))


def word2vec_text(table) -> bytes:
    words, values = table
    return f"{len(words)} {values.shape[1]}\n".encode() + text_rows(words, values)


def word2vec_binary(table) -> bytes:
    words, values = table
    body = b"".join(w.encode() + b" " + row.astype("<f4").tobytes() + b"\n" for w, row in zip(words, values))
    return f"{len(words)} {values.shape[1]}\n".encode() + body


def glove_text(table) -> bytes:
    return text_rows(*table)


def fasttext_bin(table, maxn: int = 3) -> bytes:
    """An official-format fastText model of these words: 5 n-gram buckets, n-grams of 1..maxn characters
    (maxn 0: no n-grams, so each word's vector is its own row, `values`)."""
    words, values = table
    entries = tuple(w.encode() for w in words)
    bucket_rows = np.linspace(-1, 1, 5 * values.shape[1], dtype=np.float32).reshape(5, values.shape[1])
    model = FastTextModel(FastTextArgs(dim=values.shape[1], bucket=5, minn=1, maxn=maxn), entries,
                          np.arange(len(words), 0, -1), np.zeros(len(words), np.int8), 10 * len(words),
                          np.concatenate([values, bucket_rows]), values)
    out = io.BytesIO()
    write_fasttext_model(out, model)
    return out.getvalue()


@st.composite
def mutated(draw, files):
    """A file from `files`, then up to three edits: cut at, overwrite at, or insert at a position."""
    data = draw(files)
    for kind, where, junk in draw(st.lists(st.tuples(st.sampled_from(["cut", "overwrite", "insert"]), st.integers(0, 400),
                                                     st.binary(min_size=1, max_size=4) | st.sampled_from(PIECES)), max_size=3)):
        at = where % (len(data) + 1)
        data = {"cut": data[:at], "overwrite": data[:at] + junk + data[at + len(junk):], "insert": data[:at] + junk + data[at:]}[kind]
    return data


def vectors_files(*formats):
    valid = st.one_of(*(tables().map(f) for f in formats))
    return st.one_of(st.binary(max_size=200), st.lists(st.sampled_from(PIECES), max_size=30).map(b"".join), mutated(valid))


def check_vectors(vectors: Vectors) -> None:
    assert vectors.vectors.ndim == 2 and vectors.vectors.shape == (len(vectors.words), vectors.dim) and vectors.dim >= 1
    assert len(set(vectors.words)) == len(vectors.words) and vectors.vectors.dtype == np.float32


ALL_FORMATS = (word2vec_text, word2vec_binary, glove_text)
# (name, reader(path) -> Vectors, strategy of file bytes).
VECTOR_READERS = [
    ("fasttext-bin", lambda p: load_fasttext_model(p).vectors(), vectors_files(fasttext_bin)),
    ("fasttext-vec", load_fasttext, vectors_files(word2vec_text)),
    ("word2vec-text", lambda p: load_word2vec(p, binary=False), vectors_files(word2vec_text)),
    ("word2vec-binary", lambda p: load_word2vec(p, binary=True), vectors_files(word2vec_binary)),
    ("word2vec-detected", load_word2vec, vectors_files(word2vec_text, word2vec_binary)),
    ("glove-text", load_glove, vectors_files(glove_text)),
    ("any-format-detected", load_vectors, vectors_files(*ALL_FORMATS, fasttext_bin)),
]


@pytest.mark.parametrize("name,reader,files", VECTOR_READERS, ids=[r[0] for r in VECTOR_READERS])
def test_vector_readers_load_or_raise_input_file_error(name, reader, files, tmp_path):
    @FUZZ
    @given(data=files)
    def check(data):
        path = tmp_path / name
        path.write_bytes(data)
        try:
            vectors = reader(path)
        except InputFileError as e:
            assert str(path) in str(e)
        else:
            check_vectors(vectors)

    check()


def test_valid_files_load_back_exactly(tmp_path):
    """The generators above write valid files: each reader loads them unchanged (so the fuzzing starts from real files)."""
    @FUZZ
    @given(table=tables().filter(lambda t: all(w == w.strip() and w.split() == [w] and "\x00" not in w for w in t[0])))
    def check(table):
        words, values = table
        for write, reader in [(word2vec_text, load_word2vec), (word2vec_binary, load_word2vec), (glove_text, load_glove),
                              (lambda t: fasttext_bin(t, maxn=0), load_vectors)]:
            if write is glove_text and not words:
                continue
            path = tmp_path / "valid"
            path.write_bytes(write(table))
            vectors = reader(path)
            assert vectors.words == words
            np.testing.assert_array_equal(vectors.vectors, values)

    check()


CORPORA = st.one_of(st.binary(max_size=300), st.lists(st.sampled_from(PIECES), max_size=80).map(b"".join),
                    st.lists(st.sampled_from(PIECES), max_size=80).map(lambda p: gzip.compress(b"".join(p))),
                    st.lists(st.sampled_from(PIECES), max_size=80).map(lambda p: gzip.compress(b"".join(p))[:-5]))


def corpus_lines(data: bytes) -> list[list[bytes]]:
    """The oracle: the lines of the decompressed, UTF-8-repaired text."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return [line.split() for line in valid_utf8(data).split(b"\n")]


def test_corpus_reader_loads_the_oracle_lines_or_raises_input_file_error(tmp_path):
    @FUZZ
    @given(data=CORPORA, block_bytes=st.integers(1, 64), max_token_bytes=st.integers(1, 32))
    def check(data, block_bytes, max_token_bytes):
        path = tmp_path / "corpus"
        path.write_bytes(data)
        try:
            blocks = list(iter_token_blocks(path, block_bytes, max_token_bytes))
        except InputFileError as e:
            assert str(path) in str(e)
            return
        assert b"\0" not in (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)  # NUL bytes must be refused
        lines, current = [], []
        for tokens, ends in blocks:
            for start, end in zip([0, *ends], ends):
                lines.append(current + tokens[start:end])
                current = []
            current += tokens[ends[-1] if len(ends) else 0:]
        assert current == [] and lines == corpus_lines(data)

    check()

