"""word2vec text and binary formats (word2vec.c, gensim `KeyedVectors.load_word2vec_format`).

Text:   `V D\\n` then per word `word v_1 ... v_D\\n`.
Binary: `V D\\n` then per word `word ` + D little-endian float32 + `\\n` (as word2vec.c writes; the
        trailing newline is optional on reading, as gensim writes none).
Files are read as a stream (jaxembed.io.files: gzip-compressed files too), text in chunks of lines whose
numbers numpy parses together. Every malformed file raises InputFileError naming the file and the problem:
missing or empty file, bad header, header counts that disagree with the body, wrong number of values,
non-numbers, NaN or infinite values, invalid UTF-8 words, over-long lines, truncation, trailing bytes,
duplicate words.
"""
from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator

import numpy as np

from jaxembed.errors import ConfigError, InputFileError
from jaxembed.io.files import (WORD_MAX_BYTES, Records, RowTable, VectorsStream, checked_vectors, file_path,
                               max_line_bytes, open_output, open_vectors_file, readable_again)
from jaxembed.vectors import SparseVectors, Vectors, encode_word

TEXT_FORMAT = "%.6g"
VALUES_PER_WRITE = 1 << 16
CHUNK_BYTES = 1 << 20


def vectors_argument(vectors) -> Vectors:
    """`vectors` if it is a dense Vectors, else ConfigError naming the argument."""
    if not isinstance(vectors, Vectors):
        raise ConfigError(f"vectors must be a jaxembed Vectors, got {type(vectors).__name__}")
    if isinstance(vectors, SparseVectors):
        raise ConfigError(f"sparse vectors ({len(vectors)} rows of {vectors.dim} columns) are written only as .npz "
                          "(jaxembed.io.sparse.save_sparse): a dense text or binary file would hold every column")
    return vectors


def binary_argument(binary, allow_none: bool) -> bool | None:
    """`binary` if it is True or False (or None where allowed: detect the format); ConfigError otherwise."""
    if not isinstance(binary, bool) and not (binary is None and allow_none):
        raise ConfigError(f"binary must be True or False{' (or None: detect)' if allow_none else ''}, got {binary!r}")
    return binary


def write_text_rows(f, vectors: Vectors, values_per_write: int = VALUES_PER_WRITE) -> None:
    """`word v_1 ... v_D\n` per word (the body of word2vec text, the whole of GloVe text; values as np.savetxt
    formats them), about `values_per_write` values at a time so that memory grows with neither V nor D."""
    emb_VxD = np.asarray(vectors.vectors, dtype=np.float32)
    row_format = " ".join([TEXT_FORMAT] * emb_VxD.shape[1])
    rows_per_write = max(1, values_per_write // max(emb_VxD.shape[1], 1))
    for start in range(0, len(emb_VxD), rows_per_write):
        rows = emb_VxD[start:start + rows_per_write].tolist()
        words = vectors.words[start:start + rows_per_write]
        f.write("".join(f"{word} {row_format % tuple(row)}\n" for word, row in zip(words, rows)).encode("utf-8", errors="surrogateescape"))


def write_binary_rows(f, vectors: Vectors) -> None:
    """`word ` + D little-endian float32 + `\n` per word, one row at a time."""
    for word, row_D in zip(vectors.words, np.asarray(vectors.vectors, dtype=np.float32)):
        f.write(encode_word(word) + b" " + row_D.astype("<f4").tobytes() + b"\n")


def save_word2vec(path: str | os.PathLike, vectors: Vectors, binary: bool = False) -> None:
    """Write `vectors` to `path` atomically in word2vec text (default) or binary format (gzip-compressed for
    a path ending in `.gz`)."""
    path, vectors, binary = file_path(path), vectors_argument(vectors), binary_argument(binary, allow_none=False)
    with open_output(path) as f:
        f.write(f"{len(vectors)} {vectors.dim}\n".encode())
        (write_binary_rows if binary else write_text_rows)(f, vectors)


def is_header(line: bytes) -> bool:
    """True for a word2vec `<count> <dim>` first line."""
    parts = line.split()
    return len(parts) == 2 and all(p.isdigit() for p in parts)


def is_number(field: bytes) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def header_problem(line: bytes) -> str:
    """Why a line of two numbers (`5.0 3`, `-5 3`) is no `<count> <dim>` header; "" for any other line."""
    fields = line.split()
    if len(fields) != 2 or not all(map(is_number, fields)) or is_header(line):
        return ""
    wrong = next(field for field in fields if not field.isdigit())
    return f"{wrong.decode()!r} is not a whole number >= 0"


def parse_header(line: bytes, path: str) -> tuple[int, int]:
    """`V D` header -> (V, D), or a clear error naming the file."""
    if not is_header(line):
        problem, shown = header_problem(line), line.rstrip(b"\r\n")[:80]
        raise InputFileError(f"{path}: first line must be '<vocab_size> <dim>' (two whole numbers), got {shown!r}"
                             + (f": {problem}" if problem else ""))
    count, dim = (int(p) for p in line.split())
    if dim <= 0:
        raise InputFileError(f"{path}: header dimension must be positive, got {dim}")
    return count, dim


def record_lines(stream: VectorsStream, max_bytes: int) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of each remaining non-blank line, none longer than `max_bytes`."""
    while line := stream.readline(max_bytes):
        if line.strip():
            yield stream.lineno, line


def chunks_of_lines(records: Iterable[tuple[int, bytes]], chunk_bytes: int) -> Iterator[list[tuple[int, bytes]]]:
    """`records` in lists of about `chunk_bytes` bytes of lines (at least one line each)."""
    chunk, size = [], 0
    for record in records:
        chunk.append(record)
        size += len(record[1])
        if size >= chunk_bytes:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def split_text_line(line: bytes, lineno: int, dim: int, path: str) -> tuple[str, list[str]]:
    """(word, its `dim` value fields) of a `word v_1 ... v_dim` line; errors name the line."""
    try:
        word, _, rest = line.decode("utf-8").rstrip().partition(" ")
    except UnicodeDecodeError as e:
        raise InputFileError(f"{path}: line {lineno} is not valid UTF-8 ({e.reason})") from e
    fields = rest.split()
    if not word.strip():
        raise InputFileError(f"{path}: line {lineno} has no word before its values")
    if len(fields) != dim:
        raise InputFileError(f"{path}: line {lineno} ({word!r}) has {len(fields)} values, expected {dim}")
    return word, fields


def parse_values(fields: list[str], rows: int, dim: int) -> np.ndarray:
    """(rows, dim) float32 of the number fields, parsed by numpy (a number beyond float32's range becomes ±inf);
    ValueError for a field that is no number."""
    with np.errstate(over="ignore"):
        return np.array(fields, dtype=np.float32).reshape(rows, dim)


def parse_text_lines(chunk: list[tuple[int, bytes]], dim: int, path: str) -> tuple[list[str], np.ndarray]:
    """(words, (N, dim) float32) of N `(line number, line)` text records."""
    words, fields = [], []
    for lineno, line in chunk:
        word, values = split_text_line(line, lineno, dim, path)
        words.append(word)
        fields.extend(values)
    try:
        return words, parse_values(fields, len(chunk), dim)
    except ValueError:
        raise not_a_number_error(chunk, dim, path) from None


def not_a_number_error(chunk: list[tuple[int, bytes]], dim: int, path: str) -> InputFileError:
    """The error for the first line of `chunk` with a value that is not a number."""
    for lineno, line in chunk:
        word, values = split_text_line(line, lineno, dim, path)
        try:
            parse_values(values, 1, dim)
        except ValueError as e:
            return InputFileError(f"{path}: line {lineno} ({word!r}): a vector value is not a number ({e})")
    raise AssertionError("no line of the chunk fails to parse")


def read_text_records(records: Iterable[tuple[int, bytes]], dim: int, path: str, capacity: int) -> Records:
    """Records of `word v_1 ... v_dim` lines, parsed a chunk of lines at a time into a RowTable of `capacity`
    rows; errors name the line."""
    words, table, linenos = [], RowTable(dim, capacity), [np.zeros(0, np.int64)]
    for chunk in chunks_of_lines(records, CHUNK_BYTES):
        chunk_words, rows_NxD = parse_text_lines(chunk, dim, path)
        words += chunk_words
        table.add(rows_NxD)
        linenos.append(np.fromiter((lineno for lineno, _ in chunk), np.int64, len(chunk)))
    return Records(words, table.rows(), np.concatenate(linenos))


def read_text_body(stream: VectorsStream, count: int, dim: int, path: str) -> Records:
    """The `count` text records after the header; a different number of non-blank lines is an error."""
    lines = record_lines(stream, max_line_bytes(dim))
    capacity = min(count, stream.capacity(record_bytes=2 * dim + 1))
    records = read_text_records(itertools.islice(lines, count), dim, path, capacity)
    found = len(records.words) + sum(1 for _ in lines)
    if found != count:
        raise InputFileError(f"{path}: header says {count} words but the file has {found} vector lines")
    return records


class ByteBuffer:
    """Bytes of a stream consumed from the front, read on in blocks of about CHUNK_BYTES as needed."""

    def __init__(self, stream: VectorsStream):
        self.stream, self.data, self.pos = stream, b"", 0

    def __len__(self) -> int:
        return len(self.data) - self.pos

    def has(self, size: int) -> bool:
        """Whether `size` more bytes are there (reading on as needed)."""
        if len(self) < size:
            self.data = self.data[self.pos:] + self.stream.read(max(size - len(self), CHUNK_BYTES))
            self.pos = 0
        return len(self) >= size

    def skip(self, chars: bytes) -> None:
        while self.has(1) and self.data[self.pos] in chars:
            self.pos += 1

    def take(self, size: int) -> bytes | None:
        """The next `size` bytes; None if the file ends first."""
        if not self.has(size):
            return None
        self.pos += size
        return self.data[self.pos - size:self.pos]

    def take_until(self, separator: bytes, max_bytes: int) -> bytes | None:
        """The bytes before the next `separator` (consumed with it); None if the file ends, or more than `max_bytes`
        bytes come, before it."""
        while (found := self.data.find(separator, self.pos)) < 0:
            if len(self) > max_bytes or not self.has(len(self) + 1):
                return None
        field = self.data[self.pos:found]
        self.pos = found + len(separator)
        return field

    def rest_size(self) -> int:
        """How many bytes remain to the end of the file, not counting newlines at either end."""
        size, newline_run, block = 0, 0, self.data[self.pos:]
        while block or (block := self.stream.read(CHUNK_BYTES)):
            block = block if size else block.lstrip(b"\n")
            stripped = block.rstrip(b"\n")
            size += len(block)
            newline_run = newline_run + len(block) if not stripped else len(block) - len(stripped)
            block = b""
        return size - newline_run


def read_binary_body(stream: VectorsStream, count: int, dim: int, path: str) -> Records:
    """The `count` binary records after the header, each `word ` + dim float32 (newlines and spaces before a word
    skipped); the rows are gathered in chunks of about CHUNK_BYTES."""
    buffer, row_bytes = ByteBuffer(stream), 4 * dim
    rows_per_chunk = max(1, CHUNK_BYTES // row_bytes)
    words, table, rows = [], RowTable(dim, min(count, stream.capacity(record_bytes=row_bytes + 2))), []
    for i in range(count):
        buffer.skip(b"\n ")
        word = buffer.take_until(b" ", WORD_MAX_BYTES)
        if word is None and len(buffer) > WORD_MAX_BYTES:
            raise InputFileError(f"{path}: word {i + 1} runs past {WORD_MAX_BYTES:,} bytes without the space that "
                                 "ends a word: not a word2vec binary file")
        row = None if word is None else buffer.take(row_bytes)
        if row is None:
            raise InputFileError(f"{path}: truncated: header says {count} words, file ends in word {i + 1}")
        try:
            words.append(word.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise InputFileError(f"{path}: word {i + 1} is not valid UTF-8 ({e.reason})") from e
        rows.append(row)
        if len(rows) == rows_per_chunk or i == count - 1:
            table.add(np.frombuffer(b"".join(rows), dtype="<f4").reshape(len(rows), dim))
            rows = []
    extra = buffer.rest_size()
    if extra:
        raise InputFileError(f"{path}: {extra} bytes follow the {count} words the header announces")
    return Records(words, table.rows())


def read_word2vec_records(path: str, binary: bool) -> Records:
    """The records of a word2vec text or binary file."""
    with open_vectors_file(path) as stream:
        count, dim = parse_header(stream.first_line(), path)
        return (read_binary_body if binary else read_text_body)(stream, count, dim, path)


def first_record_values(path: str) -> tuple[bytes, int]:
    """(what follows the word on the line after the header, dim): the first record's values if it is text."""
    with open_vectors_file(path) as stream:
        _, dim = parse_header(stream.first_line(), path)
        line = stream.peek_line(max_line_bytes(dim))
    return line.split(b"\n", 1)[0].rstrip().partition(b" ")[2], dim


def looks_binary(values: bytes, dim: int) -> bool:
    """True unless the first record's values are `dim` numbers in text."""
    fields = values.decode("ascii").split() if values.isascii() else []
    if len(fields) != dim:
        return True
    try:
        parse_values(fields, 1, dim)
    except ValueError:
        return True
    return False


def load_word2vec(path: str | os.PathLike, binary: bool | None = None) -> Vectors:
    """Read word2vec text or binary vectors; `binary=None` detects the format: the one the first record suggests
    is read first, then the other; if both fail, the error reported is the text one when the first record's
    values are ASCII (as text values always are), else the binary one. A duplicate word or a NaN or infinite
    value is an error whichever format reads the file."""
    path, binary = file_path(path), binary_argument(binary, allow_none=True)
    with readable_again(path) as readable:
        return read_word2vec_file(readable, binary)


def read_word2vec_file(path: str, binary: bool | None) -> Vectors:
    """`load_word2vec` of a file that can be opened more than once."""
    if binary is not None:
        return checked_vectors(read_word2vec_records(path, binary), path)
    values, dim = first_record_values(path)
    errors = {}
    for binary in (True, False) if looks_binary(values, dim) else (False, True):
        try:
            records = read_word2vec_records(path, binary)
        except InputFileError as e:
            errors[binary] = e
        else:
            return checked_vectors(records, path)
    raise errors[not values.isascii()]
