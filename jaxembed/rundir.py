"""A training run's directory: one process at a time, the run's settings saved before it trains, and no
file of another run left beside this one's.

    DIR/.jaxembed.lock      an exclusive lock (flock) held while a process trains into DIR; holds its pid
    DIR/run.json            the run: config, corpus, output options, and whether it finished
    DIR/checkpoint.msgpack  while the run is unfinished (jaxembed.checkpoint)
    DIR/vectors.txt, vectors.bin, model.bin, metrics.json: its outputs

`jaxembed train --resume DIR` reads run.json, so a run interrupted before its first checkpoint resumes
too (from the start: training is deterministic, so it ends where an uninterrupted run ends).
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
from collections.abc import Iterator

from jaxembed.checkpoint import CHECKPOINT_NAME
from jaxembed.config import Config, make_config
from jaxembed.errors import ConfigError, InputFileError, RunDirectoryError
from jaxembed.io.atomic import atomic_open, temporary_prefix

LOCK_NAME = ".jaxembed.lock"
RUN_NAME = "run.json"
OUTPUT_NAMES = ("vectors.txt", "vectors.bin", "model.bin", "metrics.json")
RUN_FILES = (RUN_NAME, CHECKPOINT_NAME, *OUTPUT_NAMES)
RUN_VERSION = 1

_held: dict[str, int] = {}
"""Run directories this process has locked (real path -> nesting depth)."""


@contextlib.contextmanager
def locked(directory: str | os.PathLike) -> Iterator[None]:
    """Hold DIR's exclusive lock for the block (created with DIR if needed); re-entrant within a process.
    Another process holding it raises RunDirectoryError naming its pid."""
    directory = os.fspath(directory)
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise RunDirectoryError(f"{directory!r} is not a directory: the run's files go into a directory")
    os.makedirs(directory, exist_ok=True)
    key = os.path.realpath(directory)
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    fd = os.open(os.path.join(directory, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise RunDirectoryError(f"{directory!r} is in use by another jaxembed run (pid {owner}); wait for it to "
                                    "finish or choose another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            _held[key] = 1
            yield
        finally:
            _held.pop(key, None)
    finally:
        os.close(fd)


@dataclasses.dataclass(frozen=True)
class RunRecord:
    """What run.json holds: the resolved config, the corpus (a path, or the paths of its files), the output options, and whether every
    output is written."""

    config: Config
    corpus: str | list[str]
    binary: bool = False
    finished: bool = False


def run_path(directory: str | os.PathLike) -> str:
    return os.path.join(os.fspath(directory), RUN_NAME)


def write_run(directory: str | os.PathLike, record: RunRecord) -> None:
    payload = {"version": RUN_VERSION, "config": dataclasses.asdict(record.config), "corpus": record.corpus,
               "binary": record.binary, "finished": record.finished}
    with atomic_open(run_path(directory), "w") as f:
        json.dump(payload, f, indent=1)
        f.write("\n")


def read_run(directory: str | os.PathLike) -> RunRecord:
    """The run saved in DIR; InputFileError when DIR holds none or it is malformed."""
    path = run_path(directory)
    if not os.path.isfile(path):
        raise InputFileError(f"{os.fspath(directory)!r} holds no jaxembed run to resume ({path} does not exist)")
    try:
        with open(path, encoding="utf-8") as f:
            payload = json.load(f)
        if payload.get("version") != RUN_VERSION:
            raise InputFileError(f"{path!r} has format version {payload.get('version')}, this jaxembed reads {RUN_VERSION}")
        config = make_config(payload["config"], source=repr(path))
        corpus = payload["corpus"]
        corpus = [str(path) for path in corpus] if isinstance(corpus, list) else str(corpus)
        return RunRecord(config, corpus, bool(payload["binary"]), bool(payload["finished"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        if isinstance(e, (InputFileError, ConfigError)):
            raise
        raise InputFileError(f"{path!r} is not a readable jaxembed run record: {e}") from e


def files_of_a_run(directory: str | os.PathLike) -> list[str]:
    """The run files (RUN_FILES) present in DIR."""
    return [name for name in RUN_FILES if os.path.exists(os.path.join(os.fspath(directory), name))]


def claim_for_new_run(directory: str | os.PathLike, overwrite: bool) -> None:
    """Make DIR ready for a new run: refuse it when it holds another run's files, unless `overwrite`, which
    removes them. Call with the lock held."""
    directory = os.fspath(directory)
    present = files_of_a_run(directory)
    if present and not overwrite:
        unfinished = CHECKPOINT_NAME in present or (RUN_NAME in present and not read_run(directory).finished)
        advice = (f"resume it (jaxembed train --resume {directory})" if unfinished else "choose another --out")
        raise RunDirectoryError(f"{directory!r} holds the files of {'an unfinished' if unfinished else 'another'} run "
                                f"({', '.join(present)}): {advice}, or add --overwrite to replace them")
    for name in present:
        os.remove(os.path.join(directory, name))


def remove_temporaries(directory: str | os.PathLike) -> list[str]:
    """Delete the temporary files a killed run left beside its run files (`.tmp-NAME-*`); returns their names.
    Call with the lock held."""
    directory = os.fspath(directory)
    prefixes = tuple(temporary_prefix(name) for name in RUN_FILES)
    stale = [name for name in os.listdir(directory) if name.startswith(prefixes)]
    for name in stale:
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(directory, name))
    return stale


def remove_if_unused(directory: str | os.PathLike) -> None:
    """Remove DIR when it holds nothing but its lock file (a run that failed before it started)."""
    directory = os.fspath(directory)
    if os.path.isdir(directory) and os.listdir(directory) == [LOCK_NAME]:
        os.remove(os.path.join(directory, LOCK_NAME))
        os.rmdir(directory)
