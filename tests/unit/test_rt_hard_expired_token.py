"""Red team of the expired task token admitted as its task's (docs/adr/0032, amendment of
2026-12-06): a session let in with a token whose only fault is that it expired, its task past its
deadline, is refused on every call; it never asks the store from the event loop."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import anyio
import pytest

from proctor.pipeline import CallInput
from proctor.testing import temporary_workspace
from proctor.types import AgentName, Verdict


def test_an_expired_tokens_call_reads_no_store_on_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway decides a call on its event loop when the request's snapshot holds what it
    needs (docs/adr/0019). The check of an expired token read its task from the store right there
    (no store worker, no store timeout): each call of such a session, which anyone holding a
    day-old token can repeat at will, held the loop (every session) for as long as the store took,
    unbounded while PostgreSQL hangs. The task comes from the snapshot, as the live token's does."""
    with temporary_workspace(tmp_path / "ws") as sb:
        p = sb.proctor
        p.agents.add("researcher", "owner@acme.test")
        started = p.tasks.start(
            agent="researcher", purpose="look up", allow=["*"], requested_by="alice@acme.test", ttl_s=60
        )
        sb.clock.advance(120)  # past its deadline, and its token expired with it
        snap = p.state.snapshot()
        # what the gateway's request reads into its snapshot before deciding (http `_identify`)
        assert p.state.task(started.task.id, snap) is not None
        assert p.state.agent(AgentName("researcher"), snap) is not None
        loop_thread: list[int] = []
        on_loop: list[Any] = []
        original = p.store.get_task

        def get_task(task_id: Any) -> Any:
            if loop_thread and threading.get_ident() == loop_thread[0]:
                on_loop.append(task_id)
            return original(task_id)

        monkeypatch.setattr(p.store, "get_task", get_task)
        call = CallInput(tool="crm.lookup", args={}, agent="researcher", task_token=started.token)

        async def main() -> Any:
            loop_thread.append(threading.get_ident())
            return await p.pipeline.decide_call_async(call, snap=snap)

        d = anyio.run(main)
        assert d.verdict is Verdict.DENY
        assert "past its deadline" in d.reasons[0], d.reasons
        assert on_loop == [], "the store was read on the event loop"
