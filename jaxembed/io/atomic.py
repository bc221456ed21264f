"""Atomic file writes: write to a temporary file beside the target, fsync, then rename over it."""
from __future__ import annotations

import contextlib
import os
import tempfile

from jaxembed.errors import OutputFileError

TEMPORARY_PREFIX = ".tmp-"


def temporary_prefix(path: str | os.PathLike) -> str:
    """The name every temporary file of `path` starts with (`.tmp-NAME-`), for cleaning up after a crash."""
    return f"{TEMPORARY_PREFIX}{os.path.basename(os.fspath(path))}-"


def creation_mode() -> int:
    """0o666 less the process umask: the mode `open()` would give a new file."""
    try:
        with open("/proc/self/status") as f:
            umask = next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        umask = os.umask(0)
        os.umask(umask)
    return 0o666 & ~umask


def names_this_write(filename, path: str) -> bool:
    """Whether an OSError's filename is the write to `path` (its target, directory or temporary file), or none."""
    if filename is None:
        return True
    filename = os.fsdecode(filename)
    return (filename in (path, os.path.dirname(os.path.abspath(path)))
            or os.path.basename(filename).startswith(temporary_prefix(path)))


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb"):
    """Open a temporary file in `path`'s directory; on success it replaces `path` atomically, with the mode a
    new file gets under the umask.

    On any exception the temporary file is removed and `path` is left as it was. A failure of the file
    system (disk full, read-only directory, a directory at `path`) raises OutputFileError naming `path`.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise OutputFileError(f"cannot write {path!r}: it is a directory")
    directory = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as e:
            raise OutputFileError(f"cannot write {path!r}: its directory cannot be made: {e.strerror or e}") from e
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=temporary_prefix(path))
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, creation_mode())
        os.replace(tmp, path)
    except OSError as e:
        if isinstance(e, OutputFileError) or not names_this_write(e.filename, path):
            raise
        raise OutputFileError(f"cannot write {path!r}: {e.strerror or e}") from e
    finally:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)
