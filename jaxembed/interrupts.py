"""SIGINT and SIGTERM, handled alike in every phase of a command.

Outside a `deferring()` block a signal raises KeyboardInterrupt at once. Inside one (training, and
writing a run's outputs) the first signal only sets a flag that the code checks at safe points (between
blocks, between files); a second one raises at once. A KeyboardInterrupt raised from a handler can be
lost when the signal lands in a callback whose exceptions Python ignores (e.g. a garbage-collection
callback), so the count is kept as well and `check()` raises for a signal whose exception was lost.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """The signals received while installed: `count`, the last one's `name`, and whether they are deferred."""

    def __init__(self):
        self.count, self.name, self.deferred = 0, "", False

    def __call__(self, signum, frame) -> None:
        self.count += 1
        self.name = signal.Signals(signum).name
        if not self.deferred or self.count > 1:
            raise KeyboardInterrupt(f"interrupted by {self.name}")

    @property
    def requested(self) -> bool:
        return self.count > 0

    def check(self, allowed: int = 0) -> None:
        """Raise KeyboardInterrupt if more than `allowed` signals arrived (0: any; 1: a second one)."""
        if self.count > allowed:
            raise KeyboardInterrupt(f"interrupted by {self.name}")

    @contextlib.contextmanager
    def deferring(self) -> Iterator[Interrupts]:
        """Within the block the first signal only sets the flag; a second one raises at once."""
        before, self.deferred = self.deferred, True
        try:
            yield self
        finally:
            self.deferred = before


_installed: Interrupts | None = None


@contextlib.contextmanager
def handling_interrupts() -> Iterator[Interrupts]:
    """Install the SIGINT/SIGTERM handler for the block, or yield the one an enclosing block installed.
    Off the main thread (where Python delivers no signals) the yielded flag is never set."""
    global _installed
    if _installed is not None or threading.current_thread() is not threading.main_thread():
        yield _installed or Interrupts()
        return
    _installed = Interrupts()
    previous = {s: signal.signal(s, _installed) for s in HANDLED}
    try:
        yield _installed
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _installed = None
