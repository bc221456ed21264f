"""GloVe text format (GloVe C's `vectors.txt`): per word `word v_1 ... v_D\\n`, no header.

D is the number of values on the first non-blank line; every line must have as many. Read as a stream like
word2vec text (jaxembed.io.word2vec), with the same errors: InputFileError naming the file, the line and the
problem. A first line of two numbers that is followed by longer lines is a broken word2vec header (`5.0 3`,
`-5 3`), and reported as one.
"""
from __future__ import annotations

import itertools
import os

from jaxembed.errors import InputFileError
from jaxembed.io.files import (FIRST_LINE_MAX_BYTES, VectorsStream, checked_vectors, file_path, max_line_bytes,
                               open_output, open_vectors_file)
from jaxembed.io.word2vec import header_problem, read_text_records, record_lines, vectors_argument, write_text_rows
from jaxembed.vectors import Vectors

CAPACITY_MARGIN = 1.25
"""Rows reserved (without memory until filled) beyond the file size divided by its first line's length."""


def save_glove(path: str | os.PathLike, vectors: Vectors) -> None:
    """Write `vectors` to `path` atomically in GloVe text format (gzip-compressed for a path ending in `.gz`)."""
    path, vectors = file_path(path), vectors_argument(vectors)
    with open_output(path) as f:
        write_text_rows(f, vectors)


def first_record_line(stream: VectorsStream, first_line: bytes) -> bytes:
    """The first non-blank line, from line 1 (`first_line`, already read) on."""
    line = first_line
    while line and not line.strip():
        line = stream.readline(FIRST_LINE_MAX_BYTES)
    if not line:
        raise InputFileError(f"{stream.path}: vectors file is empty")
    return line


def read_glove(stream: VectorsStream, first_line: bytes) -> Vectors:
    """GloVe text from `stream`, whose line 1 `first_line` has been read (blank lines are skipped)."""
    path, line = stream.path, first_record_line(stream, first_line)
    lineno, dim = stream.lineno, len(line.split()) - 1
    if dim < 1 or b"\0" in line:
        raise InputFileError(f"{path}: line {lineno} {line.rstrip()[:80]!r} is neither a word2vec header "
                             "'<vocab_size> <dim>' nor a GloVe line 'word v_1 ... v_D'"
                             + (" (it holds a NUL byte: binary data?)" if b"\0" in line else ""))
    lines = record_lines(stream, max_line_bytes(dim))
    second = list(itertools.islice(lines, 1))
    problem = header_problem(line)
    if problem and second and len(second[0][1].split()) != 2:
        raise InputFileError(f"{path}: line {lineno} {line.rstrip()[:80]!r} looks like a word2vec header "
                             f"'<vocab_size> <dim>' but is not one: {problem}")
    capacity = stream.capacity(record_bytes=len(line) / CAPACITY_MARGIN)
    return checked_vectors(read_text_records(itertools.chain([(lineno, line)], second, lines), dim, path, capacity), path)


def load_glove(path: str | os.PathLike) -> Vectors:
    """Read GloVe text vectors (gzip-compressed too)."""
    path = file_path(path)
    with open_vectors_file(path) as stream:
        return read_glove(stream, stream.first_line())
