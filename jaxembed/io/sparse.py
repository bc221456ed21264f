"""Sparse word vectors (the ppmi model's rows) in one `.npz` file: scipy.sparse's CSR layout, so that
`scipy.sparse.load_npz` reads the matrix, plus the words of its rows and columns.

    format    "csr"
    shape     (2,) int64: (V, C)
    data      (nnz,) float32 values, row by row
    indices   (nnz,) int32 column of each value, increasing within a row
    indptr    (V + 1,) int64: row r's values are data[indptr[r]:indptr[r + 1]]
    words     uint8: the words of the rows in order, UTF-8, each followed by a newline
    contexts  uint8: the context words of the columns, the same way (the ppmi model: the same vocabulary)

Written uncompressed with numpy (no pickled objects), atomically.
"""
from __future__ import annotations

import os
import zipfile

import numpy as np
import scipy.sparse

from jaxembed.errors import ConfigError, InputFileError
from jaxembed.io.atomic import atomic_open
from jaxembed.vectors import SparseVectors

ZIP_MAGIC = b"PK\x03\x04"
KEYS = ("format", "shape", "data", "indices", "indptr", "words", "contexts")


def is_sparse_vectors(path: str) -> bool:
    """Whether the file starts as a zip archive, an .npz file (False if it cannot be read: the reader reports that)."""
    try:
        with open(path, "rb") as f:
            return f.read(4) == ZIP_MAGIC
    except OSError:
        return False


def save_sparse(path: str | os.PathLike, vectors: SparseVectors, contexts: list[str] | None = None) -> None:
    """Write `vectors` (their `matrix` rows) with the column words `contexts` (default: the row words, which needs
    a square matrix)."""
    if not isinstance(vectors, SparseVectors):
        raise ConfigError(f"vectors must be SparseVectors, got {type(vectors).__name__}")
    contexts = vectors.words if contexts is None else list(contexts)
    matrix = vectors.matrix
    if len(contexts) != matrix.shape[1]:
        raise ConfigError(f"contexts: need {matrix.shape[1]} words, one per column, got {len(contexts)}")
    matrix = scipy.sparse.csr_array(matrix)
    matrix.sort_indices()
    with atomic_open(path, "wb") as f:
        np.savez(f, format=np.array("csr"), shape=np.array(matrix.shape, np.int64), data=matrix.data.astype(np.float32),
                 indices=matrix.indices.astype(np.int32), indptr=matrix.indptr.astype(np.int64),
                 words=word_bytes(vectors.words), contexts=word_bytes(contexts))


def word_bytes(words: list[str]) -> np.ndarray:
    """Words as one uint8 array: UTF-8, each followed by a newline (tokens never hold one)."""
    return np.frombuffer("".join(w + "\n" for w in words).encode("utf-8", "surrogateescape"), np.uint8)


def byte_words(array: np.ndarray) -> list[str]:
    """The words of `word_bytes`."""
    text = array.tobytes().decode("utf-8", "surrogateescape")
    return text.split("\n")[:-1] if text else []


def load_sparse(path: str | os.PathLike) -> SparseVectors:
    """The SparseVectors in a file written by `save_sparse`; InputFileError naming the file when it is not one."""
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [k for k in KEYS if k not in archive.files]
            if missing:
                raise InputFileError(f"{path!r} is an .npz file but not sparse vectors: it lacks {', '.join(missing)}")
            arrays = {k: archive[k] for k in KEYS}
        shape = tuple(int(n) for n in arrays["shape"])
        matrix = scipy.sparse.csr_array((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape)
        matrix.check_format(full_check=True)
        words, contexts = byte_words(arrays["words"]), byte_words(arrays["contexts"])
        if str(arrays["format"]) != "csr" or len(words) != shape[0] or len(contexts) != shape[1]:
            raise ValueError(f"format {str(arrays['format'])!r}, {len(words)} words and {len(contexts)} contexts for a "
                             f"{shape[0]} x {shape[1]} matrix")
        return SparseVectors(words, matrix)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, ConfigError) as e:
        if isinstance(e, InputFileError):
            raise
        raise InputFileError(f"sparse vectors file {path!r} cannot be read: {e}") from e
