"""Store calls from the event loop: off the loop, bounded, and failing fast while the store is down.

A store call made from asyncio code runs on a worker thread through :meth:`StoreGuard.run`,
which waits at most ``timeout_s`` for it. A call that fails with :class:`StoreUnavailable`, or does
not answer within the bound, opens the breaker: from then on every guarded call fails at once
(fail closed: the caller denies with ``store_unavailable``) while one background thread probes the
store and closes the breaker as soon as the probe answers. See docs/adr/0019.

A call abandoned at the bound keeps running on its worker thread until the store answers or fails:
its effect (a budget unit consumed, say) may still land, which only ever errs on the closed side.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from proctor.clock import SystemClock
from proctor.errors import StoreUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

#: the default bound on one store call made from the event loop (``store_timeout`` in proctor.yaml)
DEFAULT_TIMEOUT_S = 2.0
#: how often the probe asks a store that is down whether it answers again
PROBE_INTERVAL_S = 0.1
#: worker threads for guarded calls (calls abandoned at the bound hold one until the store answers)
WORKERS = 16


class StoreGuard:
    """The breaker in front of one store. ``probe`` is a cheap read (the epoch) that raises while
    the store is unavailable; ``on_recover`` runs on the probe thread once it answers again, with
    the outage's start (monotonic seconds) and how many calls were refused meanwhile."""

    def __init__(
        self,
        probe: Callable[[], object],
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        probe_interval_s: float = PROBE_INTERVAL_S,
        on_recover: Callable[[str, float, int], None] | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        """``monotonic``: the injected clock's monotonic reading (outage lengths); the bound on a
        call and the probe's pace are waits, and run in real time."""
        if timeout_s <= 0:
            raise ValueError("the store timeout must be above 0")
        self.timeout_s = timeout_s
        self._probe = probe
        self._interval = probe_interval_s
        self.on_recover = on_recover
        self._monotonic = monotonic or SystemClock().monotonic
        self._lock = threading.Lock()
        #: why the store is considered down, or None while it answers
        self.down: str | None = None
        self.down_since = 0.0
        #: calls refused without asking the store during the current outage
        self.refused = 0
        self._probing = False
        self._closed = False
        self._executor: ThreadPoolExecutor | None = None
        #: reads run on the calling thread: the store says they never wait on a lock (SQLite in WAL
        #: mode, a local file), so a thread hop would cost more than the read
        self.inline_reads = False

    # state ----------------------------------------------------------------------------------
    def check(self) -> None:
        """Raise :class:`StoreUnavailable` at once while the breaker is open."""
        reason = self.down
        if reason is not None:
            self.refused += 1  # a lost increment under a race only undercounts a log line
            raise StoreUnavailable(
                "the store is unavailable: calls are refused until it answers again", cause=reason
            )

    def observe(self, exc: BaseException) -> None:
        """Open the breaker if ``exc`` says the store cannot be reached."""
        if isinstance(exc, StoreUnavailable):
            self.trip(str(exc.details.get("cause") or exc.message))

    def trip(self, reason: str) -> None:
        """Open the breaker (if it is not already) and start the probe."""
        with self._lock:
            if self._closed:
                return
            if self.down is None:
                self.down = reason
                self.down_since = self._monotonic()
                self.refused = 0
                log.error("store unavailable (%s): calls are refused until it answers again", reason)
            if self._probing:
                return
            self._probing = True
        threading.Thread(target=self._probe_loop, name="proctor-store-probe", daemon=True).start()

    def health(self) -> dict[str, Any]:
        """What ``/healthz`` says of the store (read without asking it)."""
        down = self.down
        if down is None:
            return {"status": "ok"}
        return {
            "status": "unavailable",
            "down_for_s": round(self._monotonic() - self.down_since, 1),
            "refused": self.refused,
        }

    def _probe_loop(self) -> None:
        while True:
            time.sleep(self._interval)
            if self._closed:
                return
            try:
                self._probe()
            except Exception as exc:
                log.debug("store probe: still unavailable (%s)", type(exc).__name__)
                continue
            with self._lock:
                if self._closed:  # closed while the probe read: no hook on a closed store
                    return
                reason, since, refused = self.down or "", self.down_since, self.refused
                self.down = None
                self._probing = False
            log.warning("store answers again after %.1f s: calls go ahead", self._monotonic() - since)
            if self.on_recover is not None:
                try:
                    self.on_recover(reason, since, refused)
                except Exception:
                    log.exception("store recovery hook failed")
            return

    # calls ----------------------------------------------------------------------------------
    def _pool(self) -> ThreadPoolExecutor:
        ex = self._executor
        if ex is None:
            with self._lock:
                ex = self._executor
                if ex is None:
                    ex = self._executor = ThreadPoolExecutor(WORKERS, thread_name_prefix="proctor-store")
        return ex

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            return fn(*args)
        except StoreUnavailable as exc:
            self.observe(exc)
            raise

    async def run(self, fn: Callable[..., T], *args: Any, read: bool = False) -> T:
        """``fn(*args)`` on a worker thread, awaited for at most ``timeout_s``: raises
        :class:`StoreUnavailable` at once while the breaker is open, or when the call does not
        answer in time (which opens it). ``read``: ``fn`` only reads, and runs right here when
        the store's reads never wait (:attr:`inline_reads`)."""
        self.check()
        if read and self.inline_reads:
            return self._call(fn, args)
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(self._pool(), self._call, fn, args)
        try:
            return await asyncio.wait_for(fut, self.timeout_s)
        except TimeoutError:
            reason = f"no answer within {self.timeout_s:g} s"
            self.trip(reason)
            raise StoreUnavailable(
                "the store did not answer in time: the call is refused", cause=reason
            ) from None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            ex, self._executor = self._executor, None
        if ex is not None:
            ex.shutdown(wait=False, cancel_futures=True)


__all__ = ["DEFAULT_TIMEOUT_S", "StoreGuard"]
