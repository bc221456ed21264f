"""The project's error types: every user-facing failure is one of these, with a message naming its source."""


class JaxembedError(Exception):
    """Base class: bad input a user can fix (the CLI prints the message and exits with status 2)."""


class InputFileError(JaxembedError):
    """A file is missing, unreadable, empty or malformed; the message names the file and the problem."""


class ConfigError(JaxembedError, ValueError):
    """A hyperparameter or argument is invalid; the message names it and the allowed range."""
