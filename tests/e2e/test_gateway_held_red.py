"""Red team of the held call (issue 14), through a real `proctor gateway --http` process: a call
whose client has gone while it was held must not run once approved (nobody receives its result,
and the grant it spends is the one the agent's retry needed)."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import anyio
import httpx
from tests.e2e import test_gateway_held_calls as base
from tests.e2e.test_gateway_held_calls import (
    ARGS,
    TOOL,
    Running,
    approve,
    pending,
    real_result,
    start,
    state,
)

from proctor.approvals.model import ApprovalState

stop = base.stop  # the fixture that ends the gateway

ACCEPT = "application/json, text/event-stream"


def test_a_held_call_whose_client_dropped_the_connection_does_not_run_once_approved(
    tmp_path: Path, stop: list[Running]
) -> None:
    """The client closes its connection while the call is held (no `notifications/cancelled`: a
    crash, a proxy's timeout). Once approved, the call must not run for nobody: the grant is left
    for the agent's identical retry, which completes with the upstream's result."""
    r = start(tmp_path, "30s")
    stop.append(r)
    h = {"Authorization": f"Bearer {r.svid}", "Proctor-Task": r.task_token, "Accept": ACCEPT}
    with httpx.Client(headers=h, timeout=10) as c:
        init = c.post(
            r.url,
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "1"},
                },
            },
        )
        sid = init.headers["mcp-session-id"]
        h2 = {"Mcp-Session-Id": sid, "Mcp-Protocol-Version": "2025-11-25"}
        c.post(r.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=h2)
        call = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": TOOL, "arguments": ARGS},
        }
        with contextlib.suppress(httpx.ReadTimeout):  # the client gives up and closes the connection
            c.post(r.url, json=call, headers=h2, timeout=2)
    (aid,) = pending(r.ws)
    approve(r.ws, aid)
    time.sleep(2)  # the gateway polls every 0.25 s
    assert state(r.ws, aid) is ApprovalState.APPROVED  # not used by a call nobody waits for

    async def retry() -> None:
        async with r.client("2025-11-25") as c:
            real_result(await c.call_tool(TOOL, ARGS))  # the agent's identical retry runs on the grant

    anyio.run(retry)
    assert state(r.ws, aid) is ApprovalState.USED
