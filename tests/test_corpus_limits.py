"""Corpus inputs and their limits: the corpus fingerprint, corpora read from pipes and FIFOs, and memory that does
not grow with the window (huge windows train in bounded memory, measured in a subprocess)."""
import gzip
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from jaxembed.data.cooccur import count_cooccurrences
from jaxembed.data.corpus import prepare_corpus
from jaxembed.data.sampling import keep_probabilities, noise_table
from jaxembed.data.windows import Sampling, fitted_chunk_tokens
from jaxembed.data.word2vec_examples import example_blocks
from jaxembed.errors import ConfigError, InputFileError


def zipf_corpus(words: int, seed: int = 0, distinct: int = 300) -> bytes:
    """`words` Zipf-distributed words from `distinct` ones, in lines of 5 to 29 words."""
    rng = np.random.default_rng(seed)
    tokens = np.array([f"w{i}" for i in range(distinct)])[np.minimum(rng.zipf(1.3, words) - 1, distinct - 1)]
    ends = np.cumsum(rng.integers(5, 30, words))
    return "\n".join(" ".join(line) for line in np.split(tokens, ends[ends < words])).encode() + b"\n"


def assert_same_corpus(a, b):
    assert a.vocab.strings == b.vocab.strings and a.vocab.counts.tolist() == b.vocab.counts.tolist()
    np.testing.assert_array_equal(np.asarray(a.ids_N), np.asarray(b.ids_N))
    np.testing.assert_array_equal(a.sentence_ends_S, b.sentence_ends_S)
    assert (a.raw_words, a.fingerprint) == (b.raw_words, b.fingerprint)


def test_fingerprint_is_stable_and_sees_every_edit(tmp_path):
    text = zipf_corpus(2000)
    lines = text.split(b"\n")
    words = lines[0].split()
    i = next(k for k in range(1, len(words)) if words[k] != words[0])
    words[0], words[i] = words[i], words[0]
    variants = {"same": text, "gzip": gzip.compress(text), "swapped": b"\n".join([b" ".join(words)] + lines[1:]),
                "reversed": b"\n".join(lines[::-1])}
    prints = {}
    for name, data in variants.items():
        (tmp_path / name).write_bytes(data)
        prints[name] = prepare_corpus(tmp_path / name, 1).fingerprint
    original = prepare_corpus(tmp_path / "same", 1).fingerprint
    assert len(original) == 32 and int(original, 16) >= 0
    assert original == prints["same"] == prints["gzip"]  # the fingerprint hashes the text, however stored
    assert len({original, prints["swapped"], prints["reversed"]}) == 3


def feed(path_or_fd, data: bytes) -> threading.Thread:
    """A thread writing `data` to a pipe's write end (an fd) or a FIFO (a path), then closing it."""
    def write():
        with open(path_or_fd, "wb") as f:
            f.write(data)
    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("compressed", [False, True])
def test_pipes_and_fifos_read_like_the_file(tmp_path, compressed):
    text = zipf_corpus(20_000)
    data = gzip.compress(text) if compressed else text
    (tmp_path / "c.txt").write_bytes(data)
    spools = tmp_path / "spools"
    spools.mkdir()
    expected = prepare_corpus(tmp_path / "c.txt", 5, eos=b"</s>")
    read, write = os.pipe()
    writer = feed(write, data)
    assert_same_corpus(prepare_corpus(f"/dev/fd/{read}", 5, eos=b"</s>", tmp_dir=str(spools)), expected)
    writer.join()
    os.close(read)
    os.mkfifo(tmp_path / "fifo")
    writer = feed(tmp_path / "fifo", data)
    assert_same_corpus(prepare_corpus(tmp_path / "fifo", 5, eos=b"</s>", tmp_dir=str(spools)), expected)
    writer.join()
    assert not os.listdir(spools)  # the spool is gone


def test_a_bad_piped_corpus_is_refused_and_its_spool_removed(tmp_path):
    spools = tmp_path / "spools"
    spools.mkdir()
    os.mkfifo(tmp_path / "fifo")
    writer = feed(tmp_path / "fifo", b"some words\x00 and a NUL byte\n")
    with pytest.raises(InputFileError, match="fifo' has a NUL byte at byte 10"):
        prepare_corpus(tmp_path / "fifo", 1, tmp_dir=str(spools))
    writer.join()
    assert not os.listdir(spools)


def test_pieces_of_huge_windows_make_the_same_blocks():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 50, 2000).astype(np.int32)
    ends = np.array([300, 1300, 2000])
    counts = np.bincount(ids, minlength=50)
    sampling = Sampling(keep_probabilities(counts, 1e-2), noise_table(counts), window=10**6, negative=3)
    for windows in (False, True):
        blocks = [list(example_blocks(ids, ends, sampling, windows=windows, batch_size=64, batches=16, seed=3, epoch=0,
                                      piece_slots=slots)) for slots in (1 << 22, 30_000)]
        assert len(blocks[0]) == len(blocks[1]) > 1
        for a, b in zip(*blocks):
            for x, y in zip(a.arrays(), b.arrays()):
                np.testing.assert_array_equal(x, y)
        assert blocks[0][0].hidden_MxPxC.shape[-1] == (2 * 999 if windows else 1)  # out to the longest sentence


def test_glove_counts_past_the_longest_sentence_are_the_same():
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 30, 3000).astype(np.int32)
    ends = np.cumsum(rng.integers(1, 40, 3000))
    ends = np.append(ends[ends < 3000], 3000)
    longest = int(np.diff(ends, prepend=0).max())
    exact, huge = (count_cooccurrences(ids, ends, 30, window, distance_weighting=False)
                   for window in (longest - 1, 10**7))
    for a, b in zip((exact.rows_N, exact.cols_N, exact.values_N), (huge.rows_N, huge.cols_N, huge.values_N)):
        np.testing.assert_array_equal(a, b)


def test_a_sentence_whose_windows_cannot_fit_a_chunk_is_refused():
    short, long = np.array([100, 1100]), np.array([100, 50_100])
    assert fitted_chunk_tokens(1 << 16, 10, long, 5) == 1 << 16
    assert fitted_chunk_tokens(1 << 16, 2000, short, 1000) == (1 << 22) // 2000
    with pytest.raises(ConfigError, match=r"window=40000: the windows of a sentence of 50,000 tokens .*window <= 41,"):
        fitted_chunk_tokens(1 << 16, 80_000, long, 40_000)


PEAK_RSS = """import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, done.stderr[-2000:])"""


def peak_rss_mb(argv: list[str]) -> int:
    """Peak RSS (MB) of a command run in a fresh process (its only child); fails if it fails."""
    done = subprocess.run([sys.executable, "-c", PEAK_RSS, *argv], capture_output=True, text=True, check=True)
    returncode, peak, stderr = done.stdout.split(" ", 2)
    assert returncode == "0", stderr
    return int(peak)


@pytest.mark.parametrize("model", [["cbow"], ["fasttext", "--cbow", "1", "--bucket", "20000"]])
def test_a_huge_window_trains_in_bounded_memory(tmp_path, model):
    """CBOW at window 100,000 on 10,000 words took 23 GB: the window's slots reach no farther than the longest
    sentence, and a block's examples are bounded."""
    (tmp_path / "c.txt").write_bytes(zipf_corpus(10_000))
    argv = [sys.executable, "-m", "jaxembed.cli", "train", "--model", *model, "--corpus", str(tmp_path / "c.txt"),
            "--out", str(tmp_path / "run"), "--window", "100000", "--dim", "8", "--epochs", "1", "--quiet"]
    assert peak_rss_mb(argv) <= 1024
    assert (tmp_path / "run" / "vectors.txt").exists()
