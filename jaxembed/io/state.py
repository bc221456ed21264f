"""What continued training starts from (`--init-from`): a run's saved tables (`--save-state`), or any vectors file.

DIR/state.msgpack (flax.serialization msgpack) holds {"version": 1, "model": str, "words": [str], "counts": (V,)
int64, "input_VxD": (V, D) float32, "output_VxD": (V, D) float32, absent without negative sampling}: the
vocabulary with its corpus counts, the input vectors (word2vec's syn0) and the negative-sampling output rows
(syn1neg), row v for words[v]. A vectors file gives the input vectors only, with counts unknown (0).
"""
from __future__ import annotations

import dataclasses
import os

import flax.serialization
import msgpack
import numpy as np

from jaxembed.errors import InputFileError
from jaxembed.io.atomic import atomic_open
from jaxembed.io.formats import load_vectors
from jaxembed.vectors import SparseVectors

STATE_NAME = "state.msgpack"
STATE_VERSION = 1


@dataclasses.dataclass(frozen=True)
class EarlierTables:
    """An earlier run's words (V,), their counts (V,) int64 (0: unknown), input rows (V, D) and negative-sampling
    output rows (V, D) or None."""

    words: list[str]
    counts: np.ndarray
    input_VxD: np.ndarray
    output_VxD: np.ndarray | None
    model: str | None = None

    @property
    def dim(self) -> int:
        return self.input_VxD.shape[1]


def save_state(path: str | os.PathLike, tables: EarlierTables) -> None:
    payload = {"version": STATE_VERSION, "model": tables.model or "", "words": list(tables.words),
               "counts": np.asarray(tables.counts, np.int64), "input_VxD": np.asarray(tables.input_VxD, np.float32)}
    if tables.output_VxD is not None:
        payload["output_VxD"] = np.asarray(tables.output_VxD, np.float32)
    with atomic_open(path, "wb") as f:
        f.write(flax.serialization.msgpack_serialize(payload))


def load_state(path: str | os.PathLike) -> EarlierTables:
    """The tables in a state.msgpack; InputFileError naming the file when it is not one."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            payload = flax.serialization.msgpack_restore(f.read())
        if payload.get("version") != STATE_VERSION:
            raise ValueError(f"version {payload.get('version')!r}, this jaxembed reads {STATE_VERSION}")
        words, counts = [str(w) for w in payload["words"]], np.asarray(payload["counts"], np.int64)
        input_VxD = np.asarray(payload["input_VxD"], np.float32)
        output_VxD = np.asarray(payload["output_VxD"], np.float32) if "output_VxD" in payload else None
        if counts.shape != (len(words),) or input_VxD.shape[0] != len(words) or (
                output_VxD is not None and output_VxD.shape != input_VxD.shape):
            raise ValueError(f"{len(words)} words, counts {counts.shape}, tables {input_VxD.shape} and "
                             f"{None if output_VxD is None else output_VxD.shape}")
        return EarlierTables(words, counts, input_VxD, output_VxD, str(payload.get("model")) or None)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, msgpack.exceptions.ExtraData,
            msgpack.exceptions.FormatError, msgpack.exceptions.StackError) as e:
        raise InputFileError(f"saved state {path!r} cannot be read: {e}") from e


def earlier_tables(source: str | os.PathLike) -> EarlierTables:
    """The tables at `source`: a run directory (its state.msgpack, else its vectors.txt) or a vectors file in any
    format jaxembed reads (io.formats)."""
    source = os.fspath(source)
    if os.path.isdir(source):
        state, vectors = os.path.join(source, STATE_NAME), os.path.join(source, "vectors.txt")
        if os.path.isfile(state):
            return load_state(state)
        if not os.path.isfile(vectors):
            raise InputFileError(f"init_from {source!r} is a directory without {STATE_NAME} or vectors.txt")
        source = vectors
    loaded = load_vectors(source)
    if isinstance(loaded, SparseVectors):
        raise InputFileError(f"init_from {source!r} holds sparse vectors (the ppmi model's); dense vectors are needed")
    return EarlierTables(list(loaded.words), np.zeros(len(loaded), np.int64), np.asarray(loaded.vectors), None)
