"""fastText's model file (`.bin`, format versions 11 and 12) and its `.vec` text vectors.

`.bin` layout (little-endian), as FastText::saveModel writes it:
    int32 magic 793712314, int32 version (12; 11 is read too)
    args:  int32 dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn,
           lrUpdateRate; float64 t
    dict:  int32 size, nwords, nlabels; int64 ntokens, pruneidx_size (−1: not pruned);
           size × (word bytes, NUL, int64 count, int8 type [0 word, 1 label])
    bool quantised input; input matrix: int64 rows, int64 cols, rows·cols float32
    bool quantised output; output matrix: same
Quantised models (`.ftz`) and the pre-version-11 format are rejected with a clear message.
`.vec` is the word2vec text format (header `nwords dim`, then `word v_1 .. v_D`), holding each
word's vector as fastText's getWordVector gives it.
"""
from __future__ import annotations

import dataclasses
import mmap
import os
import struct

import numpy as np

from jaxembed.data.ngrams import SubwordSpec, SubwordTable, subword_table
from jaxembed.errors import InputFileError
from jaxembed.io.atomic import atomic_open
from jaxembed.io.files import file_path, first_non_finite, non_finite_problem
from jaxembed.vectors import SubwordVectors, decode_word

MAGIC = 793712314
VERSION = 12
ARG_INTS = ("dim", "ws", "epoch", "min_count", "neg", "word_ngrams", "loss", "model", "bucket", "minn", "maxn",
            "lr_update_rate")
LOSS_IDS = {"hs": 1, "ns": 2, "softmax": 3, "ova": 4}
MODEL_IDS = {"cbow": 1, "skipgram": 2, "supervised": 3}
WORD, LABEL = 0, 1


@dataclasses.dataclass(frozen=True)
class FastTextArgs:
    """The hyperparameters stored in a `.bin` (fastText's names; loss and model as its enum ids)."""

    dim: int
    ws: int = 5
    epoch: int = 5
    min_count: int = 5
    neg: int = 5
    word_ngrams: int = 1
    loss: int = LOSS_IDS["ns"]
    model: int = MODEL_IDS["skipgram"]
    bucket: int = 2_000_000
    minn: int = 3
    maxn: int = 6
    lr_update_rate: int = 100
    t: float = 1e-4


@dataclasses.dataclass(frozen=True)
class FastTextModel:
    """A fastText model: args, dictionary (words then labels), input rows (words, then buckets) and
    output rows. entries: (size,) bytes; counts: (size,) int64; types: (size,) int8."""

    args: FastTextArgs
    entries: tuple[bytes, ...]
    counts: np.ndarray
    types: np.ndarray
    ntokens: int
    input_RxD: np.ndarray
    output_OxD: np.ndarray

    @property
    def nwords(self) -> int:
        return int(np.count_nonzero(self.types == WORD))

    @property
    def spec(self) -> SubwordSpec:
        return SubwordSpec(self.nwords, self.args.minn, self.args.maxn, self.args.bucket)

    def subwords(self) -> SubwordTable:
        return subword_table(self.entries[:self.nwords], self.spec)

    def vectors(self, table: SubwordTable | None = None) -> SubwordVectors:
        """Word vectors (fastText's getWordVector for every word) that also answer OOV words;
        `table`: this model's `subwords()`, when already computed."""
        words = [decode_word(w) for w in self.entries[:self.nwords]]
        return SubwordVectors.from_rows(words, self.input_RxD, table or self.subwords(), self.spec)


def unsupervised_model(words: tuple[bytes, ...], counts_V: np.ndarray, ntokens: int, input_RxD: np.ndarray,
                       output_VxD: np.ndarray, *, cbow: bool, ws: int, epoch: int, min_count: int, neg: int,
                       bucket: int, minn: int, maxn: int, t: float) -> FastTextModel:
    """A trained unsupervised model (skip-gram or CBOW with negative sampling), its arguments under fastText's
    names; `ntokens`: the corpus's tokens, as fastText counts them."""
    args = FastTextArgs(dim=input_RxD.shape[1], ws=ws, epoch=epoch, min_count=min_count, neg=neg, loss=LOSS_IDS["ns"],
                        model=MODEL_IDS["cbow" if cbow else "skipgram"], bucket=bucket, minn=minn, maxn=maxn, t=t)
    return FastTextModel(args, words, np.asarray(counts_V, np.int64), np.full(len(words), WORD, np.int8), ntokens,
                         input_RxD, output_VxD)


class BinaryReader:
    """Sequential reads from a memory-mapped file, each failing with a message naming the file and field."""

    def __init__(self, data: mmap.mmap | bytes, path: str):
        self.data, self.path, self.pos = data, path, 0

    def skip(self, size: int, what: str) -> int:
        """Move past `size` bytes; where they start."""
        if size < 0 or self.pos + size > len(self.data):
            raise InputFileError(f"{self.path}: truncated fastText model: file ends inside {what} (byte {self.pos})")
        self.pos += size
        return self.pos - size

    def take(self, size: int, what: str) -> bytes:
        start = self.skip(size, what)
        return self.data[start:self.pos]

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def cstring(self, what: str) -> bytes:
        end = self.data.find(b"\0", self.pos)
        if end < 0:
            raise InputFileError(f"{self.path}: truncated fastText model: no end to {what} (byte {self.pos})")
        word = self.data[self.pos:end]
        self.pos = end + 1
        return bytes(word)

    def matrix(self, what: str) -> np.ndarray:
        rows, cols = self.unpack("qq", f"the {what} matrix shape")
        if rows < 0 or cols < 0:
            raise InputFileError(f"{self.path}: {what} matrix has a negative shape ({rows}, {cols})")
        start = self.skip(4 * rows * cols, f"the {what} matrix ({rows} x {cols} float32)")
        return np.frombuffer(self.data, dtype="<f4", count=rows * cols, offset=start).reshape(rows, cols).astype(np.float32)


def read_header(reader: BinaryReader) -> FastTextArgs:
    """Magic, version and args; rejects other formats with a message saying which."""
    magic, version = reader.unpack("ii", "the header")
    if magic != MAGIC:
        raise InputFileError(f"{reader.path}: not a fastText .bin model (magic number {magic}, expected {MAGIC}); "
                             "files from fastText releases before 2017 (format < 11) are not supported")
    if version not in (11, VERSION):
        raise InputFileError(f"{reader.path}: fastText format version {version} is not supported (11 and 12 are)")
    values = reader.unpack("12id", "the training arguments")
    args = FastTextArgs(*values)
    if version == 11 and args.model == MODEL_IDS["supervised"]:  # fastText: old supervised models had no char n-grams
        args = dataclasses.replace(args, maxn=0)
    if args.dim <= 0 or args.bucket < 0:
        raise InputFileError(f"{reader.path}: invalid arguments in the model header (dim {args.dim}, bucket {args.bucket})")
    return args


def read_dictionary(reader: BinaryReader):
    """(entries, counts, types, ntokens) of the model's dictionary.

    A pruned dictionary (pruneidx_size >= 0) only comes with a quantised model; fastText itself
    refuses it in an unquantised one ("Invalid model file"), and so do we.
    """
    size, nwords, nlabels, ntokens, prune_size = reader.unpack("iiiqq", "the dictionary header")
    if size < 0 or nwords < 0 or nlabels < 0 or nwords + nlabels != size:
        raise InputFileError(f"{reader.path}: inconsistent dictionary sizes (size {size}, words {nwords}, labels {nlabels})")
    if prune_size >= 0:
        raise InputFileError(f"{reader.path}: pruned dictionary ({prune_size} kept buckets): a quantised (.ftz) "
                             "model, which is not supported")
    entries, counts, types = [], np.zeros(size, np.int64), np.zeros(size, np.int8)
    for i in range(size):
        entries.append(reader.cstring(f"dictionary entry {i + 1} of {size}"))
        counts[i], types[i] = reader.unpack("qb", f"dictionary entry {i + 1} of {size}")
    if np.any(types[:nwords] != WORD) or np.any(types[nwords:] != LABEL):
        raise InputFileError(f"{reader.path}: dictionary entries are not {nwords} words followed by {nlabels} labels")
    if len(set(entries)) != size:
        raise InputFileError(f"{reader.path}: the dictionary holds a word more than once")
    return tuple(entries), counts, types, int(ntokens)


def load_fasttext_model(path: str | os.PathLike) -> FastTextModel:
    """Read an official fastText `.bin` model (format 11 or 12, not quantised)."""
    path = file_path(path)
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return parse_model(BinaryReader(data, path))
    except (OSError, ValueError) as e:  # ValueError: mmap of an empty file
        raise InputFileError(f"{path}: cannot read fastText model: {getattr(e, 'strerror', None) or e}") from e


def parse_model(reader: BinaryReader) -> FastTextModel:
    args = read_header(reader)
    entries, counts, types, ntokens = read_dictionary(reader)
    (quantised,) = reader.unpack("?", "the input quantisation flag")
    if quantised:
        raise InputFileError(f"{reader.path}: quantised fastText models (.ftz) are not supported; use the .bin")
    input_RxD = reader.matrix("input")
    (quantised_out,) = reader.unpack("?", "the output quantisation flag")
    output_OxD = reader.matrix("output")
    nwords = int(np.count_nonzero(types == WORD))
    expected_rows = nwords + args.bucket
    if input_RxD.shape != (expected_rows, args.dim):
        raise InputFileError(f"{reader.path}: input matrix is {input_RxD.shape}, expected ({expected_rows}, {args.dim}) "
                             f"for {nwords} words and {args.bucket} buckets")
    if output_OxD.shape[1] != args.dim:
        raise InputFileError(f"{reader.path}: output matrix has {output_OxD.shape[1]} columns, expected {args.dim}")
    if reader.pos != len(reader.data):
        raise InputFileError(f"{reader.path}: {len(reader.data) - reader.pos} unexpected bytes after the model")
    check_finite(input_RxD, output_OxD, entries[:nwords], reader.path)
    return FastTextModel(args, entries, counts, types, ntokens, input_RxD, output_OxD)


def check_finite(input_RxD: np.ndarray, output_OxD: np.ndarray, words: tuple[bytes, ...], path: str) -> None:
    """InputFileError naming the row (and its word) of the first NaN or infinite value of either matrix."""
    for what, matrix in (("input", input_RxD), ("output", output_OxD)):
        bad = first_non_finite(matrix)
        if bad is None:
            continue
        row, value = bad
        place = f"row {row} of the {what} matrix"
        if what == "input":
            place += f" (word {row + 1}, {decode_word(words[row])!r})" if row < len(words) else f" (n-gram bucket {row - len(words)})"
        raise InputFileError(f"{path}: {place} has {non_finite_problem(value)}; vectors must be finite")


def save_fasttext_model(path: str | os.PathLike, model: FastTextModel) -> None:
    """Write `model` as an official fastText `.bin` (format 12) atomically; fastText's load_model reads it."""
    with atomic_open(path, "wb") as f:
        write_fasttext_model(f, model)


def write_fasttext_model(f, model: FastTextModel) -> None:
    """The `.bin` bytes of `model` (module docstring) to the binary file object `f`."""
    a, nwords = model.args, model.nwords
    f.write(struct.pack("<ii", MAGIC, VERSION))
    f.write(struct.pack("<12id", *(getattr(a, name) for name in ARG_INTS), a.t))
    f.write(struct.pack("<iiiqq", len(model.entries), nwords, len(model.entries) - nwords, model.ntokens, -1))
    f.write(b"".join(word + b"\0" + struct.pack("<qb", int(count), int(kind))
                     for word, count, kind in zip(model.entries, model.counts, model.types)))
    for matrix in (model.input_RxD, model.output_OxD):
        f.write(struct.pack("<?qq", False, *matrix.shape))
        f.write(np.ascontiguousarray(matrix, dtype="<f4").tobytes())


def is_fasttext_model(path: str | os.PathLike) -> bool:
    """True if the file starts with fastText's magic number (False if it cannot be read: the reader reports that)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return len(head) == 4 and struct.unpack("<i", head)[0] == MAGIC


def load_fasttext(path: str | os.PathLike):
    """fastText vectors from a `.bin` model (answers OOV words from their n-grams) or a `.vec` file
    (word2vec text: vocabulary words only)."""
    path = file_path(path)
    if is_fasttext_model(path) or path.endswith(".bin"):
        return load_fasttext_model(path).vectors()
    from jaxembed.io.word2vec import load_word2vec
    return load_word2vec(path, binary=False)

