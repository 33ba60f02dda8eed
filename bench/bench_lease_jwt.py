"""Lease benchmark: issuing a signed-token (``jwt``) credential to a live task.

Run ``python -m bench.bench_lease_jwt``. ``bench_issue_jwt`` returns ``{"name", "p50_us", "p99_us",
"ops_per_s"}`` like every other bench row, timing ``p.credentials.leases.issue(task, agent, "jwt", spec)``: the task
and agent re-read from the store, the ES256 signature, the lease row, and its audit record.

Where the time goes (cProfile, SQLite on a local disk): almost all of it is the lease manager's two
durable commits, one after the other: ``store.add_lease`` (SQLite ``synchronous=FULL``: an fsync) and
the ``lease.issued`` audit record (group commit, durable before ``append`` returns), each around
0.7-1 ms here. The provider itself (claims, ``sign_claims``, ES256) is about 100 us:
``bench_issue_jwt_provider`` measures it alone as ``lease.issue.jwt.provider``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.stats import row
from proctor.app import Proctor
from proctor.credentials.providers import IssueRequest
from proctor.credentials.providers.jwt import JwtProvider
from proctor.tasks.service import TASK_AUDIENCE
from proctor.types import LeaseId
from proctor.workspace import Workspace

WARMUP = 200
SAMPLES = 2000
TARGET_P50_US = 300.0
CONFIG = """\
trust_domain: acme.test
tools:
  - {name: billing.read, effect: read}
"""
SPEC = {"audience": "https://billing.test", "scope": "invoices:read", "ttl": 300}


def bench_issue_jwt(tmpdir: Path) -> dict[str, Any]:
    """``lease.issue.jwt``: one ``jwt`` lease for a live task (target p50 <= 300 us)."""
    ws, _ = Workspace.init(Path(tmpdir) / "ws-lease-jwt", config_text=CONFIG)
    samples: list[float] = []
    with Proctor.open(ws) as p:
        p.credentials.register_provider(
            JwtProvider(p.credentials.keys, p.audience, reserved_audiences=(p.audience, TASK_AUDIENCE)),
            replace=True,
        )
        agent = p.agents.add("bot", "o@acme.test")
        task = p.tasks.start(
            agent="bot", purpose="bench", allow=["billing.*"], requested_by="r@acme.test", ttl_s=3600
        ).task
        issue = p.credentials.leases.issue
        for i in range(WARMUP + SAMPLES):
            t0 = time.perf_counter_ns()
            _, data = issue(task, agent, "jwt", SPEC)
            elapsed = (time.perf_counter_ns() - t0) / 1000
            if i >= WARMUP:
                samples.append(elapsed)
            assert data["token_type"] == "Bearer"
        p.audit.flush()
    return row("lease.issue.jwt", samples)


def bench_issue_jwt_provider(tmpdir: Path) -> dict[str, Any]:
    """``lease.issue.jwt.provider``: ``JwtProvider.issue`` alone (spec checks, claims, ES256 signature)."""
    ws, _ = Workspace.init(Path(tmpdir) / "ws-lease-jwt-provider", config_text=CONFIG)
    samples: list[float] = []
    with Proctor.open(ws) as p:
        provider = JwtProvider(p.credentials.keys, p.audience, reserved_audiences=(p.audience, TASK_AUDIENCE))
        agent = p.agents.add("bot", "o@acme.test")
        task = p.tasks.start(
            agent="bot", purpose="bench", allow=["billing.*"], requested_by="r@acme.test", ttl_s=3600
        ).task
        now = p.clock.now()
        for i in range(WARMUP + SAMPLES):
            req = IssueRequest(LeaseId.new(), task, agent, SPEC, now)
            t0 = time.perf_counter_ns()
            provider.issue(req)
            elapsed = (time.perf_counter_ns() - t0) / 1000
            if i >= WARMUP:
                samples.append(elapsed)
    return row("lease.issue.jwt.provider", samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        row = bench_issue_jwt(Path(tmp))
        print(row)
        print(bench_issue_jwt_provider(Path(tmp)))
    sys.exit(0 if row["p50_us"] <= TARGET_P50_US else 1)


if __name__ == "__main__":
    main()
