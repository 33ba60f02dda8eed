"""Approval benchmarks (issue 14): filing a request and checking a grant on the retry.

Run ``python -m bench.bench_approvals``. Each is measured end to end through the pipeline on a real
SQLite workspace (``Proctor.decide``: identity, task, decision, approval stage, and the decision's
durable record), interleaved with a call of the same shape that needs no approval, and reported as
what the approval stage adds to it (the durable decision record is paid by every call; the
approval's own rows and records ride in that same commit):

- ``approval.request``: a call the policy holds, for the first time: the call digest, the arguments
  sealed with the secrets key, the request stored and ``approval.requested`` committed with the
  decision. Target p50 <= 1 ms.
- ``approval.grant_check``: the identical call retried after a person approved it: the grant's
  signature verified (ES256, never cached: each grant is new), its binding checked, the grant
  consumed atomically and ``approval.used`` committed with the decision. Target p50 <= 1 ms.

The raw rows (``approval.*.call`` and ``approval.baseline.call``) are in the table too. Calls that
need no approval never reach the stage (the pipeline runs it only for ``approval_required``).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.stats import row
from proctor.app import Proctor
from proctor.approvals.model import Approver
from proctor.pipeline import CallInput
from proctor.types import Email, Verdict
from proctor.workspace import Workspace

N = 1_500
CONFIG = """\
trust_domain: acme.test
approvals: {max_pending: 10000}
tools:
  - {name: pay.send, effect: pay, flags: [financial]}
  - {name: pay.quote, effect: read}
"""


def _added(name: str, held: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "p50_us": round(held["p50_us"] - base["p50_us"], 1),
        "p99_us": round(held["p99_us"] - base["p99_us"], 1),
        "ops_per_s": round(held["ops_per_s"] / base["ops_per_s"], 3),  # ratio held/plain
    }


def bench_approvals(tmpdir: Path) -> list[dict[str, Any]]:
    ws, _ = Workspace.init(Path(tmpdir) / "ws-approvals", config_text=CONFIG)
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test")
        started = p.tasks.start(
            agent="bot", purpose="bench", allow=["pay.*"], requested_by="r@acme.test", ttl_s=3600
        )
        owner = Approver(Email("owner@acme.test"))

        def call(tool: str, i: int) -> CallInput:
            args = {"iban": f"DE{i:020d}", "amount": 100 + i, "memo": "invoice 2026-12"}
            return CallInput(tool=tool, args=args, agent="bot", task_token=started.token)

        for i in range(50):  # warm-up: both paths, caches and the writer thread
            p.decide(call("pay.quote", -i - 1))

        def interleaved(expect: Verdict) -> tuple[list[float], list[float], list[str]]:
            """A plain call and a `pay.send` call, alternately: their times, and the request ids."""
            base: list[float] = []
            held: list[float] = []
            ids: list[str] = []
            for i in range(N):
                for tool, into in (("pay.quote", base), ("pay.send", held)):
                    c = call(tool, i)
                    t0 = time.perf_counter_ns()
                    d = p.decide(c)
                    into.append((time.perf_counter_ns() - t0) / 1000)
                    assert d.verdict is (Verdict.ALLOW if tool == "pay.quote" else expect), d
                    if tool == "pay.send":
                        assert d.approval_id is not None
                        ids.append(d.approval_id)
            return base, held, ids

        base, held, ids = interleaved(Verdict.APPROVAL_REQUIRED)
        plain, request = row("approval.baseline.call", base), row("approval.request.call", held)
        for aid in ids:
            p.approvals.approve(aid, owner, "bench")
        base, held, _ = interleaved(Verdict.ALLOW)
        plain2, grant = row("approval.baseline.call", base), row("approval.grant_check.call", held)
    return [
        plain,
        request,
        grant,
        _added("approval.request", request, plain),
        _added("approval.grant_check", grant, plain2),
    ]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        for r in bench_approvals(Path(d)):
            print(r, file=sys.stdout)
