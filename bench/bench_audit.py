"""Audit log benchmarks: durable group-commit appends and chain verification.

Run ``python bench/bench_audit.py [postgresql://…]``. Each function returns
``{"name", "p50_us", "p99_us", "ops_per_s"}``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from proctor.audit import AuditEntry, AuditLog, verify_log
from proctor.clock import SystemClock
from proctor.store import Store, open_store

PRODUCERS = 16
ASYNC_CONCURRENCY = 256
ASYNC_APPENDS = 40_960
APPENDS = 20_000
VERIFY_RECORDS = 120_000


class _Signer:
    """A fixed benchmark key, so a log built by an earlier run in the same folder still verifies."""

    def __init__(self) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(b"proctor-bench-audit-signing-key!")
        self.kid = "bench-audit"

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def public(self) -> Ed25519PublicKey:
        return self._key.public_key()


def _fields(i: int) -> dict[str, Any]:
    """A decision record of realistic size (~350 bytes of canonical JSON)."""
    return {
        "reasons": ["policy:finance-limits", "scope:task"],
        "policy_version": "sha256:3f1c9a0e5b7d2c4a",
        "call_digest": f"{i:064x}",
        "latency_us": 412,
        "labels": {"trust": "trusted", "sensitivity": "internal"},
    }


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _bench_append(
    store: Store, name: str, producers: int = PRODUCERS, total: int = APPENDS
) -> dict[str, Any]:
    audit = AuditLog(store, SystemClock(), _Signer())
    per = total // producers
    latencies: list[list[float]] = [[] for _ in range(producers)]
    start = threading.Barrier(producers + 1)

    def work(t: int) -> None:
        lat = latencies[t]
        clock = time.perf_counter
        append = audit.append
        start.wait()
        for i in range(per):
            t0 = clock()
            append(
                "decision",
                _fields(i),
                agent=f"agent-{t}",
                task="tsk_0123456789abcdefghijkl",
                tool="payments.transfer",
                decision="allow",
                decision_id=f"dec_{t:04d}{i:018d}",
            )
            lat.append(clock() - t0)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(producers)]
    for th in threads:
        th.start()
    start.wait()
    t0 = time.perf_counter()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t0
    audit.close()
    flat = [x for lat in latencies for x in lat]
    return {
        "name": name,
        "p50_us": round(statistics.median(flat) * 1e6, 1),
        "p99_us": round(_pct(flat, 0.99) * 1e6, 1),
        "ops_per_s": round(len(flat) / elapsed),
    }


def _bench_append_async(
    store: Store, name: str, concurrency: int = ASYNC_CONCURRENCY, total: int = ASYNC_APPENDS
) -> dict[str, Any]:
    """``concurrency`` requests in flight on one event loop (how an ASGI server calls the log);
    each ``append_async`` resolves only once its record is committed."""
    audit = AuditLog(store, SystemClock(), _Signer())
    per = total // concurrency
    flat: list[float] = []

    async def request(t: int) -> None:
        clock = time.perf_counter
        for i in range(per):
            t0 = clock()
            await audit.append_async(
                "decision",
                _fields(i),
                agent=f"agent-{t % 16}",
                task="tsk_0123456789abcdefghijkl",
                tool="payments.transfer",
                decision="allow",
                decision_id=f"dec_{t:04d}{i:018d}",
            )
            flat.append(clock() - t0)

    async def run() -> float:
        t0 = time.perf_counter()
        await asyncio.gather(*(request(t) for t in range(concurrency)))
        return time.perf_counter() - t0

    elapsed = asyncio.run(run())
    audit.close()
    return {
        "name": name,
        "p50_us": round(statistics.median(flat) * 1e6, 1),
        "p99_us": round(_pct(flat, 0.99) * 1e6, 1),
        "ops_per_s": round(len(flat) / elapsed),
    }


def bench_append_sqlite(tmpdir: str | Path) -> list[dict[str, Any]]:
    """Durable appends on SQLite: asyncio callers (``audit.append.sqlite``) and, for comparison,
    16 threads each parked until its own commit (``audit.append.sqlite.threads``)."""
    out = []
    for name, fn in (
        ("audit.append.sqlite", _bench_append_async),
        ("audit.append.sqlite.threads", _bench_append),
    ):
        store = open_store(f"sqlite:///{Path(tmpdir) / f'bench-{name}.db'}")
        try:
            out.append(fn(store, name))
        finally:
            store.close()
    return out


def bench_append_postgres(url: str) -> list[dict[str, Any]]:
    """As :func:`bench_append_sqlite`, on the PostgreSQL engine at ``url`` (appends to its log)."""
    out = []
    for name, fn in (
        ("audit.append.postgres", _bench_append_async),
        ("audit.append.postgres.threads", _bench_append),
    ):
        store = open_store(url)
        try:
            out.append(fn(store, name))
        finally:
            store.close()
    return out


def bench_verify_sqlite(
    tmpdir: str | Path, records: int = VERIFY_RECORDS, *, deep: bool = False
) -> dict[str, Any]:
    """Verify a signed log of ``records`` records; p50/p99 are per-record times over 5 runs."""
    signer = _Signer()
    store = open_store(f"sqlite:///{Path(tmpdir) / f'bench-verify-{records}.db'}")
    try:
        head = store.audit_head()
        if head is None or head.seq < records:
            with AuditLog(store, SystemClock(), signer, checkpoint_every=10_000) as audit:
                chunk = 5_000
                for n in range(0, records, chunk):
                    audit.append_many(
                        [
                            AuditEntry("decision", _fields(i), agent="agent-1", decision="allow", tool="x.y")
                            for i in range(n, n + chunk)
                        ]
                    )
        keys = {signer.kid: signer.public()}
        runs: list[float] = []
        for _ in range(5):
            t0 = time.perf_counter()
            report = verify_log(store, keys, deep=deep)
            runs.append(time.perf_counter() - t0)
            if not report.ok or report.records_checked < records:
                raise RuntimeError(f"verify failed: {report.problems[:3]}")
        n = report.records_checked
        per_record = [r / n for r in runs]
        return {
            "name": "audit.verify.deep" if deep else "audit.verify",
            "p50_us": round(statistics.median(per_record) * 1e6, 3),
            "p99_us": round(max(per_record) * 1e6, 3),
            "ops_per_s": round(n / statistics.median(runs)),
        }
    finally:
        store.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print(bench_append_sqlite(tmp))
        print(bench_verify_sqlite(tmp))
        print(bench_verify_sqlite(tmp, deep=True))
    if len(sys.argv) > 1:
        print(bench_append_postgres(sys.argv[1]))


if __name__ == "__main__":
    main()
