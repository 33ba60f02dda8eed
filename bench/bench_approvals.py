"""Approval benchmarks (issue 14): filing a request and checking a grant on the retry.

Run ``python -m bench.bench_approvals``. Each is measured end to end through the pipeline on a real
SQLite workspace (``Proctor.decide``: identity, task, decision, the flow stage, the approval stage,
and the decision's durable record), interleaved with the SAME call (``pay.send``, the same
arguments) in a twin workspace whose policies are the starter's with every ``@approval``
annotation removed: there the call is permitted with no person, after the same identity, flow
(provenance, the payment counters) and Cedar work, and the same durable record. The difference is
what the approval stage adds (the approval's own rows and records ride in the decision's commit):

- ``approval.request``: a call the policy holds, for the first time: the call digest, the arguments
  sealed with the secrets key, the request stored and ``approval.requested`` committed with the
  decision. Target p50 <= 1 ms.
- ``approval.grant_check``: the identical call retried after a person approved it: the grant's
  signature verified (ES256, never cached: each grant is new), its binding checked, the grant
  consumed atomically and ``approval.used`` committed with the decision. Target p50 <= 1 ms.

[2026-12-07] Until then the baseline was a plain read (``pay.quote``). Since issue 15 a payment
also runs the flow stage (argument provenance, the spend counters: about 1 ms) that a read skips,
and that cost was reported as the approval stage's. The old comparison is still printed
(``approval.*.vs_read``) for continuity. The raw rows (``approval.*.call``,
``approval.baseline.call`` and ``approval.read.call``) are in the table too. Calls that need no
approval never reach the stage (the pipeline runs it only for ``approval_required``).
"""

from __future__ import annotations

import re
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

N = 1_000
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


def _twin_without_approvals(tmpdir: Path) -> Workspace:
    """A workspace like the measured one whose policies hold nothing: every ``@approval``
    annotation removed, so each hold is a plain permit."""
    ws, _ = Workspace.init(Path(tmpdir) / "ws-approvals-twin", config_text=CONFIG)
    for path in ws.policies_dir.glob("*.cedar"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r'^@approval\("[^"]*"\)\n', "", text, flags=re.M), encoding="utf-8")
    return ws


def bench_approvals(tmpdir: Path) -> list[dict[str, Any]]:
    ws, _ = Workspace.init(Path(tmpdir) / "ws-approvals", config_text=CONFIG)
    twin_ws = _twin_without_approvals(tmpdir)
    with Proctor.open(ws) as p, Proctor.open(twin_ws) as twin:
        tokens = {}
        for px in (p, twin):
            px.agents.add("bot", "owner@acme.test")
            tokens[id(px)] = px.tasks.start(
                agent="bot", purpose="bench", allow=["pay.*"], requested_by="r@acme.test", ttl_s=3600
            ).token
        owner = Approver(Email("owner@acme.test"))

        def call(px: Proctor, tool: str, i: int) -> CallInput:
            args = {"iban": f"DE{i:020d}", "amount": 100 + i, "memo": "invoice 2026-12"}
            return CallInput(tool=tool, args=args, agent="bot", task_token=tokens[id(px)])

        for i in range(50):  # warm-up: every path, caches and the writer threads
            p.decide(call(p, "pay.quote", -i - 1))
            twin.decide(call(twin, "pay.send", -i - 1))

        def interleaved(expect: Verdict) -> tuple[list[float], list[float], list[float], list[str]]:
            """The same ``pay.send`` call in the twin (no approval), a plain read, and the held
            ``pay.send``, in turn: their times, and the request ids."""
            same: list[float] = []
            read: list[float] = []
            held: list[float] = []
            ids: list[str] = []
            for i in range(N):
                for px, tool, into, verdict in (
                    (twin, "pay.send", same, Verdict.ALLOW),
                    (p, "pay.quote", read, Verdict.ALLOW),
                    (p, "pay.send", held, expect),
                ):
                    c = call(px, tool, i)
                    t0 = time.perf_counter_ns()
                    d = px.decide(c)
                    into.append((time.perf_counter_ns() - t0) / 1000)
                    assert d.verdict is verdict, d
                    if px is p and tool == "pay.send":
                        assert d.approval_id is not None
                        ids.append(d.approval_id)
            return same, read, held, ids

        same, read, held, ids = interleaved(Verdict.APPROVAL_REQUIRED)
        base1, read1 = row("approval.baseline.call", same), row("approval.read.call", read)
        request = row("approval.request.call", held)
        for aid in ids:
            p.approvals.approve(aid, owner, "bench")
        same, read, held, _ = interleaved(Verdict.ALLOW)
        base2, read2 = row("approval.baseline.call", same), row("approval.read.call", read)
        grant = row("approval.grant_check.call", held)
    return [
        base1,
        read1,
        request,
        grant,
        _added("approval.request", request, base1),
        _added("approval.grant_check", grant, base2),
        _added("approval.request.vs_read", request, read1),
        _added("approval.grant_check.vs_read", grant, read2),
    ]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        for r in bench_approvals(Path(d)):
            print(r, file=sys.stdout)
