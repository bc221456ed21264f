"""Vectors files in every supported format, the format detected from the content.

word2vec text and binary start with a `<count> <dim>` line (fastText's .vec is word2vec text);
a fastText `.bin` model starts with fastText's magic number (io.fasttext; read only: it answers OOV
words too); any other first line means GloVe text.
"""
from __future__ import annotations

import os

from jaxembed.errors import ConfigError
from jaxembed.io.fasttext import is_fasttext_model, load_fasttext_model
from jaxembed.io.glove import parse_glove, save_glove
from jaxembed.io.word2vec import is_header, parse_word2vec, read_vectors_file, save_word2vec
from jaxembed.vectors import Vectors

FORMATS = ("word2vec", "word2vec-binary", "glove")
READ_FORMATS = FORMATS + ("fasttext-bin",)


def detect_format(data: bytes) -> str:
    """"word2vec" (text or binary: parse_word2vec tells them apart) or "glove", from the file's bytes."""
    return "word2vec" if is_header(data.split(b"\n", 1)[0]) else "glove"


def load_vectors(path: str | os.PathLike, format: str | None = None) -> Vectors:
    """Read vectors in `format` (one of READ_FORMATS; None detects it); errors are InputFileError naming the file."""
    path = os.fspath(path)
    if format is not None and format not in READ_FORMATS:
        raise ConfigError(f"format must be one of {', '.join(READ_FORMATS)}, got {format!r}")
    if format == "fasttext-bin" or (format is None and is_fasttext_model(path)):
        return load_fasttext_model(path).vectors()
    data = read_vectors_file(path)
    format = format or detect_format(data)
    if format == "glove":
        return parse_glove(data, path)
    return parse_word2vec(data, path, binary={"word2vec": None, "word2vec-binary": True}[format])


def save_vectors(path: str | os.PathLike, vectors: Vectors, format: str) -> None:
    """Write vectors atomically in `format`: "word2vec" (text), "word2vec-binary" or "glove" (text)."""
    if format not in FORMATS:
        raise ConfigError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    if format == "glove":
        save_glove(path, vectors)
    else:
        save_word2vec(path, vectors, binary=format == "word2vec-binary")
