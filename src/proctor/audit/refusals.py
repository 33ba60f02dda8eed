"""Rate-limited audit of refused requests, per source address.

A request refused before anyone is identified (a missing or wrong admin token, a bad SVID at the
gateway) is worth a record, but a client that sends a flood of them must not be able to grow the
audit log without bound. Per source, the first ``burst`` refusals of a window are recorded; the
rest are counted, and one summary record (``K refusals from SOURCE suppressed in the last W s``)
is written when that source's window closes (seen at the next refusal from anyone) or at shutdown
(:meth:`RefusalLimiter.drain`). Windows run on the injected clock's monotonic reading.

At most ``max_sources`` sources are tracked at once; refusals from any further source share one
bucket, ``*``, so neither memory nor the number of records grows with the number of addresses.

>>> from proctor.clock import FrozenClock
>>> clock = FrozenClock(0.0)
>>> limiter = RefusalLimiter(clock, RefusalLimits(burst=2, window_s=10.0))
>>> [limiter.admit("10.0.0.1").record for _ in range(4)]
[True, True, False, False]
>>> clock.advance(10.0)
>>> verdict = limiter.admit("10.0.0.1")
>>> verdict.record, [s.message for s in verdict.summaries]
(True, ['2 refusals from 10.0.0.1 suppressed in the last 10 s'])
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

from proctor.clock import Clock

__all__ = [
    "OTHER_SOURCES",
    "SUPPRESSED_KIND",
    "RefusalLimiter",
    "RefusalLimits",
    "Refusals",
    "Suppressed",
    "Verdict",
    "audit_refusal",
    "audit_refusal_async",
    "write_summaries",
]


log = logging.getLogger(__name__)

#: the audit record kind of a summary
SUPPRESSED_KIND = "audit.refusals_suppressed"
#: the shared bucket of sources beyond ``max_sources``
OTHER_SOURCES = "*"
#: a source is an address, never the client's free text: anything longer is cut
_MAX_SOURCE = 64


@dataclass(frozen=True)
class RefusalLimits:
    """How many refusal records one source may cause: ``burst`` per ``window_s`` seconds."""

    burst: int = 10
    window_s: float = 60.0
    max_sources: int = 1024

    def __post_init__(self) -> None:
        if self.burst < 0 or not self.window_s > 0 or self.max_sources < 1:
            raise ValueError("refusal audit limits: burst >= 0, window_s > 0 and max_sources >= 1")


@dataclass(frozen=True)
class Suppressed:
    """Refusals from one source that were counted but not recorded, in one window."""

    source: str
    count: int
    window_s: float
    refused: str

    @property
    def message(self) -> str:
        return f"{self.count} refusals from {self.source} suppressed in the last {self.window_s:g} s"

    def fields(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "suppressed": self.count,
            "window_s": self.window_s,
            "refused": self.refused,
            "message": self.message,
        }


@dataclass(frozen=True)
class Verdict:
    """Whether to record this refusal, and the summaries of windows that closed before it."""

    record: bool
    summaries: tuple[Suppressed, ...] = ()


@dataclass
class _Window:
    start: float
    recorded: int = 0
    suppressed: int = 0


class RefusalLimiter:
    """Per-source windows of refusal records. Thread-safe (the HTTP API checks tokens in threads)."""

    def __init__(
        self, clock: Clock, limits: RefusalLimits | None = None, *, refused: str = "refused"
    ) -> None:
        self.clock = clock
        self.limits = limits or RefusalLimits()
        #: the kind of the records this limiter rations, named in each summary
        self.refused = refused
        self._windows: OrderedDict[str, _Window] = OrderedDict()  # oldest window first
        self._lock = threading.Lock()

    def admit(self, source: str | None) -> Verdict:
        """Count one refusal from ``source``: record it or not, and what to summarise first."""
        now = self.clock.monotonic()
        key = (source or "unknown")[:_MAX_SOURCE]
        with self._lock:
            summaries = self._close(now)
            window = self._windows.get(key)
            if window is None:
                if len(self._windows) >= self.limits.max_sources:
                    key = OTHER_SOURCES
                    window = self._windows.get(key)
                if window is None:
                    window = self._windows[key] = _Window(now)
            if window.recorded < self.limits.burst:
                window.recorded += 1
                return Verdict(True, summaries)
            window.suppressed += 1
            return Verdict(False, summaries)

    def due(self) -> tuple[Suppressed, ...]:
        """The summaries of the windows that have closed by now (for a periodic sweeper)."""
        now = self.clock.monotonic()
        with self._lock:
            return self._close(now)

    def drain(self) -> tuple[Suppressed, ...]:
        """Close every window now (at shutdown): the summaries of what is still uncounted."""
        with self._lock:
            out = tuple(self._summary(k, w) for k, w in self._windows.items() if w.suppressed)
            self._windows.clear()
            return out

    def _close(self, now: float) -> tuple[Suppressed, ...]:
        out: list[Suppressed] = []
        while self._windows:
            key, window = next(iter(self._windows.items()))
            if now - window.start < self.limits.window_s:
                break
            del self._windows[key]
            if window.suppressed:
                out.append(self._summary(key, window))
        return tuple(out)

    def _summary(self, key: str, window: _Window) -> Suppressed:
        return Suppressed(key, window.suppressed, self.limits.window_s, self.refused)


class _AuditLog(Protocol):
    def append(self, kind: str, fields: dict[str, Any]) -> Any: ...

    async def append_async(self, kind: str, fields: dict[str, Any]) -> Any: ...


def _records(
    limiter: RefusalLimiter, fields: dict[str, Any], source: str | None
) -> list[tuple[str, dict[str, Any]]]:
    verdict = limiter.admit(source)
    out = [(SUPPRESSED_KIND, s.fields()) for s in verdict.summaries]
    if verdict.record:
        out.append((limiter.refused, {**fields, "source": (source or "unknown")[:_MAX_SOURCE]}))
    return out


def audit_refusal(
    audit: _AuditLog, limiter: RefusalLimiter, fields: dict[str, Any], source: str | None
) -> None:
    """Record one refusal from ``source`` (kind ``limiter.refused``) if its window allows, after the
    summaries of the windows that closed. Never raises: a refusal is answered whatever the log says."""
    try:
        for kind, body in _records(limiter, fields, source):
            audit.append(kind, body)
    except Exception:
        log.exception("could not audit a refused request")


class Refusals:
    """Refusals before anyone is identified, recorded through the audit log the service was handed
    (``Proctor.refusals``): the HTTP API asks it, and never holds the log itself."""

    def __init__(self, audit: _AuditLog) -> None:
        self._audit = audit

    def record(self, limiter: RefusalLimiter, fields: dict[str, Any], source: str | None) -> None:
        """:func:`audit_refusal` on this log."""
        audit_refusal(self._audit, limiter, fields, source)

    async def record_async(self, limiter: RefusalLimiter, fields: dict[str, Any], source: str | None) -> None:
        """:func:`audit_refusal_async` on this log."""
        await audit_refusal_async(self._audit, limiter, fields, source)

    def write_summaries(self, limiter: RefusalLimiter, *, final: bool = False) -> None:
        """:func:`write_summaries` on this log."""
        write_summaries(self._audit, limiter, final=final)


async def audit_refusal_async(
    audit: _AuditLog, limiter: RefusalLimiter, fields: dict[str, Any], source: str | None
) -> None:
    """:func:`audit_refusal` for asyncio transports."""
    try:
        for kind, body in _records(limiter, fields, source):
            await audit.append_async(kind, body)
    except Exception:
        log.exception("could not audit a refused request")


def write_summaries(audit: _AuditLog, limiter: RefusalLimiter, *, final: bool = False) -> None:
    """Write the summaries of the windows that have closed (``final``: of every window, at
    shutdown). Never raises."""
    try:
        for s in limiter.drain() if final else limiter.due():
            audit.append(SUPPRESSED_KIND, s.fields())
    except Exception:
        log.exception("could not audit suppressed refusals")
