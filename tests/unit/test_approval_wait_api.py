"""`POST /v1/approvals/{id}/wait` (the agent's side of a held call over HTTP, docs/adr/0024 and
0030), in process: bounded per agent like the gateway's held calls, and refused for a suspended
agent or an ended task; refusals are audited."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from tests.unit.conftest import Env
from tests.unit.test_approvals import OWNER, held, pay

from proctor.server.api import create_app
from proctor.store.base import AuditQuery
from proctor.types import AgentStatus


def _refused(env: Env) -> list[dict[str, Any]]:
    env.p.audit.flush()
    return [json.loads(r.body) for r in env.p.store.search_audit(AuditQuery(kind="decide.refused"))]


def test_waits_are_capped_per_agent_and_the_one_beyond_is_a_429(env: Env) -> None:
    """`approvals.max_pending` waits of one agent run at once; the next is refused at once with
    `approval_wait_cap_reached` (429) and audited; the waiting ones still get their answer."""
    aid = held(env, pay(env))
    app = create_app(env.p, env.ws)
    slots = app.state.approval_waiters
    cap = env.p.settings.approval_max_pending
    auth = {"Authorization": f"Bearer {env.svid}"}
    body = {"task_token": env.task.token, "timeout_s": 30}

    async def go() -> tuple[list[httpx.Response], httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as c:
            waits = [
                asyncio.create_task(c.post(f"/v1/approvals/{aid}/wait", json=body, headers=auth))
                for _ in range(cap)
            ]
            for _ in range(400):  # until every wait holds its slot (a state, not a timing)
                if slots.held.get("bot", 0) == cap:
                    break
                await asyncio.sleep(0.025)
            try:  # refused at once; without a cap it would wait (the test clock never moves)
                beyond = await asyncio.wait_for(
                    c.post(f"/v1/approvals/{aid}/wait", json=body, headers=auth), 20
                )
            finally:
                await asyncio.to_thread(env.p.approvals.approve, aid, OWNER, "ok")
            return list(await asyncio.gather(*waits)), beyond

    answers, beyond = asyncio.run(go())
    assert (beyond.status_code, beyond.json()["error"]["code"]) == (429, "approval_wait_cap_reached")
    assert {(r.status_code, r.json()["state"]) for r in answers} == {(200, "approved")}
    assert slots.held == {}
    assert [r["code"] for r in _refused(env)] == ["approval_wait_cap_reached"]


def test_a_suspended_agent_or_an_ended_task_waits_for_nothing(env: Env) -> None:
    """A wait on a request of a task that has ended is refused `task_not_active`; of an agent
    suspended since, `agent_suspended`: both 403, audited, never a wait."""
    aid = held(env, pay(env))
    other = env.p.tasks.start(
        agent="bot", purpose="pay", allow=["payments.*"], requested_by="req@acme.test", ttl_s=600
    )
    aid2 = held(env, pay(env, amount=200, task_token=other.token))
    env.p.tasks.end(str(other.task.id))
    app = create_app(env.p, env.ws)
    auth = {"Authorization": f"Bearer {env.svid}"}

    async def wait(approval_id: str, token: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as c:
            return await c.post(
                f"/v1/approvals/{approval_id}/wait", json={"task_token": token, "timeout_s": 0}, headers=auth
            )

    ended = asyncio.run(wait(aid2, other.token))
    assert (ended.status_code, ended.json()["error"]["code"]) == (403, "task_not_active")
    env.p.agents.set_status("bot", AgentStatus.SUSPENDED)
    suspended = asyncio.run(wait(aid, env.task.token))
    assert (suspended.status_code, suspended.json()["error"]["code"]) == (403, "agent_suspended")
    assert [r["code"] for r in _refused(env)] == ["task_not_active", "agent_suspended"]
