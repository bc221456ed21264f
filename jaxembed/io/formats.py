"""Vectors files in every supported format, the format detected from the content.

word2vec text and binary start with a `<count> <dim>` line (fastText's .vec is word2vec text);
a fastText `.bin` model starts with fastText's magic number (io.fasttext; read only: it answers OOV
words too); an `.npz` archive holds sparse vectors (io.sparse: the ppmi model's rows); any other first line means GloVe
text. The text and word2vec formats may be gzip-compressed
(jaxembed.io.files).
"""
from __future__ import annotations

import os

from jaxembed.errors import ConfigError
from jaxembed.io.fasttext import is_fasttext_model, load_fasttext_model
from jaxembed.io.files import file_path, open_vectors_file, readable_again
from jaxembed.io.glove import read_glove, save_glove
from jaxembed.io.sparse import is_sparse_vectors, load_sparse
from jaxembed.io.word2vec import is_header, load_word2vec, save_word2vec, vectors_argument
from jaxembed.vectors import Vectors

FORMATS = ("word2vec", "word2vec-binary", "glove")
READ_FORMATS = FORMATS + ("fasttext-bin", "sparse-npz")


def format_argument(format, formats: tuple[str, ...]) -> str | None:
    """`format` if it is one of `formats` (or None, for detection when reading), else ConfigError."""
    if format is not None and format not in formats:
        raise ConfigError(f"format must be one of {', '.join(formats)}, got {format!r}")
    return format


def detect_format(data: bytes) -> str:
    """"word2vec" (text or binary: load_word2vec tells them apart) or "glove", from the file's first line
    (`data`: the start of the file, or all of it)."""
    if not isinstance(data, (bytes, bytearray)):
        raise ConfigError(f"data must be bytes (the start of a vectors file), got {type(data).__name__}")
    return "word2vec" if is_header(bytes(data).split(b"\n", 1)[0]) else "glove"


def load_vectors(path: str | os.PathLike, format: str | None = None) -> Vectors:
    """Read vectors in `format` (one of READ_FORMATS; None detects it); errors are InputFileError naming the file."""
    path, format = file_path(path), format_argument(format, READ_FORMATS)
    with readable_again(path) as readable:
        return load_file(readable, format)


def load_file(path: str, format: str | None) -> Vectors:
    """`load_vectors` of a file that can be opened more than once."""
    if format == "fasttext-bin" or (format is None and is_fasttext_model(path)):
        return load_fasttext_model(path).vectors()
    if format == "sparse-npz" or (format is None and is_sparse_vectors(path)):
        return load_sparse(path)
    if format is None or format == "glove":
        with open_vectors_file(path) as stream:
            first_line = stream.first_line()
            if format == "glove" or detect_format(first_line) == "glove":
                return read_glove(stream, first_line)
    return load_word2vec(path, binary=True if format == "word2vec-binary" else None)


def save_vectors(path: str | os.PathLike, vectors: Vectors, format: str) -> None:
    """Write vectors atomically in `format`: "word2vec" (text), "word2vec-binary" or "glove" (text);
    gzip-compressed for a path ending in `.gz`."""
    path, vectors = file_path(path), vectors_argument(vectors)
    if format_argument(format, FORMATS) is None:
        raise ConfigError(f"format must be one of {', '.join(FORMATS)}, got None")
    if format == "glove":
        save_glove(path, vectors)
    else:
        save_word2vec(path, vectors, binary=format == "word2vec-binary")
