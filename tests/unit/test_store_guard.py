"""The store guard (docs/adr/0019): store calls from asyncio code are bounded, fail fast while the
store is down, and go ahead again as soon as the probe sees it answer."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from proctor.errors import StoreUnavailable
from proctor.store.guard import StoreGuard


def test_a_hung_call_is_refused_at_the_bound_then_calls_fail_fast_until_the_store_answers() -> None:
    release = threading.Event()
    answering = threading.Event()
    recovered: list[int] = []

    def probe() -> None:
        if not answering.is_set():
            raise StoreUnavailable("down")

    guard = StoreGuard(
        probe, timeout_s=0.2, probe_interval_s=0.02, on_recover=lambda _r, _s, n: recovered.append(n)
    )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(StoreUnavailable):
            await guard.run(release.wait)  # hangs: the store does not answer
        assert loop.time() - start < 2
        assert guard.down is not None
        # the loop stayed free meanwhile, and now every call fails at once, the store untouched
        touched: list[int] = []
        start = loop.time()
        for _ in range(5):
            with pytest.raises(StoreUnavailable):
                await guard.run(touched.append, 1)
        assert loop.time() - start < 0.5
        assert touched == []
        assert guard.health()["status"] == "unavailable"
        answering.set()  # the store is back: the probe closes the breaker
        deadline = time.monotonic() + 5
        while guard.down is not None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert await guard.run(lambda: 42) == 42

    try:
        asyncio.run(main())
    finally:
        release.set()
        guard.close()
    assert recovered == [5]


def test_an_unavailable_store_opens_the_breaker_and_other_errors_do_not() -> None:
    guard = StoreGuard(lambda: None, timeout_s=1, probe_interval_s=0.01)

    def fails(exc: Exception) -> None:
        raise exc

    async def main() -> None:
        with pytest.raises(ValueError, match="not the store"):
            await guard.run(fails, ValueError("not the store"))
        assert guard.down is None
        with pytest.raises(StoreUnavailable):
            await guard.run(fails, StoreUnavailable("refused", cause="connection refused"))
        assert guard.down == "connection refused"

    try:
        asyncio.run(main())
    finally:
        guard.close()


def test_a_probe_that_answers_after_close_renews_nothing() -> None:
    """The probe may be inside its read when the Proctor closes: its recovery hook (a new
    connection pool, a `store.recovered` record) must not run on a closed store (red team)."""
    in_probe, release, done = threading.Event(), threading.Event(), threading.Event()
    recovered: list[int] = []

    def probe() -> None:
        in_probe.set()
        release.wait(5)
        done.set()

    guard = StoreGuard(probe, probe_interval_s=0.01, on_recover=lambda _r, _s, n: recovered.append(n))
    guard.trip("down")
    assert in_probe.wait(5)
    guard.close()
    release.set()
    assert done.wait(5)
    time.sleep(0.2)  # the probe thread returns from its read and would run the hook now
    assert recovered == []


def test_a_closed_postgresql_store_is_not_reopened_by_a_late_reconnect(pg_migrated_url: str) -> None:
    from proctor.store import open_store

    store = open_store(pg_migrated_url, migrate=False)
    store.close()
    reconnect = store.reconnect  # type: ignore[attr-defined]
    reconnect()  # the probe's hook, arriving after close
    with pytest.raises(StoreUnavailable):
        store.epoch()
