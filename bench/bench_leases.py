"""Lease benchmark: revoking every lease of a task at its end.

Run ``python -m bench.bench_leases``. ``bench_revoke_task100`` returns
``{"name", "p50_us", "p99_us", "ops_per_s"}`` like every other bench row. The provider is a no-op, so
the figure is Proctor's own cost: one store transaction marking 100 leases, the attempt records in one
more, and the audit records in one group commit.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.stats import row
from proctor.app import Proctor
from proctor.credentials.providers import Issued, IssueRequest
from proctor.workspace import Workspace

LEASES = 100
ROUNDS = 60
CONFIG = """\
trust_domain: acme.test
tools:
  - {name: fs.read, effect: read, resource_arg: path, resource: "/data/*"}
"""


class NoopProvider:
    """Issues nothing real and revokes instantly: provider round trips are not what is measured."""

    kind = "noop"

    def issue(self, req: IssueRequest) -> Issued:
        return Issued(data={"token": "x"}, expires_at=req.now + 3600, revoke_handle={})

    def revoke(self, handle: Mapping[str, Any]) -> None:
        return None


def bench_revoke_task100(tmpdir: Path) -> dict[str, Any]:
    """``lease.revoke.task100``: ``revoke_task`` on a task holding 100 active leases (target p50 <= 50 ms)."""
    ws, _ = Workspace.init(Path(tmpdir) / "ws-leases", config_text=CONFIG)
    samples: list[float] = []
    with Proctor.open(ws) as p:
        p.credentials.register_provider(NoopProvider())
        agent = p.agents.add("bot", "o@acme.test")
        for _ in range(ROUNDS):
            task = p.tasks.start(
                agent="bot", purpose="bench", allow=["fs.*"], requested_by="r@acme.test", ttl_s=3600
            ).task
            for i in range(LEASES):
                p.credentials.leases.issue(task, agent, "noop", {"name": f"c{i}"})
            t0 = time.perf_counter_ns()
            summary = p.credentials.leases.revoke_task(task.id)
            samples.append((time.perf_counter_ns() - t0) / 1000)
            assert len(summary.confirmed) == LEASES, summary
    return row("lease.revoke.task100", samples)


def bench_issue_injected(tmpdir: Path, n: int = 2_000) -> dict[str, Any]:
    """``lease.issue.injected``: ``leases.issue`` of an injected secret (decrypt, lease row, audit
    record; target p50 <= 300 us). Each round starts a fresh task so lease tables grow as in use."""
    ws, _ = Workspace.init(Path(tmpdir) / "ws-inject", config_text=CONFIG)
    with Proctor.open(ws) as p:
        p.credentials.secrets.put("api.key", "bench-api-key-0123456789", p.clock.now())
        agent = p.agents.add("bot", "o@acme.test")
        task = p.tasks.start(
            agent="bot", purpose="bench", allow=["fs.*"], requested_by="r@acme.test", ttl_s=3600
        ).task
        spec = {"name": "api", "secret": "api.key"}
        for _ in range(200):
            p.credentials.leases.issue(task, agent, "injected", spec)
        samples = [0.0] * n
        t0 = time.perf_counter_ns()
        for i in range(n):
            s = time.perf_counter_ns()
            p.credentials.leases.issue(task, agent, "injected", spec)
            samples[i] = (time.perf_counter_ns() - s) / 1000
        total_s = (time.perf_counter_ns() - t0) / 1e9
    return row("lease.issue.injected", samples, total_s)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows = [bench_revoke_task100(Path(tmp)), bench_issue_injected(Path(tmp))]
    for r in rows:
        print(r)
    sys.exit(0 if rows[0]["p50_us"] <= 50_000 and rows[1]["p50_us"] <= 300 else 1)


if __name__ == "__main__":
    main()
