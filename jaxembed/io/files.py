"""Vectors files as the readers and writers see them: checked path arguments, a stream of bounded lines and
bytes (plain or gzip-compressed, told apart by the content), and the checks every reader applies to what it read.

No reader holds a whole file: lines are read one at a time up to a bound, so a file that is no vectors file
(/dev/zero, random bytes, one endless line) is refused after its first bytes. The bounds:
    a first line (a header, or GloVe's first line, whose length fixes nothing yet)   FIRST_LINE_MAX_BYTES
    any later text line, in a file of dimension D        WORD_MAX_BYTES + VALUE_MAX_BYTES * D
    a word of a binary record                            WORD_MAX_BYTES
A file that starts with a UTF-8 byte-order mark is refused (word2vec.c and gensim do not read one either);
a gzip-compressed file is read as gensim's `load_word2vec_format` reads a `.gz` file; a path ending in `.gz`
is written gzip-compressed.
"""
from __future__ import annotations

import contextlib
import dataclasses
import gzip
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from stat import S_ISFIFO, S_ISREG

import numpy as np

from jaxembed.errors import ConfigError, InputFileError
from jaxembed.io.atomic import atomic_open
from jaxembed.vectors import Vectors

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
FIRST_LINE_MAX_BYTES = 16 << 20
WORD_MAX_BYTES = 1 << 20
VALUE_MAX_BYTES = 64
READ_PIECE_BYTES = 1 << 16
READ_BLOCK_BYTES = 1 << 20
CHECK_ROWS = 1 << 14


def file_path(path, name: str = "path") -> str:
    """`path` (str, bytes or os.PathLike) as a str; ConfigError naming the argument for anything else."""
    try:
        return os.fsdecode(path)
    except TypeError:
        raise ConfigError(f"{name} must be a file path (str or os.PathLike), got {type(path).__name__} {path!r}") from None


def max_line_bytes(dim: int) -> int:
    """The longest text line accepted in a file of dimension `dim`: a word and `dim` values of generous length."""
    return WORD_MAX_BYTES + VALUE_MAX_BYTES * dim


class VectorsStream:
    """A vectors file read front to back: lines of bounded length (counted in `lineno`) and runs of bytes.
    Read errors, and a corrupt or truncated gzip stream, raise InputFileError naming the file."""

    def __init__(self, f, path: str, compressed: bool, size: int | None = None):
        self.f, self.path, self.compressed, self.size, self.lineno = f, path, compressed, size, 0

    def capacity(self, record_bytes: float) -> int:
        """How many records of `record_bytes` bytes the file holds (+1), for a row table's capacity; 0 when the
        size is unknown (a compressed file, a device, a pipe)."""
        return 0 if self.size is None else int(self.size / record_bytes) + 1

    def call(self, read, size: int) -> bytes:
        """`read(size)`, its errors as InputFileError naming the file."""
        try:
            return read(size)
        except (OSError, EOFError, zlib.error) as e:
            if self.compressed:
                raise InputFileError(f"{self.path}: the gzip-compressed vectors file is corrupt or truncated ({e})") from e
            raise InputFileError(f"{self.path}: cannot read vectors file: {getattr(e, 'strerror', None) or e}") from e

    def first_line(self) -> bytes:
        """Line 1, read in pieces: it ends early at a NUL byte (binary data, which no first line holds), and a line
        longer than FIRST_LINE_MAX_BYTES is an error."""
        pieces, size = [], 0
        while True:
            piece = self.call(self.f.readline, READ_PIECE_BYTES)
            pieces.append(piece)
            size += len(piece)
            if not piece or piece.endswith(b"\n") or b"\0" in piece:
                break
            if size > FIRST_LINE_MAX_BYTES:
                raise InputFileError(f"{self.path}: line 1 runs past {FIRST_LINE_MAX_BYTES:,} bytes without a line "
                                     "break: not a vectors file")
        self.lineno = 1
        return b"".join(pieces)

    def readline(self, max_bytes: int) -> bytes:
        """The next line with its newline (b"" at the end of the file); longer than `max_bytes`: an error."""
        line = self.call(self.f.readline, max_bytes + 1)
        if len(line) > max_bytes:
            raise InputFileError(f"{self.path}: line {self.lineno + 1} runs past {max_bytes:,} bytes without a line "
                                 "break: not a vectors file of this dimension")
        self.lineno += bool(line)
        return line

    def peek_line(self, max_bytes: int) -> bytes:
        """The next line, or its first `max_bytes` bytes (no error: for telling text from binary)."""
        return self.call(self.f.readline, max_bytes)

    def read(self, size: int) -> bytes:
        """The next `size` bytes (fewer at the end of the file), read in pieces so that a huge `size` only costs
        the bytes that are there."""
        pieces = []
        while size > 0 and (piece := self.call(self.f.read, min(size, READ_BLOCK_BYTES))):
            pieces.append(piece)
            size -= len(piece)
        return b"".join(pieces)


@contextlib.contextmanager
def open_vectors_file(path: str) -> Iterator[VectorsStream]:
    """A stream of the file at `path`, decompressed if it is gzip; InputFileError if it cannot be opened,
    is empty or starts with a byte-order mark."""
    try:
        raw = open(path, "rb")
    except OSError as e:
        raise InputFileError(f"{path}: cannot read vectors file: {e.strerror or e}") from e
    with raw:
        compressed = VectorsStream(raw, path, False).call(raw.peek, 2)[:2] == GZIP_MAGIC
        stat = os.fstat(raw.fileno())
        size = stat.st_size if stat.st_size and not compressed and S_ISREG(stat.st_mode) else None
        with gzip.GzipFile(fileobj=raw, mode="rb") if compressed else contextlib.nullcontext(raw) as f:
            stream = VectorsStream(f, path, compressed, size)
            start = stream.call(f.peek, len(UTF8_BOM))
            if not start:
                raise InputFileError(f"{path}: vectors file is empty")
            if start.startswith(UTF8_BOM):
                raise InputFileError(f"{path}: the file starts with a UTF-8 byte-order mark (bytes EF BB BF), which no "
                                     "vectors file has (word2vec.c and gensim do not read one either): remove those 3 bytes")
            yield stream


@contextlib.contextmanager
def readable_again(path: str) -> Iterator[str]:
    """`path`, or for a pipe or FIFO (`<(cmd)`, a piped /dev/stdin), which can be read only once while the readers
    open a file more than once, a temporary copy of its bytes (removed afterwards; errors still name `path`)."""
    try:
        pipe = S_ISFIFO(os.stat(path).st_mode)
    except OSError:
        pipe = False
    if not pipe:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="jaxembed-vectors-") as directory:
        copy = os.path.join(directory, "piped")
        try:
            with open(path, "rb") as source, open(copy, "wb") as target:
                shutil.copyfileobj(source, target, READ_BLOCK_BYTES)
        except OSError as e:
            raise InputFileError(f"{path}: cannot read vectors file: {e.strerror or e}") from e
        try:
            yield copy
        except InputFileError as e:
            raise InputFileError(str(e).replace(copy, path)) from e.__cause__


@contextlib.contextmanager
def open_output(path: str):
    """A binary file written atomically at `path` (jaxembed.io.atomic), gzip-compressed when `path` ends in `.gz`."""
    with atomic_open(path, "wb") as f:
        if not path.endswith(".gz"):
            yield f
            return
        with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=6, mtime=0) as compressed:
            yield compressed


class RowTable:
    """(N, dim) float32 rows added a chunk at a time: into one array of `capacity` rows while they fit (no copy at
    the end, and untouched rows cost no memory), then into a list of chunks stacked at the end (the table held
    twice, briefly)."""

    def __init__(self, dim: int, capacity: int):
        self.table_NxD, self.size, self.overflow = np.empty((capacity, dim), np.float32), 0, []

    def add(self, rows_NxD: np.ndarray) -> None:
        if self.overflow or self.size + len(rows_NxD) > len(self.table_NxD):
            self.overflow.append(rows_NxD)
            return
        self.table_NxD[self.size:self.size + len(rows_NxD)] = rows_NxD
        self.size += len(rows_NxD)

    def rows(self) -> np.ndarray:
        """The (N, dim) table of every row added; the spare capacity is given back without a copy."""
        table_NxD, self.table_NxD = self.table_NxD, None
        table_NxD.resize((self.size, table_NxD.shape[1]), refcheck=False)
        return stack_rows([table_NxD, *self.overflow], table_NxD.shape[1]) if self.overflow else table_NxD


def stack_rows(chunks: list[np.ndarray], dim: int) -> np.ndarray:
    """(N, dim) float32 of the rows of `chunks` in order; each chunk is dropped from the list once copied, so the
    peak memory is the result plus one chunk."""
    table_NxD = np.empty((sum(len(chunk) for chunk in chunks), dim), np.float32)
    start = 0
    for i, chunk in enumerate(chunks):
        table_NxD[start:start + len(chunk)] = chunk
        start += len(chunk)
        chunks[i] = None
    return table_NxD


def first_non_finite(table_NxD: np.ndarray) -> tuple[int, float] | None:
    """(row, value) of the first NaN or ±inf in the table, checked CHECK_ROWS rows at a time; None if all finite."""
    for start in range(0, len(table_NxD), CHECK_ROWS):
        finite = np.isfinite(table_NxD[start:start + CHECK_ROWS])
        if not finite.all():
            row, column = np.argwhere(~finite)[0]
            return start + int(row), float(table_NxD[start + row, column])
    return None


def non_finite_problem(value: float) -> str:
    """What is wrong with a non-finite value, for an error message."""
    if np.isnan(value):
        return "a NaN value"
    return f"an infinite value ({value}, or a number beyond float32's ±3.4e38)"


@dataclasses.dataclass
class Records:
    """A vectors file's records as read: words (N,), values (N, D) float32, and each record's line number
    (text files; None for binary files, whose records are named by position)."""

    words: list[str]
    table_NxD: np.ndarray
    linenos_N: np.ndarray | None = None

    def place(self, i: int) -> str:
        """Where record i is: "line 7" (text) or "word 7" (binary)."""
        return f"line {self.linenos_N[i]}" if self.linenos_N is not None else f"word {i + 1}"

    def name(self, i: int) -> str:
        """Record i as an error message names it: "line 7 ('cat')"."""
        return f"{self.place(i)} ({self.words[i]!r})"


def checked_vectors(records: Records, path: str) -> Vectors:
    """Vectors of the records; InputFileError naming the file and the record for a word that appears twice or a
    value that is not finite."""
    if len(set(records.words)) != len(records.words):
        first_seen: dict[str, int] = {}
        for i, word in enumerate(records.words):
            if first_seen.setdefault(word, i) != i:
                raise InputFileError(f"{path}: word {word!r} appears more than once ({records.place(first_seen[word])} "
                                     f"and {records.place(i)})")
    bad = first_non_finite(records.table_NxD)
    if bad is not None:
        row, value = bad
        raise InputFileError(f"{path}: {records.name(row)} has {non_finite_problem(value)}; vectors must be finite")
    return Vectors(records.words, records.table_NxD)
