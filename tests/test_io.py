"""word2vec text/binary I/O: round trips, and gensim as the oracle in both directions."""
import numpy as np
import pytest

from jaxembed import Vectors, load_word2vec, save_word2vec
from jaxembed.errors import InputFileError


@pytest.fixture
def vectors():
    rng = np.random.default_rng(0)
    words = ["the", "of", "café", "naïve", "x1"]
    return Vectors(words, rng.normal(size=(5, 7)).astype(np.float32))


@pytest.mark.parametrize("binary", [False, True])
def test_round_trip_and_gensim_reads_ours(tmp_path, vectors, binary):
    from gensim.models import KeyedVectors
    path = tmp_path / ("v.bin" if binary else "v.txt")
    save_word2vec(path, vectors, binary=binary)
    ours = load_word2vec(path)
    theirs = KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert ours.words == vectors.words == list(theirs.index_to_key)
    tol = 0 if binary else 1e-5
    np.testing.assert_allclose(ours.vectors, vectors.vectors, rtol=tol, atol=tol)
    np.testing.assert_array_equal(theirs.vectors, ours.vectors)


@pytest.mark.parametrize("binary", [False, True])
def test_we_read_gensim_files(tmp_path, vectors, binary):
    from gensim.models import KeyedVectors
    kv = KeyedVectors(vector_size=vectors.dim)
    kv.add_vectors(vectors.words, vectors.vectors)
    path = str(tmp_path / "g")
    kv.save_word2vec_format(path, binary=binary)
    ours = load_word2vec(path)
    assert ours.words == vectors.words
    np.testing.assert_allclose(ours.vectors, vectors.vectors, rtol=1e-6 if not binary else 0)


def test_malformed_files_raise_named_errors(tmp_path, vectors):
    path = tmp_path / "v.bin"
    save_word2vec(path, vectors, binary=True)
    data = path.read_bytes()
    (tmp_path / "trunc.bin").write_bytes(data[:-20])
    with pytest.raises(InputFileError, match="trunc.bin.*truncated"):
        load_word2vec(tmp_path / "trunc.bin", binary=True)
    (tmp_path / "count.txt").write_text("3 2\na 1 2\nb 3 4\n")
    with pytest.raises(InputFileError, match="header says 3 words"):
        load_word2vec(tmp_path / "count.txt")
    (tmp_path / "dim.txt").write_text("2 2\na 1 2\nb 3\n")
    with pytest.raises(InputFileError, match="line 3.*1 values"):
        load_word2vec(tmp_path / "dim.txt")
    (tmp_path / "dup.txt").write_text("2 1\na 1\na 2\n")
    with pytest.raises(InputFileError, match="'a' appears more than once"):
        load_word2vec(tmp_path / "dup.txt")
    (tmp_path / "head.txt").write_text("hello\n")
    with pytest.raises(InputFileError, match="first line"):
        load_word2vec(tmp_path / "head.txt")
    with pytest.raises(InputFileError, match="cannot read"):
        load_word2vec(tmp_path / "missing.txt")


def test_failed_write_leaves_previous_file(tmp_path, vectors):
    path = tmp_path / "v.txt"
    save_word2vec(path, vectors)
    before = path.read_bytes()
    broken = Vectors(["a"], np.zeros((1, 2), np.float32))
    broken.words = None  # makes the writer fail half way
    with pytest.raises(TypeError):
        save_word2vec(path, broken)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["v.txt"]


def test_vectors_queries(vectors):
    assert len(vectors) == 5 and "café" in vectors and "nope" not in vectors
    np.testing.assert_array_equal(vectors["of"], vectors.vectors[1])
    with pytest.raises(KeyError, match="'nope' is not in the vocabulary"):
        vectors["nope"]
    unit = vectors.vectors / np.linalg.norm(vectors.vectors, axis=1, keepdims=True)
    assert np.isclose(vectors.similarity("the", "of"), unit[0] @ unit[1])
    query = unit[1] - unit[0] + unit[2]
    scores = unit @ (query / np.linalg.norm(query))
    scores[[0, 1, 2]] = -np.inf
    assert vectors.analogy("the", "of", "café")[0][0] == vectors.words[int(np.argmax(scores))]
