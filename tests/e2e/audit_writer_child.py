"""A writer process for tests/e2e/test_audit_writers_pg.py: one AuditLog on a PostgreSQL store.

``python audit_writer_child.py URL SEED_HEX N stall|run``: appends up to N records (each one
acknowledged only once committed), printing ``n <count>`` after each, until N or a line on stdin.
``stall`` pauses once, inside its append transaction after taking its writer's lock, printing
``locked``: the parent stops the process there (SIGSTOP) as a paused or cut-off process would be.
At the end it prints ``done <count>`` and exits 0.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from proctor.audit import AuditLog
from proctor.clock import SystemClock
from proctor.store import open_store


class Signer:
    def __init__(self, seed: bytes) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.kid = "writers-test"

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)


def main() -> None:
    url, seed, n, mode = sys.argv[1], bytes.fromhex(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    store = open_store(url, migrate=False)
    stop = threading.Event()

    def wait_for_stop() -> None:
        sys.stdin.readline()
        stop.set()

    threading.Thread(target=wait_for_stop, daemon=True).start()
    if mode == "stall":
        real = store._lock_audit_chain  # type: ignore[attr-defined]
        state = {"appends": 0}

        def lock(*args: Any) -> None:
            real(*args)
            state["appends"] += 1
            if state["appends"] == 20:
                print("locked", flush=True)
                time.sleep(1.0)  # the parent stops us here, the transaction open

        store._lock_audit_chain = lock  # type: ignore[attr-defined]
    audit = AuditLog(store, SystemClock(), Signer(seed), checkpoint_every=50)
    done = 0
    for i in range(n):
        if stop.is_set():
            break
        audit.append("call", {"i": i, "mode": mode}, agent=f"agent-{mode}")
        done += 1
        print(f"n {done}", flush=True)
    audit.close()
    store.close()
    print(f"done {done} {audit.writer}", flush=True)


if __name__ == "__main__":
    main()
