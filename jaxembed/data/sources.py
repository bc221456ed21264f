"""Where a corpus comes from: a file, several files, a directory, glob patterns, or (from Python) sentences.

    corpus_files(spec) -> data.corpus.Corpus        files, directories and patterns as the files they name
    spooled_sentences(sentences) -> path            token lists (gensim's `sentences`) as a temporary text corpus

A directory stands for its files (not its subdirectories or hidden files) in sorted order, as gensim's
`PathLineSentences` reads them; a pattern (`*`, `?`, `[...]`) that is not itself a file stands for the files it
matches, sorted; a list stands for its items' files in its order. One file stays a plain path.

Sentences from Python are read once, in one pass, into a text file of one sentence per line (the trainers then
read it as any corpus, with the ids spooled to disk), so memory does not grow with them and a generator works as
well as a list; a token must be a non-empty str without ASCII whitespace, a sentence a list or tuple of tokens.
"""
from __future__ import annotations

import contextlib
import glob
import numbers
import os
import re
import tempfile
from collections.abc import Iterable, Iterator

from jaxembed.data.corpus import Corpus
from jaxembed.errors import ConfigError, InputFileError

GLOB_CHARACTERS = frozenset("*?[")
ASCII_SPACE = re.compile("[ \t\n\r\x0b\x0c]")
"""What the corpus reader splits tokens on (data.corpus.WHITESPACE)."""
WRITE_SENTENCES = 10_000
"""Sentences joined per write."""


def is_path(spec) -> bool:
    return isinstance(spec, (str, os.PathLike))


def is_sentences(corpus) -> bool:
    """Whether `corpus` is an iterable of sentences rather than paths: not a path, and not a list or tuple of paths."""
    if is_path(corpus) or isinstance(corpus, (bytes, bytearray)):
        return False
    if isinstance(corpus, (list, tuple)):
        return not all(is_path(item) for item in corpus) or not corpus
    return isinstance(corpus, Iterable)


def spec_files(spec: str) -> list[str]:
    """The files one path, directory or pattern names (InputFileError when it names none)."""
    if os.path.isdir(spec):
        names = sorted(name for name in os.listdir(spec) if not name.startswith("."))
        files = [os.path.join(spec, name) for name in names if os.path.isfile(os.path.join(spec, name))]
        if not files:
            raise InputFileError(f"corpus directory {spec!r} holds no files")
        return files
    if not os.path.exists(spec) and GLOB_CHARACTERS & set(spec):
        files = sorted(path for path in glob.glob(spec) if os.path.isfile(path))
        if not files:
            raise InputFileError(f"corpus pattern {spec!r} matches no files")
        return files
    return [spec]


def corpus_files(spec) -> Corpus:
    """The corpus a path, directory, pattern, or list of them names: one path, or a tuple of the files in order."""
    specs = [spec] if is_path(spec) else list(spec) if isinstance(spec, (list, tuple)) else None
    if not specs or not all(is_path(item) for item in specs):
        raise ConfigError(f"corpus must be a file path, a directory, a glob pattern, a list of them, or an iterable of "
                          f"sentences (lists of str tokens), got {type(spec).__name__} {spec!r:.80}")
    files = [file for item in specs for file in spec_files(os.fspath(item))]
    return files[0] if len(files) == 1 else tuple(files)


def sentence_line(sentence, index: int) -> str:
    """One sentence as a line of its tokens; ConfigError naming the sentence for anything but tokens without space."""
    if isinstance(sentence, (str, bytes)) or not isinstance(sentence, (list, tuple)):
        raise ConfigError(f"sentence {index} must be a list of tokens (str), got {type(sentence).__name__} "
                          f"{sentence!r:.80}")
    line = " ".join(sentence) if all(isinstance(token, str) for token in sentence) else None
    if line is None or len(line.encode("utf-8", "surrogateescape").split()) != len(sentence):
        bad = next((t for t in sentence if not isinstance(t, str) or not t or ASCII_SPACE.search(t)), None)
        what = "is not a str" if not isinstance(bad, str) else "is empty" if not bad else "contains whitespace"
        raise ConfigError(f"sentence {index}: token {bad!r:.80} {what}; tokens are non-empty str without whitespace")
    return line


@contextlib.contextmanager
def spooled_sentences(sentences: Iterable, tmp_dir: str | None = None) -> Iterator[str]:
    """The path of a temporary file (in `tmp_dir`, default $TMPDIR) holding `sentences` (`sentences_file`), removed
    on leaving."""
    with tempfile.TemporaryDirectory(dir=tmp_dir, prefix="jaxembed-sentences-") as directory:
        yield sentences_file(sentences, directory)


def sentences_file(sentences: Iterable, directory: str) -> str:
    """Write `sentences` (an iterable of token lists, read once) to a text file in `directory`, one per line; its path."""
    if isinstance(sentences, numbers.Number) or not isinstance(sentences, Iterable):
        raise ConfigError(f"corpus: expected an iterable of sentences, got {type(sentences).__name__}")
    path = os.path.join(directory, "sentences.txt")
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
        lines: list[str] = []
        for index, sentence in enumerate(sentences):
            lines.append(sentence_line(sentence, index))
            if len(lines) == WRITE_SENTENCES:
                f.write("\n".join(lines) + "\n")
                lines = []
        f.write("".join(line + "\n" for line in lines))
    return path
