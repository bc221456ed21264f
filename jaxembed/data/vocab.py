"""Vocabulary: words sorted by descending count (ties in first-seen order, as gensim), with min_count."""
from __future__ import annotations

import collections
import dataclasses

import numpy as np

from jaxembed.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Vocab:
    """words: (V,) tokens as bytes, most frequent first; counts: (V,) int64 corpus counts."""

    words: tuple[bytes, ...]
    counts: np.ndarray

    def __len__(self) -> int:
        return len(self.words)

    @property
    def index(self) -> dict[bytes, int]:
        return {w: i for i, w in enumerate(self.words)}

    @property
    def strings(self) -> list[str]:
        return [w.decode("utf-8", errors="replace") for w in self.words]


def build_vocab(counts: collections.Counter, min_count: int = 5, max_vocab_size: int | None = None,
                known: collections.Counter | None = None) -> Vocab:
    """Keep words with count >= min_count, sorted by count (stable), truncated to max_vocab_size.

    Unlike gensim's `max_vocab_size` (which prunes during counting to bound memory), this is the
    final vocabulary size cap, applied after sorting: the most frequent words are kept.

    known: an earlier vocabulary's words and counts (continued training, as gensim's
    `build_vocab(update=True)`): they are all kept, whatever their count here, with their counts added to
    this corpus's; max_vocab_size then caps the new words only.
    """
    if min_count < 1:
        raise ConfigError(f"min_count must be >= 1, got {min_count}")
    if max_vocab_size is not None and max_vocab_size < 1:
        raise ConfigError(f"max_vocab_size must be >= 1, got {max_vocab_size}")
    known = known or collections.Counter()
    kept = [(w, c) for w, c in counts.items() if c >= min_count and w not in known]
    kept.sort(key=lambda wc: -wc[1])
    kept = kept[:None if max_vocab_size is None else max(max_vocab_size - len(known), 0)]
    kept = sorted([(w, c + counts.get(w, 0)) for w, c in known.items()] + kept, key=lambda wc: -wc[1])
    return Vocab(tuple(w for w, _ in kept), np.array([c for _, c in kept], dtype=np.int64))
