"""Red team of the cross-revision exchanges (proctor.gateway.xrev, 2026-12-06): the registry itself
ends an exchange held for a task when the task ends and when the gateway stops, recorded with why,
whatever its upstream call does (it relied on the session's teardown reaching that call). A real
workspace, store and gateway runtime; the upstream's call is one that never returns by itself (real
processes: test_rt_xrev_stop.py)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types

from proctor.app import Proctor
from proctor.gateway import xrev
from proctor.gateway.runtime import GatewayRuntime
from proctor.store.base import AuditQuery
from proctor.types import TaskId
from proctor.workspace import Workspace


def _elicit() -> types.ElicitRequest:
    return types.ElicitRequest(
        params=types.ElicitRequestFormParams(
            message="name?", requested_schema={"type": "object", "properties": {}}
        )
    )


async def _parked(runtime: GatewayRuntime, task_id: str, agent: str) -> tuple[xrev.Exchange, Any, Any]:
    """An exchange as the SDK leg leaves it after its first round: the upstream's call running, its
    request pending, parked for the client's retry."""
    from types import SimpleNamespace

    ex = xrev.Exchange(runtime.exchanges, SimpleNamespace(task_id=task_id, agent=agent), "fx__tool")  # type: ignore[arg-type]
    ex.capabilities = {"elicitation": {}}
    called = asyncio.Event()

    async def upstream_call() -> Any:
        called.set()
        await asyncio.Event().wait()  # the upstream never returns by itself

    ex.start(upstream_call)
    await called.wait()
    asked = asyncio.ensure_future(ex.ask(_elicit(), types.ElicitResult))
    assert await ex.events.get() == ("ask", None)
    ex.round = 1
    assert runtime.exchanges.park(ex)
    return ex, asked, ex.runner


def _ended(p: Proctor) -> list[dict[str, Any]]:
    rows = p.store.search_audit(AuditQuery(kind="gateway.exchange_ended", limit=10))
    return [json.loads(r.body) for r in rows]


def _reasons(p: Proctor) -> list[Any]:
    out: list[Any] = []
    for body in _ended(p):
        fields = body.get("data", body)
        out.append(fields.get("reason") if isinstance(fields, dict) else None)
    return out


def _setup(tmp_path: Path) -> tuple[Workspace, None]:
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\napprovals: {hold: 0}\n")
    return ws, None


def test_ending_the_task_ends_its_pending_exchanges_recorded(tmp_path: Path) -> None:
    ws, _ = _setup(tmp_path)
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test")
        task = p.tasks.start(agent="bot", purpose="x", allow=["fx.*"], requested_by="r@acme.test", ttl_s=3600)
        other = p.tasks.start(
            agent="bot", purpose="y", allow=["fx.*"], requested_by="r@acme.test", ttl_s=3600
        )
        runtime = GatewayRuntime(p, [])

        async def scenario() -> tuple[Any, bool, bool, bool]:
            async with runtime.running():
                runtime.owned(TaskId(task.task.id))
                runtime.owned(TaskId(other.task.id))
                ex, asked, runner = await _parked(runtime, task.task.id, "bot")
                kept, _kept_asked, kept_runner = await _parked(runtime, other.task.id, "bot")
                p.tasks.end(task.task.id)
                await runtime.close_ended_tasks()
                answer = await asyncio.wait_for(asked, 5)
                with anyio.move_on_after(5):
                    while not runner.done():
                        await anyio.sleep(0.05)
                alive = runtime.exchanges.holds(kept) and not kept_runner.done()
                runtime.task_group.cancel_scope.cancel()
                return answer, ex.ended, runner.cancelled(), alive

        answer, ended, cancelled, other_alive = anyio.run(scenario)
        assert isinstance(answer, types.ErrorData)  # the upstream is told no
        assert ended
        assert cancelled
        assert other_alive  # another task's exchange is its own
        assert "task_ended" in _reasons(p)


def test_stopping_the_gateway_ends_its_pending_exchanges_recorded(tmp_path: Path) -> None:
    ws, _ = _setup(tmp_path)
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test")
        task = p.tasks.start(agent="bot", purpose="x", allow=["fx.*"], requested_by="r@acme.test", ttl_s=3600)
        runtime = GatewayRuntime(p, [])
        seen: dict[str, Any] = {}

        async def scenario() -> None:
            async with runtime.running():
                runtime.owned(TaskId(task.task.id))
                ex, asked, runner = await _parked(runtime, task.task.id, "bot")
                seen.update(ex=ex, asked=asked, runner=runner)
            await asyncio.sleep(0)
            seen["cancelling"] = seen["runner"].cancelling() or seen["runner"].done()

        anyio.run(scenario)
        assert seen["ex"].ended
        assert seen["asked"].done()
        assert isinstance(seen["asked"].result(), types.ErrorData)
        assert seen["cancelling"]  # cancelled at once: no later turn of the loop is waited for
        assert _reasons(p) == ["shutdown"]
