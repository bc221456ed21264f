"""GloVe's binary co-occurrence file (`cooccurrence.bin`, as GloVe's `cooccur` writes and `glove` reads it):
one record per nonzero, int32 word1, int32 word2 (1-based vocabulary ranks), float64 count, little-endian."""
from __future__ import annotations

import os

import numpy as np

from jaxembed.data.cooccur import Cooccurrences
from jaxembed.errors import InputFileError
from jaxembed.io.atomic import atomic_open

GLOVE_RECORD = np.dtype([("word1", "<i4"), ("word2", "<i4"), ("value", "<f8")])
"""GloVe's CREC record."""


def save_cooccurrences(path: str | os.PathLike, cooc: Cooccurrences) -> None:
    """Write `cooc` as GloVe's binary co-occurrence file, atomically."""
    records = np.empty(len(cooc), GLOVE_RECORD)
    records["word1"], records["word2"], records["value"] = cooc.rows_N + 1, cooc.cols_N + 1, cooc.values_N
    with atomic_open(path, "wb") as f:
        records.tofile(f)


def load_cooccurrences(path: str | os.PathLike, vocab_size: int) -> Cooccurrences:
    """Read a GloVe binary cooccurrence file for a vocabulary of `vocab_size` words."""
    path = os.fspath(path)
    try:
        size = os.path.getsize(path)
        if size % GLOVE_RECORD.itemsize:
            raise InputFileError(f"cooccurrence file {path!r}: size {size} is not a multiple of the "
                                 f"{GLOVE_RECORD.itemsize}-byte record (int32, int32, float64)")
        records = np.fromfile(path, GLOVE_RECORD)
    except OSError as e:
        raise InputFileError(f"cooccurrence file {path!r} cannot be read: {e.strerror or e}") from e
    rows, cols = records["word1"].astype(np.int64) - 1, records["word2"].astype(np.int64) - 1
    bad = (rows < 0) | (rows >= vocab_size) | (cols < 0) | (cols >= vocab_size) | ~np.isfinite(records["value"])
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputFileError(f"cooccurrence file {path!r}: record {first} has word ids ({rows[first] + 1}, "
                             f"{cols[first] + 1}) outside 1..{vocab_size} or a non-finite value")
    return Cooccurrences(rows.astype(np.int32), cols.astype(np.int32), records["value"].copy(), vocab_size)
