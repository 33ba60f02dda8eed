"""Several writer processes on one PostgreSQL: a stalled writer blocks only itself (issue 19,
docs/adr/0036). One process is stopped (SIGSTOP) inside its append transaction, its writer's lock
held; the other two keep committing. After SIGCONT its record commits; nothing acknowledged is
lost, and ``verify_log`` passes every chain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from proctor.audit import verify_log
from proctor.store import open_store

CHILD = Path(__file__).with_name("audit_writer_child.py")
SEED = bytes(range(32))

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGSTOP")


class Child:
    def __init__(self, url: str, n: int, mode: str) -> None:
        env = {**os.environ}
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), url, SEED.hex(), str(n), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self.locked = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.strip())
            if line.strip() == "locked":
                self.locked.set()

    def acknowledged(self) -> int:
        counts = [int(x.split()[1]) for x in list(self.lines) if x.startswith("n ")]
        return max(counts, default=0)

    def finish(self, timeout: float = 60, *, stop: bool = True) -> tuple[int, int]:
        assert self.proc.stdin is not None
        if stop:
            try:
                self.proc.stdin.write("stop\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
        self.proc.wait(timeout)
        self._reader.join(5)
        assert self.proc.stderr is not None
        err = self.proc.stderr.read()
        assert self.proc.returncode == 0, err[-2000:]
        done = next(x for x in self.lines if x.startswith("done "))
        _, count, writer = done.split()
        return int(count), int(writer)


def _count(url: str, after: int) -> int:
    with psycopg.connect(url, autocommit=True) as con:
        row = con.execute("SELECT count(*) FROM audit_records WHERE seq > %s", (after,)).fetchone()
    return int(row[0]) if row else 0


def test_a_stopped_writer_blocks_only_itself(pg_migrated_url: str) -> None:
    stalled = Child(pg_migrated_url, 60, "stall")
    others = [Child(pg_migrated_url, 100_000, "run") for _ in range(2)]
    try:
        assert stalled.locked.wait(60), stalled.lines[-3:]
        os.kill(stalled.proc.pid, signal.SIGSTOP)
        try:
            before = [c.acknowledged() for c in others]
            held = stalled.acknowledged()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not all(
                c.acknowledged() >= b + 100 for c, b in zip(others, before, strict=True)
            ):
                time.sleep(0.05)
            # the others committed (and were acknowledged) while the stopped writer held its lock
            assert all(c.acknowledged() >= b + 100 for c, b in zip(others, before, strict=True)), (
                before,
                [c.acknowledged() for c in others],
            )
            assert stalled.acknowledged() == held == 19
        finally:
            os.kill(stalled.proc.pid, signal.SIGCONT)
        stalled_done, stalled_writer = stalled.finish(stop=False)
        assert stalled_done == 60  # its stopped append committed after SIGCONT, and the rest
        results = [c.finish() for c in others]
    finally:
        for c in (stalled, *others):
            if c.proc.poll() is None:
                os.kill(c.proc.pid, signal.SIGCONT)
                c.proc.kill()
    store = open_store(pg_migrated_url, migrate=False)
    try:
        by_writer: dict[int, int] = {}
        for r in store.iter_audit():
            by_writer[r.writer] = by_writer.get(r.writer, 0) + 1
        # nothing acknowledged was lost, nothing was written twice
        assert by_writer == {stalled_writer: 60, **{w: n for n, w in results}}
        key = Ed25519PrivateKey.from_private_bytes(SEED).public_key()
        report = verify_log(store, {"writers-test": key})
        assert report.ok, report.problems
        assert len(report.writers) == 3
        assert all(w["ok"] and w["unsigned_tail"] == 0 for w in report.writers)
    finally:
        store.close()
