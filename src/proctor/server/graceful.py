"""A normal stop (SIGTERM, SIGINT) of a serving process ends with its audit log flushed and a
checkpoint signed at the head.

uvicorn catches both signals, drains (bounded by ``timeout_graceful_shutdown``) and returns, then
raises the signal again into the handler that was installed before it started. Left at the default,
that handler kills the process before Proctor's clean-up runs, and the end of the log stays
unsigned. :func:`graceful_stop` installs a handler that only notes the signal, for as long as the
caller serves *and* cleans up, so a second signal during clean-up cannot cut it short either.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from types import FrameType

log = logging.getLogger(__name__)

#: how long a stopping server waits for calls in flight before it closes their connections
DRAIN_TIMEOUT_S = 10


@contextlib.contextmanager
def graceful_stop() -> Iterator[list[int]]:
    """Note SIGTERM and SIGINT instead of dying on them while the block runs; yields the signals
    received. Outside the main thread (tests serving in a thread) it changes nothing."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def note(sig: int, _frame: FrameType | None) -> None:
        received.append(sig)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if received:
            log.warning(
                "stopped on %s: in-flight calls drained, audit flushed and signed",
                signal.Signals(received[0]).name,
            )


__all__ = ["DRAIN_TIMEOUT_S", "graceful_stop"]
