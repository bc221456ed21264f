"""SIGINT and SIGTERM, handled alike in every phase of a command.

Outside a `deferring()` block a signal raises KeyboardInterrupt at once. Inside one (training, and
writing a run's outputs) the first signal only sets a flag that training checks between blocks (the
outputs are then written to the end); a second one raises at once. In a `blocked()` block they are only
counted. A KeyboardInterrupt raised from a handler can be lost when the signal lands in a callback whose
exceptions Python ignores (e.g. a garbage-collection callback), so the count is kept as well and `check()`
raises for a signal whose exception was lost.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    """The signals received while installed: `count`, the last one's `name`, and whether they are deferred or
    blocked (`critical`)."""

    def __init__(self):
        self.count, self.name, self.deferred, self.critical = 0, "", False, False

    def __call__(self, signum, frame) -> None:
        self.count += 1
        self.name = signal.Signals(signum).name
        if not self.critical and (not self.deferred or self.count > 1):
            raise KeyboardInterrupt(f"interrupted by {self.name}")

    @property
    def requested(self) -> bool:
        return self.count > 0

    def check(self) -> None:
        """Raise KeyboardInterrupt if a signal arrived (one whose exception was lost, when not deferred)."""
        if self.count:
            raise KeyboardInterrupt(f"interrupted by {self.name}")

    def blocked(self) -> contextlib.AbstractContextManager[Interrupts]:
        """Within the block signals are only counted (the rescue of a finished training is not cut short)."""
        return self.setting("critical")

    def deferring(self) -> contextlib.AbstractContextManager[Interrupts]:
        """Within the block the first signal only sets the flag; a second one raises at once."""
        return self.setting("deferred")

    @contextlib.contextmanager
    def setting(self, flag: str) -> Iterator[Interrupts]:
        """Within the block the attribute `flag` is True; it is restored after."""
        before = getattr(self, flag)
        setattr(self, flag, True)
        try:
            yield self
        finally:
            setattr(self, flag, before)


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
