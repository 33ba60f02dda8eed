"""The injected clock. Nothing else in Proctor reads the time."""

from __future__ import annotations

import time
from typing import Protocol

__all__ = [
    "Clock",
    "FrozenClock",
    "SystemClock",
]


class Clock(Protocol):
    """Wall-clock seconds since the epoch (float) and a monotonic reading for durations."""

    def now(self) -> float: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class FrozenClock:
    """A clock that moves only when told to: for tests and reproducible demos.

    >>> c = FrozenClock(100.0)
    >>> c.advance(5); c.now()
    105.0
    """

    def __init__(self, start: float = 1_767_225_600.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def set(self, when: float) -> None:
        self._now = when
