"""``scale.audit``: audit records per second with 1 and 4 writer processes on one PostgreSQL.

Each writer process is one :class:`~proctor.audit.log.AuditLog` (its own chain, docs/adr/0036)
with ``CONCURRENCY`` asyncio callers in flight, as a gateway under load has; every record is
durably committed before its caller goes on. All writers start together and run for
``DURATION_S``; the result is the records all of them committed per second, and the ratio of 4
writers to 1 (the work scales with processes when it grows, issue 19).

Run ``python -m bench.bench_scale_audit [postgresql://…]`` (without a URL a private server is
started, as the tests do).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DURATION_S = 5.0
CONCURRENCY = 32
WRITERS = (1, 4)


def _worker(url: str, duration: float, concurrency: int) -> None:
    """One writer process: wait for "go" on stdin, append for ``duration`` s, print the count."""
    from bench.bench_audit import _fields, _Signer
    from proctor.audit import AuditLog
    from proctor.clock import SystemClock
    from proctor.store import open_store

    store = open_store(url, migrate=False)
    audit = AuditLog(store, SystemClock(), _Signer(), checkpoint_every=10_000)
    audit.append("bench.start", {})  # registers the writer before the clock starts
    print("ready", flush=True)
    sys.stdin.readline()
    done = 0

    async def caller(t: int, until: float) -> None:
        nonlocal done
        i = 0
        while time.monotonic() < until:
            await audit.append_async("decision", _fields(i), agent=f"agent-{t % 16}", decision="allow")
            done += 1
            i += 1

    async def run() -> float:
        t0 = time.monotonic()
        until = t0 + duration
        await asyncio.gather(*(caller(t, until) for t in range(concurrency)))
        return time.monotonic() - t0

    elapsed = asyncio.run(run())
    audit.close()
    store.close()
    print(json.dumps({"records": done, "elapsed": elapsed}), flush=True)


def _run(url: str, writers: int, duration: float, concurrency: int) -> float:
    root = Path(__file__).resolve().parents[1]
    src = os.environ.get("PROCTOR_BENCH_SRC", str(root / "src"))  # another tree's code, to compare
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, str(root)])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.bench_scale_audit", "worker", url, str(duration), str(concurrency)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=root,
        )
        for _ in range(writers)
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            if line.strip() != "ready":
                raise RuntimeError(f"a writer did not start: {line!r}")
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        total = 0
        longest = 0.0
        for p in procs:
            out, _ = p.communicate(timeout=duration + 60)
            got = json.loads(out.strip().splitlines()[-1])
            total += int(got["records"])
            longest = max(longest, float(got["elapsed"]))
        return total / longest
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


def bench_scale_audit(
    url: str, duration: float = DURATION_S, concurrency: int = CONCURRENCY
) -> list[dict[str, Any]]:
    """``scale.audit.w1`` and ``scale.audit.w4`` (records/s of all writers together) and
    ``scale.audit`` (ops_per_s: their ratio, 4 writers over 1); the same with one caller per
    writer as ``scale.audit.1caller*``."""
    out: list[dict[str, Any]] = []
    # the loaded shape (the target): CONCURRENCY callers per writer, so a writer commits full
    # batches and keeps about one core busy; then one caller per writer, each record waiting for
    # its own commit (a writer waiting on I/O), reported without a target
    for suffix, callers in (("", concurrency), (".1caller", 1)):
        rates = {n: _run(url, n, duration, callers) for n in WRITERS}
        out += [
            {"name": f"scale.audit{suffix}.w{n}", "p50_us": 0.0, "p99_us": 0.0, "ops_per_s": round(rate)}
            for n, rate in rates.items()
        ]
        ratio = round(rates[4] / rates[1], 2)
        out.append({"name": f"scale.audit{suffix}", "p50_us": 0.0, "p99_us": 0.0, "ops_per_s": ratio})
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        _worker(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
        return
    if len(sys.argv) > 1:
        results = bench_scale_audit(sys.argv[1])
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.pgserver import temporary_postgres

        from proctor.store import open_store

        with temporary_postgres() as url:
            open_store(url).close()  # migrated once, before the writers start
            results = bench_scale_audit(url)
    for r in results:
        print(f"{r['name']:<20}{r['ops_per_s']:>12}")


if __name__ == "__main__":
    main()
