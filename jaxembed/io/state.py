"""What continued training starts from (`--init-from`): a run's saved tables (`--save-state`), a fastText model,
or any vectors file.

DIR/state.msgpack (flax.serialization msgpack) holds {"version": 1, "model": str, "words": [str], "counts": (V,)
int64, "input_VxD": (V, D) float32, "output_VxD": (V, D) float32, absent without negative sampling}: the
vocabulary with its corpus counts, the input vectors (word2vec's syn0) and the negative-sampling output rows
(syn1neg), row v for words[v]. A fastText `.bin` (jaxembed's model.bin or the official tool's) holds the same
for fastText, plus its n-gram bucket rows. A vectors file gives the input vectors only, with counts unknown (0).
"""
from __future__ import annotations

import collections
import dataclasses
import os

import flax.serialization
import msgpack
import numpy as np

from jaxembed.config import FAMILIES
from jaxembed.errors import InputFileError
from jaxembed.io.atomic import atomic_open
from jaxembed.io.fasttext import is_fasttext_model, load_fasttext_model
from jaxembed.io.formats import load_vectors
from jaxembed.vectors import SparseVectors, encode_word

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
    buckets_BxD: np.ndarray | None = None
    subwords: tuple[int, int, int] | None = None
    """fastText models: the n-gram bucket rows, and (bucket, minn, maxn) that hash n-grams into them."""
    word_vectors_VxD: np.ndarray | None = None
    """fastText models: the word vectors as fastText computes them (the mean of the word's and its n-grams' rows)."""

    @property
    def dim(self) -> int:
        return self.input_VxD.shape[1]

    @property
    def family(self) -> str | None:
        """The model family that wrote these tables (None: a vectors file)."""
        return next((family for family, models in FAMILIES.items() if self.model in models), None)

    def known_counts(self) -> collections.Counter:
        """word (bytes) -> count: the earlier vocabulary a continued run extends (data.vocab.build_vocab)."""
        return collections.Counter(dict(zip(map(encode_word, self.words), self.counts.tolist())))

    def shared_rows(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(rows in `words`, rows here) of the words both vocabularies hold, (N,) int64 each."""
        position = {w: i for i, w in enumerate(self.words)}
        new = np.array([i for i, w in enumerate(words) if w in position], np.int64)
        return new, np.array([position[words[i]] for i in new], np.int64)

    def for_family(self, family: str) -> "EarlierTables":
        """The tables as a model of `family` continues from them: all of them from its own family; from another,
        the word vectors alone (GloVe's W without its bias, fastText's word vectors)."""
        if self.family == family:
            return self
        vectors = self.word_vectors_VxD if self.word_vectors_VxD is not None else self.input_VxD
        return EarlierTables(self.words, self.counts, vectors[:, :-1] if self.family == "glove" else vectors, None)


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
        return EarlierTables(words, counts, input_VxD, output_VxD, payload.get("model") or None)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, msgpack.exceptions.ExtraData,
            msgpack.exceptions.FormatError, msgpack.exceptions.StackError) as e:
        raise InputFileError(f"saved state {path!r} cannot be read: {e}") from e


def fasttext_tables(path: str) -> EarlierTables:
    """The words, counts, word rows, output rows and bucket rows of a fastText `.bin` (unsupervised)."""
    model = load_fasttext_model(path)
    words = model.nwords
    if model.output_OxD.shape[0] != words:
        raise InputFileError(f"init_from {path!r} is a supervised fastText model ({model.output_OxD.shape[0]} output "
                             f"rows for {words} words): continued training needs an unsupervised one")
    return EarlierTables([w.decode("utf-8", "surrogateescape") for w in model.entries[:words]], model.counts[:words],
                         model.input_RxD[:words], model.output_OxD, "fasttext", model.input_RxD[words:],
                         (model.args.bucket, model.args.minn, model.args.maxn), model.vectors().vectors)


def earlier_tables(source: str | os.PathLike, family: str) -> EarlierTables:
    """The tables at `source` as a model of `family` continues from them (`EarlierTables.for_family`): a run
    directory (its state.msgpack, else its model.bin, else its vectors.txt), a fastText `.bin`, or a vectors file in
    any format jaxembed reads (io.formats)."""
    return read_tables(os.fspath(source)).for_family(family)


def read_tables(source: str) -> EarlierTables:
    """The tables at `source` as written (`earlier_tables`)."""
    if os.path.isdir(source):
        found = [os.path.join(source, name) for name in (STATE_NAME, "model.bin", "vectors.txt")
                 if os.path.isfile(os.path.join(source, name))]
        if not found:
            raise InputFileError(f"init_from {source!r} is a directory without {STATE_NAME}, model.bin or vectors.txt")
        source = found[0]
    if source.endswith(STATE_NAME):
        return load_state(source)
    if is_fasttext_model(source):
        return fasttext_tables(source)
    loaded = load_vectors(source)
    if isinstance(loaded, SparseVectors):
        raise InputFileError(f"init_from {source!r} holds sparse vectors (the ppmi model's); dense vectors are needed")
    return EarlierTables(list(loaded.words), np.zeros(len(loaded), np.int64), np.asarray(loaded.vectors), None)
