"""Vectors files that are not what they claim, and bad arguments to the vectors API.

Readers stream: junk (zeros, random bytes, endless lines) is refused after its first bytes, and loading
a text file costs at most 3x its size in memory (checked in a subprocess, as is the writers' memory at a
large dimension). NaN and infinite values, byte-order marks and broken headers are refused with messages
naming the file, the line and the word; gzip-compressed files are read (as gensim reads them) and written
for a `.gz` path. The API refuses bad argument types with ConfigError naming the argument.
"""
import gzip
import os
import re
import struct
import subprocess
import sys
import threading

import numpy as np
import pytest

import jaxembed.io.files
import jaxembed.io.word2vec
from jaxembed import SubwordVectors, Vectors, load_glove, load_vectors, load_word2vec, save_glove, save_vectors, save_word2vec
from jaxembed.errors import ConfigError, InputFileError, JaxembedError
from jaxembed.io.fasttext import FastTextArgs, FastTextModel, load_fasttext_model, save_fasttext_model
from jaxembed.io.formats import detect_format

READERS = {"load_vectors": load_vectors, "load_glove": load_glove, "load_word2vec": load_word2vec,
           "load_word2vec text": lambda p: load_word2vec(p, binary=False),
           "load_word2vec binary": lambda p: load_word2vec(p, binary=True)}


def write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def binary_file(rows: dict[str, list[float]]) -> bytes:
    dim = len(next(iter(rows.values())))
    body = b"".join(w.encode() + b" " + struct.pack(f"<{dim}f", *values) + b"\n" for w, values in rows.items())
    return f"{len(rows)} {dim}\n".encode() + body


@pytest.fixture
def vectors():
    rng = np.random.default_rng(0)
    return Vectors(["the", "of", "and", "café", "x1"], rng.normal(size=(5, 4)).astype(np.float32))


# Junk is refused after its first bytes.

@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
@pytest.mark.parametrize("junk", [bytes(3 << 20), np.random.default_rng(0).bytes(3 << 20),
                                  b"2 3\n" + bytes(3 << 20), b"a 1 2\n" + b"x" * (3 << 20)],
                         ids=["zeros", "random bytes", "header then zeros", "glove line then an endless line"])
def test_junk_is_refused_naming_the_file(tmp_path, reader, junk):
    path = write(tmp_path, "junk.vec", junk)
    with pytest.raises(InputFileError, match="junk.vec: "):
        reader(path)


def test_zeros_are_refused_at_the_first_nul_byte(tmp_path):
    path = write(tmp_path, "zeros", bytes(3 << 20))
    with pytest.raises(InputFileError, match=r"zeros: line 1 .* is neither a word2vec header .*NUL byte"):
        load_vectors(path)


def test_a_first_line_without_end_is_refused_at_its_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(jaxembed.io.files, "FIRST_LINE_MAX_BYTES", 1000)
    path = write(tmp_path, "long", b"x" * 5000)
    with pytest.raises(InputFileError, match="long: line 1 runs past 1,000 bytes without a line break"):
        load_vectors(path)


def test_a_later_line_is_bounded_by_the_dimension(tmp_path):
    limit = jaxembed.io.files.max_line_bytes(2)
    path = write(tmp_path, "long.txt", b"1 2\nword 1 2" + b" " * limit + b"\n")
    with pytest.raises(InputFileError, match=f"long.txt: line 2 runs past {limit:,} bytes"):
        load_word2vec(path, binary=False)
    path = write(tmp_path, "long.bin", b"1 2\n" + b"w" * (2 << 20) + b" " + bytes(8))
    with pytest.raises(InputFileError, match="long.bin: word 1 runs past 1,048,576 bytes without the space"):
        load_word2vec(path, binary=True)


# NaN and infinite values, in every reader.

@pytest.mark.parametrize("value,problem", [(b"nan", "a NaN value"), (b"-NaN", "a NaN value"),
                                           (b"inf", r"an infinite value \(inf"), (b"-Infinity", r"an infinite value \(-inf"),
                                           (b"1e39", r"an infinite value \(inf, or a number beyond float32")])
def test_non_finite_text_values_are_refused_naming_line_and_word(tmp_path, value, problem):
    text = b"3 2\nfoo 1 2\n\nbar 0.5 " + value + b"\nbaz 3 4\n"
    for name, data, line in [("v.txt", text, 4), ("v.txt.gz", gzip.compress(text), 4), ("g.txt", text.split(b"\n", 1)[1], 3)]:
        path = write(tmp_path, name, data)
        with pytest.raises(InputFileError, match=f"{name}: line {line} \\('bar'\\) has {problem}.*must be finite"):
            load_vectors(path)


def test_non_finite_values_are_refused_by_every_text_reader(tmp_path):
    path = write(tmp_path, "v.txt", b"1 1\nfoo nan\n")  # 4 bytes of values: also a well-formed binary record
    for reader in (load_vectors, load_word2vec, lambda p: load_word2vec(p, binary=False)):
        with pytest.raises(InputFileError, match=r"v.txt: line 2 \('foo'\) has a NaN value"):
            reader(path)
    path = write(tmp_path, "g.txt", b"foo 1 2\nbar inf 2\n")
    with pytest.raises(InputFileError, match=r"g.txt: line 2 \('bar'\) has an infinite value"):
        load_glove(path)


@pytest.mark.parametrize("value,problem", [(float("nan"), "a NaN value"), (float("-inf"), r"an infinite value \(-inf")])
def test_non_finite_binary_values_are_refused_naming_the_word(tmp_path, value, problem):
    data = binary_file({"foo": [1.0, 2.0], "bar": [3.0, value], "baz": [5.0, 6.0]})
    path = write(tmp_path, "v.bin", data)
    for reader in (load_vectors, load_word2vec, lambda p: load_word2vec(p, binary=True)):
        with pytest.raises(InputFileError, match=rf"v.bin: word 2 \('bar'\) has {problem}"):
            reader(path)


def test_non_finite_values_are_refused_in_a_fasttext_model(tmp_path):
    words, dim = (b"foo", b"bar"), 3
    input_RxD = np.ones((len(words) + 4, dim), np.float32)
    model = FastTextModel(FastTextArgs(dim=dim, bucket=4, minn=1, maxn=2), words, np.array([5, 3]), np.zeros(2, np.int8),
                          8, input_RxD, np.ones((2, dim), np.float32))
    for row, where in [(1, r"row 1 of the input matrix \(word 2, 'bar'\) has a NaN value"),
                       (4, r"row 4 of the input matrix \(n-gram bucket 2\) has a NaN value")]:
        input_RxD[:] = 1
        input_RxD[row, 1] = np.nan
        save_fasttext_model(tmp_path / "m.bin", model)
        with pytest.raises(InputFileError, match=f"m.bin: {where}"):
            load_vectors(tmp_path / "m.bin")
    input_RxD[:] = 1
    model.output_OxD[0, 0] = np.inf
    save_fasttext_model(tmp_path / "m.bin", model)
    with pytest.raises(InputFileError, match=r"m.bin: row 0 of the output matrix has an infinite value"):
        load_fasttext_model(tmp_path / "m.bin")


def test_errors_name_the_line_beyond_the_first_chunk(tmp_path, monkeypatch):
    monkeypatch.setattr(jaxembed.io.word2vec, "CHUNK_BYTES", 64)
    rows = [f"w{i} {i} {i + 0.5}\n" for i in range(3000)]
    rows[2500] = "w2500 1 nan\n"
    path = write(tmp_path, "v.txt", f"3000 2\n".encode() + "".join(rows).encode())
    with pytest.raises(InputFileError, match=r"v.txt: line 2502 \('w2500'\) has a NaN value"):
        load_vectors(path)
    rows[2500] = "w2500 1 x\n"
    path = write(tmp_path, "v.txt", f"3000 2\n".encode() + "".join(rows).encode())
    with pytest.raises(InputFileError, match=r"v.txt: line 2502 \('w2500'\): a vector value is not a number"):
        load_vectors(path)
    rows[2500] = "w1 1 2\n"
    path = write(tmp_path, "v.txt", f"3000 2\n".encode() + "".join(rows).encode())
    with pytest.raises(InputFileError, match=r"v.txt: word 'w1' appears more than once \(line 3 and line 2502\)"):
        load_vectors(path)


def test_small_chunks_and_every_table_path_load_the_same(tmp_path, monkeypatch, vectors):
    """Chunked reading (chunks of one line or one record) into a preallocated table, or into stacked chunks
    (gzip: size unknown), gives the rows read in one piece."""
    expected = {}
    for name, format in [("v.txt", "word2vec"), ("v.bin", "word2vec-binary"), ("g.txt", "glove")]:
        save_vectors(tmp_path / name, vectors, format)
        expected[name] = load_vectors(tmp_path / name).vectors
        (tmp_path / (name + ".gz")).write_bytes(gzip.compress((tmp_path / name).read_bytes()))
    monkeypatch.setattr(jaxembed.io.word2vec, "CHUNK_BYTES", 1)
    for name in expected:
        for path in (tmp_path / name, tmp_path / (name + ".gz")):
            loaded = load_vectors(path)
            assert loaded.words == vectors.words
            np.testing.assert_array_equal(loaded.vectors, expected[name])


# Byte-order marks, broken headers, gzip.

@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_byte_order_mark_is_refused_with_a_message_saying_so(tmp_path, reader):
    for name, data in [("bom.txt", b"\xef\xbb\xbf2 2\na 1 2\nb 3 4\n"), ("bom.glove", b"\xef\xbb\xbfa 1 2\nb 3 4\n"),
                       ("bom.txt.gz", gzip.compress(b"\xef\xbb\xbf2 2\na 1 2\nb 3 4\n"))]:
        path = write(tmp_path, name, data)
        with pytest.raises(InputFileError, match=f"{name}: the file starts with a UTF-8 byte-order mark"):
            reader(path)


@pytest.mark.parametrize("header,problem", [(b"5.0 3", "'5.0' is not a whole number >= 0"),
                                            (b"-5 3", "'-5' is not a whole number >= 0"),
                                            (b"2 3.5", "'3.5' is not a whole number >= 0")])
def test_broken_headers_are_reported_as_headers(tmp_path, header, problem):
    path = write(tmp_path, "v.txt", header + b"\nfoo 1 2 3\nbar 4 5 6\n")
    with pytest.raises(InputFileError, match=f"v.txt: line 1 b'{header.decode()}' looks like a word2vec header "
                                             f"'<vocab_size> <dim>' but is not one: {problem}"):
        load_vectors(path)
    with pytest.raises(InputFileError, match=f"v.txt: first line must be '<vocab_size> <dim>' .*: {problem}"):
        load_word2vec(path)


def test_a_glove_file_whose_first_word_is_a_number_still_loads(tmp_path):
    loaded = load_vectors(write(tmp_path, "g.txt", b"5.0 3\n-6 4\n"))
    assert loaded.words == ["5.0", "-6"] and loaded.vectors.tolist() == [[3.0], [4.0]]


@pytest.mark.parametrize("format", ["word2vec", "word2vec-binary", "glove"])
def test_gzip_files_are_written_for_gz_paths_and_read_by_content(tmp_path, vectors, format):
    plain, compressed = tmp_path / "v", tmp_path / "v.gz"
    save_vectors(plain, vectors, format)
    save_vectors(compressed, vectors, format)
    assert compressed.read_bytes()[:2] == b"\x1f\x8b" and gzip.decompress(compressed.read_bytes()) == plain.read_bytes()
    copy = tmp_path / "copy"  # no .gz suffix: the content tells
    copy.write_bytes(compressed.read_bytes())
    for path in (compressed, copy):
        loaded = load_vectors(path)
        assert loaded.words == vectors.words
        np.testing.assert_array_equal(loaded.vectors, load_vectors(plain).vectors)


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_gz_files_load_as_gensim_loads_them(tmp_path, vectors, binary):
    from gensim.models import KeyedVectors
    kv = KeyedVectors(vector_size=vectors.dim)
    kv.add_vectors(vectors.words, vectors.vectors)
    path = str(tmp_path / "v.txt.gz")
    kv.save_word2vec_format(path, binary=binary)
    ours, theirs = load_word2vec(path), KeyedVectors.load_word2vec_format(path, binary=binary)
    assert ours.words == list(theirs.index_to_key)
    np.testing.assert_array_equal(ours.vectors, theirs.vectors)
    ours_written = tmp_path / "ours.txt.gz"
    save_word2vec(ours_written, vectors, binary=binary)
    np.testing.assert_array_equal(KeyedVectors.load_word2vec_format(str(ours_written), binary=binary).vectors,
                                  load_word2vec(ours_written).vectors)


def test_corrupt_gzip_is_refused(tmp_path):
    data = gzip.compress(b"2 2\na 1 2\nb 3 4\n" * 50)
    for name, broken in [("cut.gz", data[:30]), ("bad.gz", data[:12] + b"\xff" * 20 + data[32:])]:
        with pytest.raises(InputFileError, match=f"{name}: the gzip-compressed vectors file is corrupt or truncated"):
            load_vectors(write(tmp_path, name, broken))


# most_similar never returns its query words; bad arguments are ConfigError naming the argument.

@pytest.mark.parametrize("topn", [4, 5, 50])
def test_query_words_are_never_returned(vectors, topn):
    for positive, negative in [("the", ()), (["the", "of"], ["and"]), ((), "café"), (["the", "the"], ())]:
        result = vectors.most_similar(positive, negative, topn=topn)
        query = {positive} if isinstance(positive, str) else set(positive)
        query |= {negative} if isinstance(negative, str) else set(negative)
        assert not query & {w for w, _ in result}
        assert len(result) == min(len(vectors) - len(query), topn)
        assert all(np.isfinite(score) for _, score in result)
    scores = vectors.most_similar("the", topn=None)
    top = [vectors.words[i] for i in np.argsort(-scores[:3], kind="stable") if vectors.words[i] != "the"][:2]
    assert [w for w, _ in vectors.most_similar("the", topn=2, restrict_vocab=3)] == top


@pytest.mark.parametrize("topn", [1.5, True, "3", [2]])
def test_bad_topn_is_a_config_error(vectors, topn):
    with pytest.raises(ConfigError, match=re.escape(f"topn must be an int or None, got {topn!r}")):
        vectors.most_similar("the", topn=topn)


def test_numpy_integers_are_counts_and_topn_below_one_is_no_result(vectors):
    assert len(vectors.most_similar("the", topn=np.int64(2))) == 2
    assert vectors.most_similar("the", topn=0) == [] and vectors.most_similar("the", topn=-1) == []
    with pytest.raises(ConfigError, match="restrict_vocab must be an int >= 1 or None, got 0"):
        vectors.most_similar("the", restrict_vocab=0)


def subword_vectors() -> SubwordVectors:
    dim, words = 3, (b"cat", b"dog")
    model = FastTextModel(FastTextArgs(dim=dim, bucket=5, minn=1, maxn=2), words, np.array([5, 3]), np.zeros(2, np.int8),
                          8, np.arange(7 * dim, dtype=np.float32).reshape(7, dim), np.ones((2, dim), np.float32))
    return model.vectors()


@pytest.mark.parametrize("make", [lambda: Vectors(["the", "of"], np.eye(2, dtype=np.float32)), subword_vectors],
                         ids=["Vectors", "SubwordVectors"])
def test_words_that_are_not_str_are_config_errors(make):
    vectors = make()
    word = vectors.words[0]
    queries = {"word": [lambda: vectors[b"the"], lambda: vectors.word_id(b"the"), lambda: vectors.similarity(word, 1.16)],
               r"positive\[1\]": [lambda: vectors.most_similar([word, b"of"])],
               "positive": [lambda: vectors.most_similar(b"the"), lambda: vectors.most_similar(4.2)],
               r"negative\[0\]": [lambda: vectors.most_similar(word, [None])],
               "c": [lambda: vectors.analogy(word, word, b"of")]}
    for name, calls in queries.items():
        for call in calls:
            with pytest.raises(ConfigError, match=f"^{name} must be a"):
                call()
    with pytest.raises(ConfigError, match="decode it first"):
        vectors[b"the"]
    assert b"the" not in vectors


def test_vectors_constructor_checks_its_arguments():
    for words, table, message in [(["a", b"b"], np.eye(2), r"words\[1\] must be a str, got bytes"),
                                  ("ab", np.eye(2), "words must be a sequence of str, got str"),
                                  (["a", "a"], np.eye(2), "words: 'a' appears more than once"),
                                  (["a"], np.eye(2), r"vectors: need a \(1, D\) array"),
                                  (["a"], np.zeros((1, 0)), r"vectors: need a \(1, D\) array, D >= 1"),
                                  (["a"], [["x"]], "vectors must be a \\(V, D\\) array of numbers")]:
        with pytest.raises(ConfigError, match=message):
            Vectors(words, table)


def test_path_and_format_arguments_are_config_errors(tmp_path, vectors):
    for call in (lambda: load_vectors(None), lambda: load_word2vec(3), lambda: load_glove(None),
                 lambda: load_fasttext_model(None), lambda: save_vectors(None, vectors, "glove"),
                 lambda: save_word2vec(1.5, vectors)):
        with pytest.raises(ConfigError, match="path must be a file path"):
            call()
    path = tmp_path / "v.txt"
    for call, message in [(lambda: save_vectors(path, "not vectors", "glove"), "vectors must be a jaxembed Vectors, got str"),
                          (lambda: save_glove(path, None), "vectors must be a jaxembed Vectors, got NoneType"),
                          (lambda: save_vectors(path, vectors, None), "format must be one of"),
                          (lambda: save_vectors(path, vectors, "npy"), "format must be one of"),
                          (lambda: save_word2vec(path, vectors, binary="yes"), "binary must be True or False, got 'yes'"),
                          (lambda: load_word2vec(path, binary=1), r"binary must be True or False \(or None: detect\)"),
                          (lambda: load_vectors(path, format=2), "format must be one of"),
                          (lambda: detect_format("2 3"), "data must be bytes")]:
        with pytest.raises(ConfigError, match=message):
            call()
    assert not path.exists()


def test_writing_to_a_directory_is_a_jaxembed_error(tmp_path, vectors):
    for format in ("word2vec", "word2vec-binary", "glove"):
        with pytest.raises(JaxembedError, match="is a directory"):
            save_vectors(tmp_path, vectors, format)
    with pytest.raises(InputFileError, match="cannot read vectors file: Is a directory"):
        load_vectors(tmp_path)


# Memory: loading and writing stream (each measured in a fresh process, by its VmHWM: getrusage's ru_maxrss
# keeps the high-water mark of the process image before exec, here the test process's).

PEAK_RSS = """
def peak_rss():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
"""

LOAD_PEAK = PEAK_RSS + """
import sys
import threading
import jaxembed
before = peak_rss()
vectors = jaxembed.load_vectors(sys.argv[1])
assert vectors.vectors.shape == (int(sys.argv[2]), int(sys.argv[3]))
print(before, peak_rss())
"""

WRITE_GROWTH = PEAK_RSS + """
import sys
import threading
import numpy as np
import jaxembed
words, dim = int(sys.argv[2]), int(sys.argv[3])
vectors = jaxembed.Vectors([f"w{i}" for i in range(words)], np.random.default_rng(0).standard_normal((words, dim), np.float32))
before = peak_rss()
jaxembed.save_vectors(sys.argv[1], vectors, sys.argv[4])
print(peak_rss() - before, vectors.vectors.nbytes)
"""


def run_python(script: str, *args) -> list[int]:
    done = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [int(x) for x in done.stdout.split()]


def test_loading_a_text_file_grows_memory_by_less_than_twice_its_size(tmp_path):
    """Loading adds at most 2x the file to the process's peak (the table is 0.6x of a text file); with the
    interpreter's own ~70 MB, `jaxembed eval` of a 51 MB file measured 2.8x in all."""
    words, dim = 40_000, 100
    values = np.round(np.random.default_rng(0).normal(scale=0.3, size=(words, dim)), 3).astype(np.float32)
    path = tmp_path / "v.txt"
    save_word2vec(path, Vectors([f"w{i}" for i in range(words)], values))
    size = path.stat().st_size
    assert size > 20 << 20
    before, peak = run_python(LOAD_PEAK, path, words, dim)
    assert peak - before <= 2 * size, f"loading raised the peak RSS by {(peak - before) / 2**20:.0f} MiB for a " \
                                      f"{size / 2**20:.0f} MiB file"


@pytest.mark.parametrize("format", ["word2vec", "word2vec-binary"])
def test_writing_a_large_dimension_adds_less_than_the_table(tmp_path, format):
    growth, table = run_python(WRITE_GROWTH, tmp_path / "v", 60, 50_000, format)
    assert growth <= table, f"writing a {table / 2**20:.0f} MiB table grew the peak RSS by {growth / 2**20:.0f} MiB"


def test_analogy_chunks_bound_memory_without_changing_results(monkeypatch):
    """The analogy benchmark scores a chunk of questions at a time, sized by the vocabulary (CHUNK_SCORES scores per
    array); any chunking gives the same answers."""
    from jaxembed.eval import analogy
    from jaxembed.eval.benchmarks import GOOGLE_ANALOGIES
    words = sorted({w for _, q in analogy.read_analogies(GOOGLE_ANALOGIES) for w in q})[:300]
    vectors = Vectors(words, np.random.default_rng(1).normal(size=(len(words), 8)).astype(np.float32))
    whole = analogy.evaluate_word_analogies(vectors, GOOGLE_ANALOGIES)
    monkeypatch.setattr(analogy, "CHUNK_SCORES", 1000)
    assert analogy.evaluate_word_analogies(vectors, GOOGLE_ANALOGIES) == whole and whole.answered > 100


def piped(data: bytes) -> tuple[str, threading.Thread]:
    """A /dev/fd path reading `data` from a pipe (as `<(cmd)` gives), fed by a thread."""
    read_fd, write_fd = os.pipe()

    def feed():
        with os.fdopen(write_fd, "wb") as f:
            f.write(data)
    thread = threading.Thread(target=feed)
    thread.start()
    return f"/dev/fd/{read_fd}", thread


@pytest.mark.parametrize("compress", [False, True])
def test_vectors_from_a_pipe_load_as_from_a_file(compress, tmp_path):
    data = b"3 2\nfoo 1 2\nbar 3 4.5\nbaz 1 0\n"
    path, thread = piped(gzip.compress(data) if compress else data)
    try:
        from_pipe = load_vectors(path)
    finally:
        thread.join()
        os.close(int(path.rsplit("/", 1)[1]))
    (tmp_path / "v.txt").write_bytes(data)
    from_file = load_vectors(tmp_path / "v.txt")
    assert from_pipe.words == from_file.words and from_pipe.vectors.tobytes() == from_file.vectors.tobytes()
    path, thread = piped(b"2 2\nfoo 1 nan\nbar 1 1\n")
    try:
        with pytest.raises(InputFileError, match=f"^{path}: line 2 \\('foo'\\) has a NaN value"):
            load_vectors(path)
    finally:
        thread.join()
        os.close(int(path.rsplit("/", 1)[1]))
