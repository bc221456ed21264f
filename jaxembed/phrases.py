"""Phrase detection (collocations), as word2vec's word2phrase and gensim 4's `gensim.models.phrases.Phrases`.

Counting: in every sentence, each token that is not a connector word counts as a unigram, and each pair of
consecutive non-connector tokens a … b counts as the bigram key "a<delimiter>…<delimiter>b" (the connector
words between them joined in). Unigrams and bigram keys share one table, keyed by their text, exactly like
gensim's `Phrases.vocab`; so `len_vocab` is its number of entries, and a token that contains the delimiter
shares its count with the bigram that joins to the same text (gensim's collision, kept). `corpus_word_count`
counts every token read, connector words included.

Scoring a candidate (a, b) whose counts are all > 0 (N = corpus_word_count, V = len_vocab, m = min_count):

    default (Mikolov et al. 2013):  (count(ab) − m) / (count(a) · count(b)) · V
    npmi (Bouma 2009):              ln(p(ab) / (p(a) p(b))) / −ln p(ab),   p(x) = count(x) / N;
                                    −∞ when count(ab) < m

in float64 in gensim's order of operations (and with `math.log`), so scores equal gensim's bit for bit. A
candidate is a phrase when its score is > threshold. Joining (`Phrases.apply`) follows gensim's
`Phrases[sentence]` (`analyze_sentence`): left to right, a phrase candidate is joined unless its first token
was already joined as the end of the previous phrase; `export_phrases` is gensim's, which scores every key
holding the delimiter by its first and last delimiter-separated parts.

Memory: with `max_vocab_size`, gensim's pruning is reproduced exactly: after each sentence in which the
table has more than max_vocab_size entries, every entry with count < min_reduce is dropped and min_reduce
(from 1) rises by one. Whole blocks are counted at once; a block is counted sentence by sentence only when it
would take the table past max_vocab_size.

Reading: lines are read as `gensim.models.word2vec.LineSentence(path, max_sentence_length)` reads them: a
line is a sentence, cut into pieces of `max_sentence_length` tokens; an empty line is no sentence; bigrams
cross neither line ends nor cuts. Differences from LineSentence: tokens are split on ASCII whitespace only
(LineSentence also splits on other Unicode whitespace), and invalid UTF-8 is replaced by U+FFFD (the corpus
reader's policy; LineSentence raises). Gzip input and pipes are read as `jaxembed.data.corpus` reads them.

Several passes (`phrase_passes`) write the phrased corpus and learn again on it, as `Phrases(bigram[...])`
does in gensim, except that in a line longer than `max_sentence_length` the next pass cuts the phrased line
every max_sentence_length tokens, not where the previous pass's cuts fell. A later pass joins "new_york city"
into "new_york_city" (`apply`, `write_phrased`), but, as in gensim (its issue #3326), `export_phrases` scores
that key as the pair ("new", "city"), so it lists it only when those counts make it a phrase too.
"""
from __future__ import annotations

import collections
import dataclasses
import itertools
import math
import numbers
import operator
import os
import tempfile
from collections.abc import Iterator
from itertools import compress, repeat
from typing import BinaryIO

import numpy as np

from jaxembed.data.corpus import (MAX_SENTENCE_LENGTH, READ_BLOCK_BYTES, block_sentence_ends, iter_token_blocks,
                                  second_reading)
from jaxembed.errors import ConfigError
from jaxembed.io.files import open_output

SCORINGS = ("default", "npmi")
ENCODING = dict(encoding="utf-8", errors="surrogateescape")


def is_integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


@dataclasses.dataclass(frozen=True)
class PhraseConfig:
    """Settings of phrase detection, with gensim's names and defaults (module docstring); max_vocab_size None:
    no pruning; max_sentence_length: lines are cut into sentences of at most this many tokens."""

    min_count: int = 5
    threshold: float = 10.0
    scoring: str = "default"
    delimiter: str = "_"
    max_vocab_size: int | None = None
    connector_words: frozenset[str] = frozenset()
    max_sentence_length: int = MAX_SENTENCE_LENGTH

    def __post_init__(self):
        if not is_integer(self.min_count) or self.min_count < 1:
            raise ConfigError(f"min_count must be an integer >= 1, got {self.min_count!r}")
        if self.scoring not in SCORINGS:
            raise ConfigError(f"scoring must be one of {', '.join(SCORINGS)}, got {self.scoring!r}")
        if not isinstance(self.threshold, numbers.Real) or math.isnan(self.threshold):
            raise ConfigError(f"threshold must be a number, got {self.threshold!r}")
        if self.scoring == "default" and self.threshold <= 0:
            raise ConfigError(f"threshold must be > 0 for default scoring, got {self.threshold}")
        if self.scoring == "npmi" and not -1 <= self.threshold <= 1:
            raise ConfigError(f"threshold must be in [-1, 1] for npmi scoring, got {self.threshold}")
        if not isinstance(self.delimiter, str) or not self.delimiter or any(c.isspace() for c in self.delimiter):
            raise ConfigError(f"delimiter must be a non-empty string without whitespace (a phrase stays one token), "
                              f"got {self.delimiter!r}")
        if self.max_vocab_size is not None and (not is_integer(self.max_vocab_size) or self.max_vocab_size < 1):
            raise ConfigError(f"max_vocab_size must be None or an integer >= 1, got {self.max_vocab_size!r}")
        if isinstance(self.connector_words, str) or not all(isinstance(w, str) for w in self.connector_words):
            raise ConfigError(f"connector_words must be a set of strings, got {self.connector_words!r}")
        if not is_integer(self.max_sentence_length) or self.max_sentence_length < 1:
            raise ConfigError(f"max_sentence_length must be an integer >= 1, got {self.max_sentence_length!r}")
        object.__setattr__(self, "connector_words", frozenset(self.connector_words))

    @property
    def delimiter_bytes(self) -> bytes:
        return self.delimiter.encode(**ENCODING)

    @property
    def connector_bytes(self) -> frozenset[bytes]:
        return frozenset(w.encode(**ENCODING) for w in self.connector_words)


def connector_mask(tokens: list[bytes], connectors: frozenset[bytes]) -> np.ndarray:
    """(n,) bool: which tokens are connector words."""
    return np.fromiter(map(connectors.__contains__, tokens), dtype=bool, count=len(tokens))


def candidate_spans(sentence_ends_S: np.ndarray, connector_n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first_K, last_K): positions of every two consecutive non-connector tokens of one sentence, in order.
    sentence_ends_S: non-decreasing end offsets of the sentences."""
    words_W = np.flatnonzero(~connector_n)
    sentence_W = np.searchsorted(sentence_ends_S, words_W, side="right")
    same = sentence_W[1:] == sentence_W[:-1]
    return words_W[:-1][same], words_W[1:][same]


def span_keys(tokens: list[bytes], first_K: np.ndarray, last_K: np.ndarray, delimiter: bytes) -> list[bytes]:
    """(K,) tokens[first_K[k]] … tokens[last_K[k]] joined by the delimiter: the bigram keys."""
    spans = map(tokens.__getitem__, map(slice, first_K.tolist(), (last_K + 1).tolist()))
    return list(map(delimiter.join, spans))


def counts_of(counts: dict[bytes, int], keys) -> np.ndarray:
    """(K,) int64 counts of the keys, 0 for those absent."""
    keys = list(keys)
    return np.fromiter(map(counts.get, keys, repeat(0)), dtype=np.int64, count=len(keys))


def sentence_ends(n: int, line_ends_L: np.ndarray, max_sentence_length: int) -> tuple[np.ndarray, np.ndarray]:
    """(ends_S, newline_S) of n tokens whose first line starts at offset 0 (or a multiple of
    max_sentence_length before it): the offsets where sentences end, in order, one per line end (empty lines
    too) and one per cut every max_sentence_length tokens of a line; newline_S: the end is a line end."""
    cuts_C = np.setdiff1d(block_sentence_ends(n, line_ends_L, 0, max_sentence_length), line_ends_L)
    ends_S = np.concatenate([line_ends_L, cuts_C]).astype(np.int64)
    newline_S = np.concatenate([np.ones(len(line_ends_L), bool), np.zeros(len(cuts_C), bool)])
    order = np.argsort(ends_S, kind="stable")
    return ends_S[order], newline_S[order]


def sentence_blocks(path: str | os.PathLike, max_sentence_length: int, block_bytes: int = READ_BLOCK_BYTES,
                    spool: BinaryIO | None = None) -> Iterator[tuple[list[bytes], np.ndarray, np.ndarray]]:
    """Yield (tokens, ends_S, newline_S) per block read: whole sentences only (as `sentence_ends`; the last
    sentence of a block, unfinished, is carried into the next: at most max_sentence_length tokens); the end of
    the file ends the last line without a newline. spool: as `jaxembed.data.corpus.read_blocks`."""
    blocks = iter_token_blocks(path, block_bytes, spool=spool)
    carry: list[bytes] = []
    block = next(blocks)
    for following in itertools.chain(blocks, [None]):
        tokens, line_ends_L = block
        tokens = carry + tokens
        ends_S, newline_S = sentence_ends(len(tokens), line_ends_L + len(carry), max_sentence_length)
        if following is None:
            newline_S[-1] = False
        done = int(ends_S[-1]) if len(ends_S) else 0
        carry = tokens[done:]
        yield tokens[:done], ends_S, newline_S
        block = following


def prune_counts(counts: collections.Counter, min_reduce: int) -> None:
    """gensim's `utils.prune_vocab`: drop every entry with count < min_reduce, in place."""
    values = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
    for key in list(compress(counts.keys(), values < min_reduce)):
        del counts[key]


def add_block_counts(counts: collections.Counter, tokens: list[bytes], ends_S: np.ndarray, config: PhraseConfig,
                     min_reduce: int) -> int:
    """Add the unigram and bigram counts of a block of whole sentences to `counts`, pruning as gensim does
    (module docstring); returns the new min_reduce."""
    connector_n = connector_mask(tokens, config.connector_bytes)
    first_K, last_K = candidate_spans(ends_S, connector_n)
    unigrams = list(compress(tokens, ~connector_n))
    bigrams = span_keys(tokens, first_K, last_K, config.delimiter_bytes)
    if config.max_vocab_size is None or fits(counts, unigrams + bigrams, config.max_vocab_size):
        counts.update(unigrams)
        counts.update(bigrams)
        return min_reduce
    sentences = np.arange(len(ends_S) + 1)
    unigram_starts = np.searchsorted(np.searchsorted(ends_S, np.flatnonzero(~connector_n), side="right"), sentences)
    bigram_starts = np.searchsorted(np.searchsorted(ends_S, first_K, side="right"), sentences)
    lengths_S = np.diff(ends_S, prepend=0)
    for s in np.flatnonzero(lengths_S).tolist():
        counts.update(unigrams[unigram_starts[s]:unigram_starts[s + 1]])
        counts.update(bigrams[bigram_starts[s]:bigram_starts[s + 1]])
        if len(counts) > config.max_vocab_size:
            prune_counts(counts, min_reduce)
            min_reduce += 1
    return min_reduce


def fits(counts: dict[bytes, int], keys: list[bytes], max_entries: int) -> bool:
    """Whether `counts` with `keys` added has at most max_entries entries (then no sentence of them prunes)."""
    new_keys = set(keys)
    return len(counts) + len(new_keys) - sum(map(counts.__contains__, new_keys)) <= max_entries


def greedy_joins(phrase_K: np.ndarray, first_K: np.ndarray, last_K: np.ndarray) -> np.ndarray:
    """(K,) bool: the candidates gensim's left-to-right pass joins. In a run of phrase candidates each starting
    where the previous one ends, the run's 1st, 3rd, 5th … are joined (the others lost their first token)."""
    k_K = np.arange(len(phrase_K))
    continues_K = phrase_K & np.concatenate([[False], phrase_K[:-1] & (last_K[:-1] == first_K[1:])])
    run_start_K = np.maximum.accumulate(np.where(continues_K, 0, k_K)) if len(k_K) else k_K
    return phrase_K & ((k_K - run_start_K) % 2 == 0)


def object_array(items: list) -> np.ndarray:
    """(n,) object array of the items (bytes stay whole objects)."""
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


@dataclasses.dataclass
class Phrases:
    """What `learn_phrases` counted: counts: unigram and bigram key -> count (gensim's `Phrases.vocab`, module
    docstring); corpus_word_count: tokens read, connector words included."""

    config: PhraseConfig
    counts: collections.Counter
    corpus_word_count: int

    def scores(self, count_a_K: np.ndarray, count_b_K: np.ndarray, count_ab_K: np.ndarray) -> np.ndarray:
        """(K,) float64 scores of candidates from their counts (module docstring); −∞ where a count is 0."""
        scores_K = np.full(len(count_ab_K), -np.inf)
        scored = (count_a_K > 0) & (count_b_K > 0) & (count_ab_K > 0)
        if self.config.scoring == "npmi":
            scored &= count_ab_K >= self.config.min_count
        a, b, ab = (c[scored].astype(np.float64) for c in (count_a_K, count_b_K, count_ab_K))
        if self.config.scoring == "default":
            scores_K[scored] = (ab - self.config.min_count) / (a * b) * len(self.counts)
        else:
            p_a, p_b, p_ab = (c / self.corpus_word_count for c in (a, b, ab))
            log = np.frompyfunc(math.log, 1, 1)  # gensim's log, so that scores match to the bit
            scores_K[scored] = log(p_ab / (p_a * p_b)) / -log(p_ab)
        return scores_K

    def phrase_scores(self, tokens: list[bytes], first_K: np.ndarray, last_K: np.ndarray,
                      keys_K: list[bytes]) -> np.ndarray:
        """(K,) scores of candidates tokens[first_K] … tokens[last_K] with keys keys_K, −∞ where none."""
        return self.scores(counts_of(self.counts, map(tokens.__getitem__, first_K.tolist())),
                           counts_of(self.counts, map(tokens.__getitem__, last_K.tolist())),
                           counts_of(self.counts, keys_K))

    def join_phrases(self, tokens: list[bytes], ends_S: np.ndarray) -> tuple[list[bytes], np.ndarray]:
        """Sentences (tokens, ends_S) with their phrases joined into one token each: (tokens, ends_S) after."""
        connector_n = connector_mask(tokens, self.config.connector_bytes)
        first_K, last_K = candidate_spans(ends_S, connector_n)
        keys_K = span_keys(tokens, first_K, last_K, self.config.delimiter_bytes)
        joined_K = greedy_joins(self.phrase_scores(tokens, first_K, last_K, keys_K) > self.config.threshold,
                                first_K, last_K)
        inside = np.zeros(len(tokens) + 1, np.int64)
        np.add.at(inside, first_K[joined_K] + 1, 1)
        np.add.at(inside, last_K[joined_K] + 1, -1)
        kept_n = np.cumsum(inside[:-1]) == 0
        out_n = object_array(tokens)
        out_n[first_K[joined_K]] = object_array(keys_K)[joined_K]
        return out_n[kept_n].tolist(), np.concatenate([[0], np.cumsum(kept_n)])[ends_S]

    def apply(self, tokens: list[str]) -> list[str]:
        """One sentence with its phrases joined, as gensim's `phrases[tokens]`."""
        joined, _ = self.join_phrases([t.encode(**ENCODING) for t in tokens], np.array([len(tokens)]))
        return [t.decode(**ENCODING) for t in joined]

    def export_phrases(self) -> dict[str, float]:
        """Phrase -> score for every key holding the delimiter that scores as a phrase, as gensim's
        `Phrases.export_phrases` (scored by its first and last delimiter-separated parts)."""
        delimiter = self.config.delimiter_bytes
        keys = list(compress(self.counts.keys(), map(operator.contains, self.counts.keys(), repeat(delimiter))))
        parts = list(map(bytes.split, keys, repeat(delimiter)))
        scores = self.scores(counts_of(self.counts, map(operator.itemgetter(0), parts)),
                             counts_of(self.counts, map(operator.itemgetter(-1), parts)),
                             counts_of(self.counts, keys))
        phrase = scores > self.config.threshold
        return dict(zip((k.decode(**ENCODING) for k in compress(keys, phrase)), scores[phrase].tolist()))


def learn_phrases(path: str | os.PathLike, config: PhraseConfig, *, block_bytes: int = READ_BLOCK_BYTES,
                  spool: BinaryIO | None = None) -> Phrases:
    """Count the corpus at `path` (plain, gzip or a pipe; one streaming pass) for phrase detection.
    spool: where to copy an input that can be read only once (`jaxembed.data.corpus.second_reading`)."""
    counts: collections.Counter = collections.Counter()
    corpus_word_count, min_reduce = 0, 1
    for tokens, ends_S, _ in sentence_blocks(path, config.max_sentence_length, block_bytes, spool):
        min_reduce = add_block_counts(counts, tokens, ends_S, config, min_reduce)
        corpus_word_count += len(tokens)
    return Phrases(config, counts, corpus_word_count)


def phrased_text(tokens: list[bytes], newline_ends_E: np.ndarray, line_open: bool) -> tuple[bytes, bool]:
    """The text of tokens whose lines end at newline_ends_E (a newline after each), and whether a line is left
    with tokens written; line_open: the first line already has tokens written (a space goes before more)."""
    bounds = [0, *newline_ends_E.tolist(), len(tokens)]
    lines = map(b" ".join, map(tokens.__getitem__, map(slice, bounds[:-1], bounds[1:])))
    text = b"\n".join(lines)
    if line_open and bounds[1] > 0:
        text = b" " + text
    return text, bounds[-1] > bounds[-2] or (line_open and not len(newline_ends_E))


def write_phrased(path_in: str | os.PathLike, path_out: str | os.PathLike, phrases: Phrases, *,
                  block_bytes: int = READ_BLOCK_BYTES) -> None:
    """Write the corpus at `path_in` to `path_out` with its phrases joined: one line per input line, tokens
    separated by one space; atomically, gzip-compressed when path_out ends in `.gz`."""
    line_open = False
    with open_output(os.fspath(path_out)) as out:
        for tokens, ends_S, newline_S in sentence_blocks(path_in, phrases.config.max_sentence_length, block_bytes):
            joined, joined_ends_S = phrases.join_phrases(tokens, ends_S)
            text, line_open = phrased_text(joined, joined_ends_S[newline_S], line_open)
            out.write(text)


def phrase_passes(path_in: str | os.PathLike, path_out: str | os.PathLike, config: PhraseConfig, passes: int, *,
                  block_bytes: int = READ_BLOCK_BYTES, tmp_dir: str | None = None) -> list[Phrases]:
    """Learn phrases and write the phrased corpus `passes` times, each pass reading the previous one's output
    (longer phrases each pass), the last written to `path_out`; the others are temporary files in `tmp_dir`
    (default $TMPDIR). Returns each pass's Phrases."""
    if not is_integer(passes) or passes < 1:
        raise ConfigError(f"passes must be an integer >= 1, got {passes!r}")
    learned = []
    with tempfile.TemporaryDirectory(dir=tmp_dir, prefix="jaxembed-phrases-") as work_dir:
        source = os.fspath(path_in)
        for done in range(1, passes + 1):
            target = os.fspath(path_out) if done == passes else os.path.join(work_dir, f"pass{done}.txt")
            with second_reading(source, tmp_dir) as (spool, again):
                learned.append(learn_phrases(source, config, block_bytes=block_bytes, spool=spool))
                write_phrased(again, target, learned[-1], block_bytes=block_bytes)
            source = target
    return learned
