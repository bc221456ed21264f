"""fastText's subword units: character n-grams of `<word>`, hashed into buckets after the vocabulary rows.

As fastText's Dictionary::computeSubwords: the word gets boundary markers (`<` + word + `>`), n
counts UTF-8 characters (a continuation byte 0b10xxxxxx never starts an n-gram), n-grams of
minn..maxn characters are taken at every character position (the whole `<word>` too when it is at
most maxn characters), the one-character n-grams `<` and `>` are skipped (only reachable with
minn = 1), and each n-gram goes to row `nwords + FNV-1a(ngram) mod bucket`.

fastText's FNV-1a XORs each byte as a *signed* char, so bytes >= 0x80 are sign-extended first:

    h_0 = 2166136261,   h_{i+1} = (h_i XOR uint32(int8(byte_i))) * 16777619   (mod 2^32).

A word in the vocabulary is its own row followed by its n-gram rows; the end-of-sentence token
`</s>` has no n-grams; a word outside the vocabulary is its n-gram rows alone. Duplicate rows (hash
collisions) are kept, as fastText keeps them.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

BOW, EOW, EOS = b"<", b">", b"</s>"
FNV_OFFSET_BASIS = np.uint32(2166136261)
FNV_PRIME = np.uint32(16777619)


def char_ngrams(word: bytes, minn: int, maxn: int) -> list[bytes]:
    """The n-grams of `<word>` (bytes), in fastText's order: by start character, then by length."""
    token = BOW + word + EOW
    starts = [i for i, byte in enumerate(token) if byte & 0xC0 != 0x80] + [len(token)]
    chars = len(starts) - 1
    grams = []
    for first in range(chars):
        for n in range(max(minn, 1), maxn + 1):
            last = first + n
            if last > chars:
                break
            if n == 1 and (first == 0 or last == chars):
                continue
            grams.append(token[starts[first]:starts[last]])
    return grams


def fnv1a_signed(strings: Sequence[bytes]) -> np.ndarray:
    """(N,) uint32 fastText hash of every byte string, vectorised over strings (one pass per byte column)."""
    lengths_N = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
    hashes_N = np.full(len(strings), FNV_OFFSET_BASIS, dtype=np.uint32)
    if not len(strings) or not lengths_N.max():
        return hashes_N
    flat = np.frombuffer(b"".join(strings), dtype=np.int8)
    row = np.repeat(np.arange(len(strings)), lengths_N)
    column = np.arange(len(flat)) - np.repeat(np.cumsum(lengths_N) - lengths_N, lengths_N)
    bytes_NxL = np.zeros((len(strings), int(lengths_N.max())), dtype=np.int8)
    bytes_NxL[row, column] = flat
    sign_extended_NxL = bytes_NxL.astype(np.int32).view(np.uint32)
    for col in range(bytes_NxL.shape[1]):
        active = lengths_N > col
        hashes_N[active] = (hashes_N[active] ^ sign_extended_NxL[active, col]) * FNV_PRIME
    return hashes_N


@dataclasses.dataclass(frozen=True)
class SubwordSpec:
    """How words map to input rows: minn..maxn n-grams into `bucket` rows after `nwords` word rows."""

    nwords: int
    minn: int
    maxn: int
    bucket: int

    @property
    def rows(self) -> int:
        """Input table rows: words, then buckets."""
        return self.nwords + self.bucket

    def ngram_rows(self, grams: Sequence[bytes]) -> np.ndarray:
        """(n,) int64 input rows of these n-grams."""
        if self.maxn <= 0 or not grams or self.bucket <= 0:
            return np.zeros(0, np.int64)
        return self.nwords + fnv1a_signed(grams).astype(np.int64) % self.bucket

    def word_rows(self, word: bytes, word_id: int | None) -> np.ndarray:
        """Input rows averaged into `word`'s vector: [word_id] + n-gram rows (in vocabulary), n-gram rows
        alone (out of vocabulary; none for `</s>`)."""
        own = np.array([] if word_id is None else [word_id], dtype=np.int64)
        if word == EOS:
            return own
        return np.concatenate([own, self.ngram_rows(char_ngrams(word, self.minn, self.maxn))])


@dataclasses.dataclass(frozen=True)
class SubwordTable:
    """Every vocabulary word's input rows in CSR form: rows_R (int32) with word w's rows at
    rows_R[offsets_V1[w]:offsets_V1[w + 1]]."""

    rows_R: np.ndarray
    offsets_V1: np.ndarray

    @property
    def counts_V(self) -> np.ndarray:
        """(V,) number of rows per word."""
        return np.diff(self.offsets_V1)

    def gather(self, word_ids_N: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Concatenated rows of the given words and, per row, the index n of the word it belongs to."""
        counts_N = self.counts_V[word_ids_N]
        owner_R = np.repeat(np.arange(len(word_ids_N)), counts_N)
        starts_R = np.repeat(self.offsets_V1[word_ids_N] - (np.cumsum(counts_N) - counts_N), counts_N)
        return self.rows_R[starts_R + np.arange(len(owner_R))], owner_R


def subword_table(words: Sequence[bytes], spec: SubwordSpec) -> SubwordTable:
    """Rows of every vocabulary word (`SubwordSpec.word_rows` with word_id = its index), hashed in one batch."""
    grams_per_word = [[] if w == EOS or spec.maxn <= 0 or spec.bucket <= 0 else char_ngrams(w, spec.minn, spec.maxn)
                      for w in words]
    gram_rows = spec.ngram_rows([g for grams in grams_per_word for g in grams])
    gram_owner = np.repeat(np.arange(len(words)), [len(grams) for grams in grams_per_word])
    owner = np.concatenate([np.arange(len(words)), gram_owner])
    rows = np.concatenate([np.arange(len(words)), gram_rows])
    order = np.argsort(owner, kind="stable")  # each word: its own row first, then its n-grams in order
    counts = np.bincount(owner, minlength=len(words))
    return SubwordTable(rows[order].astype(np.int32), np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
