"""GloVe text format (GloVe C's `vectors.txt`): per word `word v_1 ... v_D\\n`, no header.

D is the number of values on the first line; every line must have as many. Errors as for word2vec
text (jaxembed.io.word2vec): InputFileError naming the file, the line and the problem.
"""
from __future__ import annotations

import os

from jaxembed.errors import InputFileError
from jaxembed.io.atomic import atomic_open
from jaxembed.io.word2vec import parse_text_lines, read_vectors_file, unique_vectors, write_text_rows
from jaxembed.vectors import Vectors


def save_glove(path: str | os.PathLike, vectors: Vectors) -> None:
    """Write `vectors` to `path` atomically in GloVe text format."""
    with atomic_open(path, "wb") as f:
        write_text_rows(f, vectors)


def parse_glove(data: bytes, path: str) -> Vectors:
    """GloVe text from the file's bytes (blank lines are skipped)."""
    lines = [l for l in data.split(b"\n") if l.strip()]
    if not lines:
        raise InputFileError(f"{path}: vectors file is empty")
    dim = len(lines[0].split()) - 1
    if dim < 1:
        raise InputFileError(f"{path}: line 1 {lines[0][:80]!r} is neither a word2vec header '<vocab_size> <dim>' "
                             "nor a GloVe line 'word v_1 ... v_D'")
    return unique_vectors(*parse_text_lines(lines, dim, path, first_lineno=1), path)


def load_glove(path: str | os.PathLike) -> Vectors:
    """Read GloVe text vectors."""
    path = os.fspath(path)
    return parse_glove(read_vectors_file(path), path)
