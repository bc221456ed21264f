"""Streaming corpus reader: text8-style one-line files or one sentence per line, plain or gzip.

Tokens are whitespace-separated byte strings. A line is a sentence; a line longer than
`max_sentence_length` tokens is cut into pieces of that length, as gensim does (its
`Text8Corpus`/`LineSentence` use 10,000), so windows never cross a cut.

Input policy: gzip is recognised by its magic bytes (any file name). Invalid UTF-8 byte sequences
are replaced by U+FFFD as the text is read (Python's errors="replace"), so every word is valid
UTF-8 and words differing only in invalid bytes are one word. A NUL byte means the file is not
text (binary, UTF-16, another compression) and is an error, as is a token longer than
`MAX_TOKEN_BYTES` (a file with no whitespace to split on), so memory stays bounded by the block size.

The encoded corpus (4 bytes per in-vocabulary token) lives in an unlinked temporary file
(`TokenIds`) and is read back slice by slice, so memory does not grow with the corpus.

A corpus is one file, or several (a tuple of paths: `data.sources` makes it from a directory, glob
patterns or a list) read one after the other as one text, each file's end ending its last line.

The corpus is read twice (count, then encode). An input that can be read only once (a pipe,
`<(cmd)`, /dev/stdin, a named FIFO: anything but a regular file) is copied to a temporary spool
file as the first pass reads it, and the second pass reads the spool. The first pass also hashes
the (decompressed) bytes into the corpus's fingerprint, which changes with any edit to the text.
"""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import errno
import gzip
import hashlib
import io
import itertools
import os
import stat
import tempfile
import zlib
from collections.abc import Iterator
from itertools import repeat
from typing import BinaryIO

import numpy as np

from jaxembed.data.vocab import Vocab, build_vocab
from jaxembed.errors import InputFileError

MAX_SENTENCE_LENGTH = 10_000
READ_BLOCK_BYTES = 1 << 22
MAX_TOKEN_BYTES = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
WHITESPACE = (b" ", b"\t", b"\n", b"\r", b"\x0b", b"\x0c")  # what bytes.split() splits on

Corpus = str | tuple[str, ...]
"""A corpus file's path, or the paths of files read one after the other."""


def corpus_name(corpus: Corpus) -> str:
    """How messages name a corpus: its path, or its files' paths."""
    return os.fspath(corpus) if not isinstance(corpus, tuple) else " + ".join(corpus)


class ReadOnce(io.RawIOBase):
    """An input that can be read only once (a pipe, a FIFO), read through: `peek(n)` returns its first n
    bytes (fewer if it is shorter) without consuming them, and every byte read from it is also written
    to `spool` when given (flushed on closing), so that a second pass can read the spool instead."""

    def __init__(self, source: BinaryIO, spool: BinaryIO | None = None):
        self._source, self._spool, self._unread = source, spool, b""

    def readable(self) -> bool:
        return True

    def peek(self, size: int) -> bytes:
        while len(self._unread) < size and (data := self._source.read(size - len(self._unread))):
            self._copy(data)
            self._unread += data
        return self._unread[:size]

    def readinto(self, buffer) -> int:
        if self._unread:
            n = min(len(buffer), len(self._unread))
            buffer[:n], self._unread = self._unread[:n], self._unread[n:]
            return n
        n = self._source.readinto(buffer)
        self._copy(memoryview(buffer)[:n])
        return n

    def close(self) -> None:
        if self._spool is not None and not self.closed:
            self._spool.flush()
        super().close()

    def _copy(self, data) -> None:
        if self._spool is not None:
            self._spool.write(data)


def why_missing(path: str) -> str:
    """What a path that os.path.exists calls missing is: a symbolic link loop, a link to nothing, or nothing."""
    try:
        os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "is a symbolic link loop"
    if os.path.islink(path):
        return f"is a symbolic link to {os.readlink(path)!r}, which does not exist"
    return "does not exist"


@contextlib.contextmanager
def open_corpus(path: str | os.PathLike, spool: BinaryIO | None = None) -> Iterator[BinaryIO]:
    """Open `path` for binary reading, decompressing gzip (detected by its magic bytes) transparently.

    An input that is not a regular file (a pipe, a FIFO) is opened once and read through `ReadOnce`,
    which peeks at the magic bytes without losing them and copies what it reads to `spool`.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputFileError(f"corpus file {path!r} {why_missing(path)}")
    if os.path.isdir(path):
        raise InputFileError(f"corpus file {path!r} is a directory")
    try:
        raw = open(path, "rb", buffering=0)
    except OSError as e:
        raise InputFileError(f"corpus file {path!r} cannot be read: {e.strerror or e}") from e
    with raw:
        try:
            if stat.S_ISREG(os.fstat(raw.fileno()).st_mode):
                source, magic = raw, os.pread(raw.fileno(), len(GZIP_MAGIC), 0)
            else:
                source = ReadOnce(raw, spool)
                magic = source.peek(len(GZIP_MAGIC))
        except OSError as e:
            raise InputFileError(f"corpus file {path!r} cannot be read: {e.strerror or e}") from e
        with io.BufferedReader(source) as stream, (gzip.GzipFile(fileobj=stream, mode="rb") if magic == GZIP_MAGIC
                                                   else contextlib.nullcontext(stream)) as f:
            yield f


def read_blocks(path: Corpus, block_bytes: int, spool: BinaryIO | None = None, digest=None) -> Iterator[bytes]:
    """The raw (decompressed) bytes of the corpus in blocks of `block_bytes`; a NUL byte is an error. A corpus of
    several files gets a newline after each file that does not end with one.

    spool: where to copy the bytes of an input that can be read only once (`open_corpus`); digest: a
    hashlib object updated with every block.
    """
    for index, file in enumerate(path if isinstance(path, tuple) else (path,)):
        last = b"\n"
        if index and isinstance(path, tuple) and digest is not None:
            digest.update(b"\0")  # files "a b" + "c" and "a" + "b c" differ
        for block in file_blocks(file, block_bytes, spool, digest):
            last = block[-1:]
            yield block
        if isinstance(path, tuple) and last != b"\n":
            yield b"\n"


def file_blocks(path: str, block_bytes: int, spool: BinaryIO | None, digest) -> Iterator[bytes]:
    """`read_blocks` of one file."""
    offset = 0
    with open_corpus(path, spool) as f:
        while True:
            try:
                block = f.read(block_bytes)
            except (OSError, EOFError, zlib.error) as e:
                raise InputFileError(f"corpus file {path!r} is corrupt: {e}") from e
            if not block:
                return
            nul = block.find(b"\0")
            if nul >= 0:
                raise InputFileError(f"corpus file {path!r} has a NUL byte at byte {offset + nul}: "
                                     "it is not a text file (binary, UTF-16 or compressed other than gzip)")
            if digest is not None:
                digest.update(block)
            yield block
            offset += len(block)


def valid_utf8(text: bytes) -> bytes:
    """`text` with invalid UTF-8 sequences replaced by U+FFFD (unchanged, and not copied, when valid)."""
    if text.isascii():
        return text
    try:
        text.decode("utf-8")
        return text
    except UnicodeDecodeError:
        return text.decode("utf-8", errors="replace").encode("utf-8")


def split_lines(text: bytes, eos: bytes | None = None, ends_file: bool = False) -> tuple[list[bytes], np.ndarray]:
    """Tokens of `text` and the offsets into them where its lines end: (tokens, line_ends_L int64).

    Every "\n" ends a line, followed by the token `eos` when given (fastText's `</s>`); the text
    after the last newline is an unfinished line, unless `ends_file` (the end of the file ends it).
    """
    lines = [line.split() for line in text.split(b"\n")]
    if eos is not None:
        lines = [line + [eos] for line in lines[:-1]] + lines[-1:]
    lengths = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
    ends = np.cumsum(lengths)
    return list(itertools.chain.from_iterable(lines)), ends if ends_file else ends[:-1]


def last_whitespace(data: bytes) -> int:
    return max(data.rfind(w) for w in WHITESPACE)


def iter_token_blocks(path: Corpus | os.PathLike, block_bytes: int = READ_BLOCK_BYTES,
                      max_token_bytes: int = MAX_TOKEN_BYTES, eos: bytes | None = None, *,
                      spool: BinaryIO | None = None, digest=None) -> Iterator[tuple[list[bytes], np.ndarray]]:
    """Yield `(tokens, line_ends)` per block read: the block's whole tokens in file order and the
    offsets into `tokens` where lines end; the end of the file ends the last line. `eos`: a token
    appended to every line that a newline ends (fastText's `</s>`), or None. spool, digest: as
    `read_blocks`.

    Joined, the blocks hold the lines of `text.split(b"\\n")` exactly. Memory stays bounded by
    `block_bytes + max_token_bytes` even for a file that is one huge line; a token is never split.
    """
    path = path if isinstance(path, tuple) else os.fspath(path)
    carry, offset = b"", 0
    for block in read_blocks(path, block_bytes, spool, digest):
        data = carry + block
        cut = last_whitespace(data) + 1
        carry = data[cut:]
        if len(carry) > max_token_bytes:
            raise InputFileError(f"corpus {corpus_name(path)!r}: no whitespace in {len(carry):,} bytes from byte "
                                 f"{offset + cut:,} (longest token allowed: {max_token_bytes:,} bytes); not a text corpus?")
        offset += cut
        if cut:
            yield split_lines(valid_utf8(data[:cut]), eos)
    yield split_lines(valid_utf8(carry), eos, ends_file=True)


def count_words(path: Corpus | os.PathLike, eos: bytes | None = None, *, spool: BinaryIO | None = None,
                digest=None) -> tuple[collections.Counter, int]:
    """Count every token of the corpus: (Counter bytes -> count in first-seen order, total tokens).
    spool, digest: as `read_blocks`."""
    counts: collections.Counter = collections.Counter()
    total = 0
    for tokens, _ in iter_token_blocks(path, eos=eos, spool=spool, digest=digest):
        counts.update(tokens)
        total += len(tokens)
    return counts, total


def block_sentence_ends(n: int, line_ends_L: np.ndarray, line_start: int, max_sentence_length: int) -> np.ndarray:
    """Raw-token offsets (0..n) in a block of n tokens at which a sentence ends: its line ends and a
    cut every `max_sentence_length` tokens of a line (as gensim cuts long lines); the block's first
    line began at offset `line_start` <= 0, i.e. before the block."""
    after_J = np.arange(1, n + 1)
    line_J = np.searchsorted(line_ends_L, after_J, side="left")
    starts_L = np.concatenate([[line_start], line_ends_L])
    cuts = after_J[(after_J - starts_L[line_J]) % max_sentence_length == 0]
    return np.union1d(line_ends_L, cuts)


class TokenIds:
    """(N,) int32 token ids in an unlinked temporary file, read back by slices (`ids[a:b]`,
    `np.asarray(ids)`) so that holding the encoded corpus costs no memory."""

    dtype = np.dtype(np.int32)

    def __init__(self, file, length: int):
        self._file = file
        self._map = None
        self.shape = (length,)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key):
        if isinstance(key, slice) and key.step in (None, 1):
            start, stop, _ = key.indices(len(self))
            return self.read(start, max(start, stop))
        return np.asarray(self)[key]

    def __array__(self, dtype=None, copy=None):
        ids = self.read(0, len(self))
        return ids if dtype is None else ids.astype(dtype)

    def take(self, positions: np.ndarray) -> np.ndarray:
        """ids at arbitrary positions (like `ndarray.take`), through a read-only memory map of the file."""
        if not len(self):
            return np.asarray(self).take(positions)
        if self._map is None:
            self._map = np.memmap(self._file, dtype=self.dtype, mode="r", shape=self.shape)
        return np.asarray(self._map.take(positions))

    def read(self, start: int, stop: int) -> np.ndarray:
        """ids[start:stop] as a new array, read from the file."""
        out = np.empty(stop - start, self.dtype)
        view, position = memoryview(out).cast("B"), start * self.dtype.itemsize
        while len(view):
            got = os.preadv(self._file.fileno(), [view], position)
            if got <= 0:
                raise InputFileError(f"temporary token file ended early at byte {position}")
            view, position = view[got:], position + got
        return out


def encode_corpus(path: Corpus | os.PathLike, index: dict[bytes, int], max_sentence_length: int = MAX_SENTENCE_LENGTH,
                  tmp_dir: str | None = None, block_bytes: int = READ_BLOCK_BYTES,
                  eos: bytes | None = None) -> tuple[TokenIds, np.ndarray]:
    """Map the corpus to vocabulary ids, dropping out-of-vocabulary tokens, in one streaming pass.

    Returns (ids_N, sentence_ends_S int64): ids of in-vocabulary tokens in order (a `TokenIds`
    spooled to a temporary file in `tmp_dir`, default $TMPDIR), and the offsets into `ids_N` where
    each sentence ends (raw-token sentences, cut as `block_sentence_ends`).
    """
    file = tempfile.TemporaryFile(dir=tmp_dir, prefix="jaxembed-ids-")
    end_blocks, kept_total, line_start = [], 0, 0
    for tokens, line_ends_L in iter_token_blocks(path, block_bytes, eos=eos):
        ids = np.fromiter(map(index.get, tokens, repeat(-1)), dtype=np.int32, count=len(tokens))
        kept_J = np.concatenate([[0], np.cumsum(ids >= 0)])
        raw_ends = block_sentence_ends(len(tokens), line_ends_L, line_start, max_sentence_length)
        end_blocks.append(kept_total + kept_J[raw_ends])
        file.write(ids[ids >= 0].tobytes())
        kept_total += int(kept_J[-1])
        line_start = line_start - len(tokens) if not len(line_ends_L) else int(line_ends_L[-1]) - len(tokens)
    file.flush()
    ends = np.unique(np.concatenate(end_blocks))
    return TokenIds(file, kept_total), ends[ends > 0]


@dataclasses.dataclass(frozen=True)
class PreparedCorpus:
    """vocab; ids_N: in-vocabulary token ids (on disk, read by slices); sentence_ends_S: sentence end
    offsets into ids_N; raw_words: all tokens of the file; fingerprint: hex digest of the file's
    (decompressed) bytes (`fingerprint_digest`)."""

    vocab: Vocab
    ids_N: TokenIds
    sentence_ends_S: np.ndarray
    raw_words: int
    fingerprint: str


def fingerprint_digest():
    """The hash behind `PreparedCorpus.fingerprint`: BLAKE2b, 16 bytes."""
    return hashlib.blake2b(digest_size=16)


def readable_once(path: Corpus) -> bool:
    """Whether `path` exists and is neither a regular file nor a directory: a pipe, a FIFO or a device
    (/dev/stdin), which the corpus passes cannot simply open again. A corpus of several files must be regular
    files (InputFileError otherwise)."""
    if isinstance(path, tuple):
        once = [file for file in path if readable_once(file)]
        if once:
            raise InputFileError(f"corpus file {once[0]!r} is a pipe or device: a corpus of several files must be "
                                 "regular files (give a pipe on its own)")
        return False
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


@contextlib.contextmanager
def second_reading(path: Corpus, tmp_dir: str | None = None) -> Iterator[tuple[BinaryIO | None, str]]:
    """(spool, path to read again) for a corpus read twice: (None, path), unless `readable_once(path)`:
    then a temporary file in `tmp_dir` (default $TMPDIR) for the first pass to copy the input to, and its
    path. The file is removed on leaving, on errors too."""
    if not readable_once(path):
        yield None, path
        return
    with tempfile.NamedTemporaryFile(dir=tmp_dir, prefix="jaxembed-spool-") as spool:
        yield spool, spool.name


def prepare_corpus(path: Corpus | os.PathLike, min_count: int, max_vocab_size: int | None = None,
                   max_sentence_length: int | None = MAX_SENTENCE_LENGTH, eos: bytes | None = None,
                   tmp_dir: str | None = None, known: collections.Counter | None = None) -> PreparedCorpus:
    """Count, build the vocabulary and encode the corpus to ids (two streaming passes; an input that can be
    read only once is spooled to a temporary file in `tmp_dir` for the second, `second_reading`).

    max_sentence_length None: sentences are whole lines (GloVe's rule). eos: a token ending every
    line (fastText's `</s>`), counted and trained like a word. known: an earlier vocabulary to extend
    (`build_vocab`).
    """
    path = path if isinstance(path, tuple) else os.fspath(path)
    digest = fingerprint_digest()
    with second_reading(path, tmp_dir) as (spool, again):
        counts, raw_words = count_words(path, eos, spool=spool, digest=digest)
        if raw_words == 0:
            raise InputFileError(f"corpus {corpus_name(path)!r} contains no words")
        vocab = build_vocab(counts, min_count, max_vocab_size, known)
        if len(vocab) < 2:
            raise InputFileError(f"corpus {corpus_name(path)!r}: {len(vocab)} distinct word(s) occur at least "
                                 f"min_count={min_count} times; training needs at least 2")
        ids, ends = encode_corpus(again, vocab.index, max_sentence_length or raw_words + 1, tmp_dir, eos=eos)
    return PreparedCorpus(vocab, ids, ends, raw_words, digest.hexdigest())
