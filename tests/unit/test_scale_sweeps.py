"""Several Proctor processes sweeping one PostgreSQL at once: each expiry and revocation once (issue 19).

Three Proctor instances (each with its own connection pool, audit writer and lease manager, as three
``proctor gateway`` processes have) share one real PostgreSQL and sweep 300 expired tasks holding
one lease each at the same moment. Each task must be expired and audited once, and each lease's
provider revocation (a ``DROP ROLE`` for the PostgreSQL provider) run once.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from proctor.app import Proctor
from proctor.clock import FrozenClock
from proctor.credentials.providers import Issued, IssueRequest
from proctor.types import LeaseState, TaskState
from proctor.workspace import Workspace

TASKS = 300
SWEEPERS = 3

CONFIG = """\
trust_domain: acme.test
tools:
  - {name: fs.read_file, effect: read}
"""


class CountingProvider:
    """Counts revocations per credential across every Proctor that shares it (thread-safe)."""

    kind = "fake"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.issued = 0
        self.revoked: Counter[str] = Counter()

    def issue(self, req: IssueRequest) -> Issued:
        with self._lock:
            self.issued += 1
            cid = f"cred-{self.issued}"
        return Issued(data={"token": cid}, expires_at=req.now + 3600, revoke_handle={"cid": cid})

    def revoke(self, handle: Mapping[str, Any]) -> None:
        time.sleep(0.002)  # a provider round trip: other sweepers run meanwhile
        with self._lock:
            self.revoked[str(handle["cid"])] += 1


def test_three_sweepers_expire_and_revoke_each_task_once(tmp_path: Path, pg_migrated_url: str) -> None:
    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    clock = FrozenClock()
    provider = CountingProvider()
    procs = [Proctor.open(ws, clock=clock, store_url=pg_migrated_url) for _ in range(SWEEPERS)]
    try:
        for p in procs:
            p.credentials.register_provider(provider)
        first = procs[0]
        agent = first.agents.add("bot", "owner@acme.test")
        for i in range(TASKS):
            task = first.tasks.start(
                agent="bot", purpose=f"job {i}", allow=["fs.*"], requested_by="req@acme.test", ttl_s=60
            ).task
            first.credentials.leases.issue(task, agent, "fake", {"name": f"db{i}"})
        assert provider.issued == TASKS
        clock.advance(120)  # every task is past its deadline

        go = threading.Barrier(SWEEPERS)
        errors: list[BaseException] = []

        def sweep(p: Proctor) -> None:
            try:
                go.wait()
                p.tasks.sweep()
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=sweep, args=(p,)) for p in procs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        for p in procs:  # a later sweep by anyone finds nothing left to do
            p.tasks.sweep()
            p.audit.flush()

        kinds = Counter(r.kind for r in first.store.iter_audit())
        assert kinds["task.expired"] == TASKS
        assert kinds["lease.revoked"] == TASKS
        ended = [
            x["lease_id"]
            for r in first.store.iter_audit()
            if r.kind == "lease.ended"
            for x in json.loads(r.body)["leases"]
        ]
        assert len(ended) == TASKS  # each lease ended once
        assert len(set(ended)) == TASKS
        assert len(provider.revoked) == TASKS
        assert set(provider.revoked.values()) == {1}, "a credential was revoked twice"
        assert {t.state for t in first.store.list_tasks()} == {TaskState.EXPIRED}
        leases = first.store.list_leases()
        assert len(leases) == TASKS
        assert {x.state for x in leases} == {LeaseState.EXPIRED}  # clamped to the task's deadline
        assert not any(x.pending for x in leases)
    finally:
        for p in procs:
            p.close()
