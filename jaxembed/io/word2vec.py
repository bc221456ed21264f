"""word2vec text and binary formats (word2vec.c, gensim `KeyedVectors.load_word2vec_format`).

Text:   `V D\\n` then per word `word v_1 ... v_D\\n`.
Binary: `V D\\n` then per word `word ` + D little-endian float32 + `\\n` (as word2vec.c writes; the
        trailing newline is optional on reading, as gensim writes none).
Every malformed file raises InputFileError naming the file and the problem: missing or empty file,
bad header, header counts that disagree with the body, wrong number of values, non-numbers,
invalid UTF-8 words, truncation, trailing bytes, duplicate words.
"""
from __future__ import annotations

import os

import numpy as np

from jaxembed.errors import InputFileError
from jaxembed.io.atomic import atomic_open
from jaxembed.vectors import Vectors, encode_word

TEXT_FORMAT = "%.6g"


def write_text_rows(f, vectors: Vectors, rows_per_write: int = 4096) -> None:
    """`word v_1 ... v_D\n` per word (the body of word2vec text, the whole of GloVe text; values as
    np.savetxt formats them), `rows_per_write` rows at a time so memory does not grow with the vocabulary."""
    emb_VxD = np.asarray(vectors.vectors, dtype=np.float32)
    row_format = " ".join([TEXT_FORMAT] * emb_VxD.shape[1])
    for start in range(0, len(emb_VxD), rows_per_write):
        rows = emb_VxD[start:start + rows_per_write].tolist()
        words = vectors.words[start:start + rows_per_write]
        f.write("".join(f"{word} {row_format % tuple(row)}\n" for word, row in zip(words, rows)).encode("utf-8", errors="surrogateescape"))


def save_word2vec(path: str | os.PathLike, vectors: Vectors, binary: bool = False) -> None:
    """Write `vectors` to `path` atomically in word2vec text (default) or binary format."""
    with atomic_open(path, "wb") as f:
        f.write(f"{len(vectors)} {vectors.dim}\n".encode())
        if binary:
            for word, row in zip(vectors.words, np.asarray(vectors.vectors, dtype=np.float32)):
                f.write(encode_word(word) + b" " + row.astype("<f4").tobytes() + b"\n")
        else:
            write_text_rows(f, vectors)


def read_vectors_file(path: str) -> bytes:
    """The whole file; a clear error if it is missing, unreadable or empty."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputFileError(f"{path}: cannot read vectors file: {e.strerror or e}") from e
    if not data.strip():
        raise InputFileError(f"{path}: vectors file is empty")
    return data


def is_header(line: bytes) -> bool:
    """True for a word2vec `<count> <dim>` first line."""
    parts = line.split()
    return len(parts) == 2 and all(p.isdigit() for p in parts)


def parse_header(line: bytes, path: str) -> tuple[int, int]:
    """`V D` header -> (V, D), or a clear error naming the file."""
    if not is_header(line):
        raise InputFileError(f"{path}: first line must be '<vocab_size> <dim>', got {line[:80]!r}")
    count, dim = (int(p) for p in line.split())
    if dim <= 0:
        raise InputFileError(f"{path}: header dimension must be positive, got {dim}")
    return count, dim


def first_record_values(body: bytes) -> bytes:
    """What follows the word on the first line of the body."""
    return body.split(b"\n", 1)[0].rstrip().partition(b" ")[2]


def looks_binary(body: bytes, dim: int) -> bool:
    """True unless the first record is a text line of a word and `dim` numbers."""
    try:
        return len(np.asarray(first_record_values(body).decode("ascii").split(), dtype=np.float32)) != dim
    except (UnicodeDecodeError, ValueError):
        return True


def parse_text_lines(lines: list[bytes], dim: int, path: str, first_lineno: int) -> tuple[list[str], np.ndarray]:
    """(words, (N, dim) float32) from `word v_1 ... v_dim` lines; errors name the line."""
    words, values = [], []
    for lineno, line in enumerate(lines, start=first_lineno):
        try:
            word, _, rest = line.decode("utf-8").rstrip().partition(" ")
        except UnicodeDecodeError as e:
            raise InputFileError(f"{path}: line {lineno} is not valid UTF-8 ({e.reason})") from e
        fields = rest.split()
        if not word.strip():
            raise InputFileError(f"{path}: line {lineno} has no word before its values")
        if len(fields) != dim:
            raise InputFileError(f"{path}: line {lineno} ({word!r}) has {len(fields)} values, expected {dim}")
        words.append(word)
        values.append(rest)
    try:
        emb = np.array(" ".join(values).split(), dtype=np.float32).reshape(len(lines), dim)
    except ValueError as e:
        raise InputFileError(f"{path}: a vector value is not a number ({e})") from e
    return words, emb


def read_text_body(body: bytes, count: int, dim: int, path: str) -> tuple[list[str], np.ndarray]:
    lines = [l for l in body.split(b"\n") if l.strip()]
    if len(lines) != count:
        raise InputFileError(f"{path}: header says {count} words but the file has {len(lines)} vector lines")
    return parse_text_lines(lines, dim, path, first_lineno=2)


def read_binary_body(body: bytes, count: int, dim: int, path: str) -> tuple[list[str], np.ndarray]:
    words, rows, pos, row_bytes = [], [], 0, 4 * dim
    for i in range(count):
        while pos < len(body) and body[pos:pos + 1] in (b"\n", b" "):
            pos += 1
        space = body.find(b" ", pos)
        if space < 0 or space + 1 + row_bytes > len(body):
            raise InputFileError(f"{path}: truncated: header says {count} words, file ends in word {i + 1}")
        try:
            words.append(body[pos:space].decode("utf-8"))
        except UnicodeDecodeError as e:
            raise InputFileError(f"{path}: word {i + 1} is not valid UTF-8 ({e.reason})") from e
        rows.append(body[space + 1:space + 1 + row_bytes])
        pos = space + 1 + row_bytes
    extra = body[pos:].strip(b"\n")
    if extra:
        raise InputFileError(f"{path}: {len(extra)} bytes follow the {count} words the header announces")
    return words, np.frombuffer(b"".join(rows), dtype="<f4").reshape(count, dim).astype(np.float32)


def unique_vectors(words: list[str], emb: np.ndarray, path: str) -> Vectors:
    """Vectors of (words, emb); a word appearing twice is an error naming it."""
    if len(set(words)) != len(words):
        seen: set[str] = set()
        dup = next(w for w in words if w in seen or seen.add(w))
        raise InputFileError(f"{path}: word {dup!r} appears more than once")
    return Vectors(words, emb)


def parse_word2vec(data: bytes, path: str, binary: bool | None = None) -> Vectors:
    """word2vec text or binary from the file's bytes; `binary=None` detects the format: the one the
    first record suggests is tried first, then the other; if both fail, the error reported is the
    text one when the first record's values are ASCII (as text values always are), else the binary one."""
    header, _, body = data.partition(b"\n")
    count, dim = parse_header(header, path)
    if binary is not None:
        return unique_vectors(*(read_binary_body if binary else read_text_body)(body, count, dim, path), path)
    readers = [read_binary_body, read_text_body] if looks_binary(body, dim) else [read_text_body, read_binary_body]
    errors = {}
    for reader in readers:
        try:
            return unique_vectors(*reader(body, count, dim, path), path)
        except InputFileError as e:
            errors[reader] = e
    raise errors[read_text_body if first_record_values(body).isascii() else read_binary_body]


def load_word2vec(path: str | os.PathLike, binary: bool | None = None) -> Vectors:
    """Read word2vec text or binary vectors; `binary=None` detects the format from the first record."""
    path = os.fspath(path)
    return parse_word2vec(read_vectors_file(path), path, binary)
