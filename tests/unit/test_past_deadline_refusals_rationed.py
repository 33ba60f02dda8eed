"""A session let in with an expired task token of a task past its deadline (docs/adr/0032,
amendment of 2026-12-06) has every call refused as that task's. Before, such a session was refused
at the door with a rate-limited `gateway.refused`; let in, each refused call was a full decision
record, no limit: anyone holding a day-old token could grow the audit log at will. The records are
rationed as refusals at the door are (`audit.refusal_records` per agent/task and window, then one
`audit.refusals_suppressed` summary), and every call is still refused with its reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from proctor.app import Proctor
from proctor.audit.refusals import SUPPRESSED_KIND
from proctor.pipeline import CallInput
from proctor.policy.engine import Decision
from proctor.store.base import AuditQuery
from proctor.testing import temporary_workspace
from proctor.types import Verdict
from proctor.workspace import Workspace

CONFIG = "trust_domain: acme.test\nstore: sqlite:///proctor.db\naudit:\n  refusal_records: 3\n  refusal_window: 60s\n"


def _records(p: Any, kind: str) -> list[dict[str, Any]]:
    p.audit.flush()
    return [json.loads(x.body) for x in p.store.search_audit(AuditQuery(kind=kind))]


@pytest.mark.parametrize("how", ["sync", "async", "overlapped"])
def test_an_expired_tokens_refusals_are_recorded_at_a_bounded_rate(tmp_path: Path, how: str) -> None:
    with temporary_workspace(tmp_path / "ws", config_text=CONFIG) as sb:
        p = sb.proctor
        p.agents.add("researcher", "owner@acme.test")
        started = p.tasks.start(
            agent="researcher", purpose="look up", allow=["*"], requested_by="alice@acme.test", ttl_s=60
        )
        sb.clock.advance(120)  # past its deadline, and its token expired with it
        call = CallInput(tool="crm.lookup", args={}, agent="researcher", task_token=started.token)

        def decide() -> Decision:
            if how == "sync":
                return p.pipeline.decide_call(call)

            async def main() -> Decision:
                if how == "async":
                    return await p.pipeline.decide_call_async(call)
                decision, recorded = await p.pipeline.decide_and_record_async(call)
                assert (await recorded).verdict is Verdict.DENY
                return decision

            return anyio.run(main)

        for _ in range(8):
            d = decide()
            assert d.verdict is Verdict.DENY
            assert "past its deadline" in d.reasons[0], d.reasons  # the reason the agent reads
        decided = [r for r in _records(p, "decision") if r.get("task") == str(started.task.id)]
        assert len(decided) == 3, len(decided)
        assert _records(p, SUPPRESSED_KIND) == []
        sb.clock.advance(61)  # the window closes: the next refusal writes the summary first
        assert decide().verdict is Verdict.DENY
        summaries = _records(p, SUPPRESSED_KIND)
        assert [(s["source"], s["suppressed"], s["refused"]) for s in summaries] == [
            (f"researcher/{started.task.id}", 5, "decision")
        ]
        decided = [r for r in _records(p, "decision") if r.get("task") == str(started.task.id)]
        assert len(decided) == 4
        for _ in range(4):
            decide()
    # closed: what was still only counted is summarised (1 + 2 recorded, 2 counted in this window)
    with Proctor.open(Workspace.find(tmp_path / "ws")) as again:
        summaries = _records(again, SUPPRESSED_KIND)
        assert [s["suppressed"] for s in summaries] == [5, 2]
