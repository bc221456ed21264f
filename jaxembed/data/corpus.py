"""Streaming corpus reader: text8-style one-line files or one sentence per line, plain or gzip.

Tokens are whitespace-separated byte strings (decoded as UTF-8 only when written out). A line is a
sentence; a line longer than `max_sentence_length` tokens is cut into pieces of that length, as
gensim does (its `Text8Corpus`/`LineSentence` use 10,000), so windows never cross a cut.
"""
from __future__ import annotations

import collections
import gzip
import os
from collections.abc import Iterator
from itertools import repeat

import numpy as np

from jaxembed.errors import InputFileError

MAX_SENTENCE_LENGTH = 10_000
READ_BLOCK_BYTES = 1 << 22


def open_corpus(path: str | os.PathLike):
    """Open `path` for binary reading, decompressing `.gz` transparently."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputFileError(f"corpus file {path!r} does not exist")
    if os.path.isdir(path):
        raise InputFileError(f"corpus file {path!r} is a directory")
    try:
        return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")
    except OSError as e:
        raise InputFileError(f"corpus file {path!r} cannot be read: {e.strerror or e}") from e


def iter_line_pieces(path: str | os.PathLike, block_bytes: int = READ_BLOCK_BYTES,
                     eos: bytes | None = None) -> Iterator[tuple[list[bytes], bool]]:
    """Yield `(tokens, ends_line)` pieces of the corpus in file order.

    Reads fixed-size blocks so that memory stays bounded even for a file that is one huge line; a
    piece ends at a newline (`ends_line=True`) or on whitespace inside a long line, never inside a token.
    eos: a token appended to every newline-terminated line (fastText's `</s>`), or None.
    """
    line_end = [] if eos is None else [eos]
    carry = b""
    with open_corpus(path) as f:
        while True:
            try:
                block = f.read(block_bytes)
            except (OSError, EOFError) as e:
                raise InputFileError(f"corpus file {os.fspath(path)!r} is corrupt: {e}") from e
            if not block:
                break
            lines = (carry + block).split(b"\n")
            for line in lines[:-1]:
                yield line.split() + line_end, True
            last = lines[-1]
            cut = max(last.rfind(b" "), last.rfind(b"\t"), last.rfind(b"\r"))
            if cut >= 0:
                yield last[:cut].split(), False
                carry = last[cut + 1:]
            else:
                carry = last
    if carry.strip():
        yield carry.split(), True


def count_words(path: str | os.PathLike, eos: bytes | None = None) -> tuple[collections.Counter, int]:
    """Count every token of the corpus: (Counter bytes -> count in first-seen order, total tokens)."""
    counts: collections.Counter = collections.Counter()
    total = 0
    for tokens, _ in iter_line_pieces(path, eos=eos):
        counts.update(tokens)
        total += len(tokens)
    return counts, total


def sentence_ends(line_ends: np.ndarray, max_sentence_length: int) -> np.ndarray:
    """Token offsets where sentences end: line ends plus a cut every `max_sentence_length` tokens of a line.

    line_ends: (L,) increasing end offsets of the lines in the raw token stream.
    """
    starts = np.concatenate([[0], line_ends[:-1]])
    cuts = [np.arange(s + max_sentence_length, e, max_sentence_length) for s, e in zip(starts, line_ends) if e - s > max_sentence_length]
    return np.unique(np.concatenate([line_ends, *cuts])) if cuts else line_ends


def encode_corpus(path: str | os.PathLike, index: dict[bytes, int], max_sentence_length: int = MAX_SENTENCE_LENGTH,
                  eos: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Map the corpus to vocabulary ids, dropping out-of-vocabulary tokens.

    Returns (ids_N int32, sentence_ends_S int64): ids of in-vocabulary tokens in order, and the
    offsets into `ids_N` where each sentence ends (raw-token sentences, cut as `sentence_ends`).
    """
    id_blocks, raw_line_ends, raw_total = [], [], 0
    for tokens, ends_line in iter_line_pieces(path, eos=eos):
        id_blocks.append(np.fromiter(map(index.get, tokens, repeat(-1)), dtype=np.int32, count=len(tokens)))
        raw_total += len(tokens)
        if ends_line:
            raw_line_ends.append(raw_total)
    raw_ids = np.concatenate(id_blocks) if id_blocks else np.zeros(0, np.int32)
    raw_ends = sentence_ends(np.asarray(raw_line_ends, dtype=np.int64), max_sentence_length)
    in_vocab = raw_ids >= 0
    kept_before = np.concatenate([[0], np.cumsum(in_vocab, dtype=np.int64)])
    ends = np.unique(kept_before[raw_ends])
    return raw_ids[in_vocab], ends[ends > 0]
