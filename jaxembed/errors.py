"""The project's error types: every user-facing failure is one of these, with a message naming its source."""


class JaxembedError(Exception):
    """Base class: bad input a user can fix (the CLI prints the message and exits with status 2)."""


class InputFileError(JaxembedError):
    """A file is missing, unreadable, empty or malformed; the message names the file and the problem."""


class ConfigError(JaxembedError, ValueError):
    """A hyperparameter or argument is invalid; the message names it and the allowed range."""


class UnknownWordError(JaxembedError, KeyError):
    """A queried word is not in the vocabulary (a KeyError, so `except KeyError` and `in` checks still work)."""

    def __str__(self) -> str:  # KeyError's str() would show the message in quotes
        return str(self.args[0]) if self.args else ""


class TrainingDiverged(JaxembedError):
    """The loss or the parameters became NaN or infinite; the message says where, and which checkpoint is kept."""


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on SIGINT/SIGTERM after writing a checkpoint; the message says how to resume."""


class RunDirectoryError(JaxembedError):
    """A run directory is in use by another process, or holds another run's files; the message says which."""


class OutputFileError(JaxembedError, OSError):
    """An output file cannot be written (disk full, read-only, a directory in the way); the message names it."""
