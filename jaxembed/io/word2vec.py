"""word2vec text and binary formats (word2vec.c, gensim `KeyedVectors.load_word2vec_format`).

Text:   `V D\\n` then per word `word v_1 ... v_D\\n`.
Binary: `V D\\n` then per word `word ` + D little-endian float32 + `\\n` (as word2vec.c writes; the
        trailing newline is optional on reading, as gensim writes none).
"""
from __future__ import annotations

import io
import os

import numpy as np

from jaxembed.errors import InputFileError
from jaxembed.io.atomic import atomic_open
from jaxembed.vectors import Vectors, encode_word

TEXT_FORMAT = "%.6g"


def save_word2vec(path: str | os.PathLike, vectors: Vectors, binary: bool = False) -> None:
    """Write `vectors` to `path` atomically in word2vec text (default) or binary format."""
    emb_VxD = np.asarray(vectors.vectors, dtype=np.float32)
    with atomic_open(path, "wb") as f:
        f.write(f"{len(vectors)} {vectors.dim}\n".encode())
        if binary:
            for word, row in zip(vectors.words, emb_VxD):
                f.write(encode_word(word) + b" " + row.astype("<f4").tobytes() + b"\n")
        else:
            text = io.StringIO()
            np.savetxt(text, emb_VxD, fmt=TEXT_FORMAT, delimiter=" ")
            for word, line in zip(vectors.words, text.getvalue().splitlines()):
                f.write(encode_word(word) + f" {line}\n".encode())


def parse_header(line: bytes, path: str) -> tuple[int, int]:
    """`V D` header -> (V, D), or a clear error naming the file."""
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise InputFileError(f"{path}: first line must be '<vocab_size> <dim>', got {line[:80]!r}")
    count, dim = int(parts[0]), int(parts[1])
    if dim <= 0:
        raise InputFileError(f"{path}: header dimension must be positive, got {dim}")
    return count, dim


def looks_binary(body: bytes, dim: int) -> bool:
    """True if the first record after the header is not a text line of `dim` numbers."""
    first_line = body.split(b"\n", 1)[0]
    try:
        fields = first_line.decode("utf-8").rstrip().split(" ")
        np.asarray(fields[1:], dtype=np.float32)
    except (UnicodeDecodeError, ValueError):
        return True
    return len(fields) != dim + 1


def read_text_body(body: bytes, count: int, dim: int, path: str) -> tuple[list[str], np.ndarray]:
    lines = [l for l in body.split(b"\n") if l.strip()]
    if len(lines) != count:
        raise InputFileError(f"{path}: header says {count} words but the file has {len(lines)} vector lines")
    words, values = [], []
    for lineno, line in enumerate(lines, start=2):
        try:
            word, _, rest = line.decode("utf-8").rstrip().partition(" ")
        except UnicodeDecodeError as e:
            raise InputFileError(f"{path}: line {lineno} is not valid UTF-8 ({e.reason})") from e
        fields = rest.split()
        if len(fields) != dim:
            raise InputFileError(f"{path}: line {lineno} ({word!r}) has {len(fields)} values, header says {dim}")
        words.append(word)
        values.append(rest)
    try:
        emb = np.array(" ".join(values).split(), dtype=np.float32).reshape(count, dim)
    except ValueError as e:
        raise InputFileError(f"{path}: a vector value is not a number ({e})") from e
    return words, emb


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
    if body[pos:].strip(b"\n"):
        raise InputFileError(f"{path}: {len(body) - pos} bytes follow the {count} words the header announces")
    return words, np.frombuffer(b"".join(rows), dtype="<f4").reshape(count, dim).astype(np.float32)


def load_word2vec(path: str | os.PathLike, binary: bool | None = None) -> Vectors:
    """Read word2vec text or binary vectors; `binary=None` detects the format from the first record."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputFileError(f"{path}: cannot read vectors file: {e.strerror or e}") from e
    header, _, body = data.partition(b"\n")
    count, dim = parse_header(header, path)
    if binary is None:
        binary = looks_binary(body, dim)
    reader = read_binary_body if binary else read_text_body
    words, emb = reader(body, count, dim, path)
    if len(set(words)) != len(words):
        seen: set[str] = set()
        dup = next(w for w in words if w in seen or seen.add(w))
        raise InputFileError(f"{path}: word {dup!r} appears more than once")
    return Vectors(words, emb)
