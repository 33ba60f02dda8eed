"""Calls held for approval, through a real `proctor gateway --http` process in front of the real
`mcp-server-time`, driven by the official MCP client on both protocol revisions the gateway speaks
(2025-11-25 with the handshake, 2026-07-28 stateless). Approvals are made through the Approvals
service in this test's process, as the web page, the CLI or the API would: never through the
agent's own connection."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from tests.e2e.gateway_harness import free_port

from proctor.app import Proctor
from proctor.approvals.model import ApprovalState, Approver
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.store.base import AuditQuery
from proctor.types import Email
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent
OWNER = Approver(Email("owner@acme.test"))
PUBLIC = "https://proctor.acme.test"
ARGS = {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Europe/Paris"}
TOOL = "time__convert_time"
ERAS = {"2025-11-25": "legacy", "2026-07-28": "auto"}


@dataclass
class Running:
    ws: Workspace
    url: str
    svid: str
    task_token: str
    proc: subprocess.Popen[bytes]

    def client(self, era: str, **kw: Any) -> Client:
        h = {"Authorization": f"Bearer {self.svid}", "Proctor-Task": self.task_token}
        transport = streamable_http_client(self.url, http_client=httpx2.AsyncClient(headers=h, timeout=60))
        return Client(transport, cache=None, mode=ERAS[era], **kw)


def start(tmp_path: Path, hold: str, *, stdio: bool = False) -> Running:
    """A workspace whose `time__convert_time` needs the owner's approval, and (unless ``stdio``) a
    `proctor gateway --http` process serving it."""
    config = f"trust_domain: acme.test\napprovals:\n  hold: {hold}\n  public_url: {PUBLIC}\n"
    ws, _ = Workspace.init(tmp_path / "ws", config_text=config)
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {
                    "namespace": "time",
                    "command": str(BIN / "mcp-server-time"),
                    "args": ["--local-timezone", "UTC"],
                    "default": {"effect": "read"},
                    # deployments need the owner's approval (the starter policy approval.deployments)
                    "tools": {"convert_time": {"effect": "deploy"}},
                }
            )
        ],
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with Proctor.open(ws) as p:
        agent = p.agents.add("bot", "owner@acme.test")
        svid = p.agents.issue_svid(agent) if stdio else p.agents.issue_svid(agent, url)
        task = p.tasks.start(
            agent="bot", purpose="time", allow=["time.*"], requested_by="r@acme.test", ttl_s=3600
        )
    if stdio:  # the test starts the stdio gateway itself
        return Running(ws, url, svid, task.token, subprocess.Popen(["true"]))
    proc = subprocess.Popen(
        [str(BIN / "proctor"), "gateway", "--http", "--port", str(port), "--workspace", str(ws.root)],
        env={**os.environ, "PATH": f"{BIN}:/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            assert time.monotonic() < deadline, "the gateway did not start"
            time.sleep(0.1)
    return Running(ws, url, svid, task.token, proc)


@pytest.fixture
def stop() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for r in started:
        r.proc.terminate()
        try:
            r.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            r.proc.kill()


def pending(ws: Workspace, timeout_s: float = 20.0) -> list[str]:
    """The ids of the pending requests, once there is one (another process files them)."""
    deadline = time.monotonic() + timeout_s
    with Proctor.open(ws) as p:
        while time.monotonic() < deadline:
            ids = [str(r.id) for r in p.approvals.pending()]
            if ids:
                return ids
            time.sleep(0.1)
    raise AssertionError("no request was filed")


def approve(ws: Workspace, approval_id: str) -> None:
    with Proctor.open(ws) as p:
        p.approvals.approve(approval_id, OWNER, "planned change")


def state(ws: Workspace, approval_id: str) -> ApprovalState:
    with Proctor.open(ws) as p:
        return p.approvals.get(approval_id).state


def text(result: types.CallToolResult) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def real_result(result: types.CallToolResult) -> dict[str, Any]:
    """The upstream's own answer to convert_time (its JSON, as mcp-server-time writes it)."""
    assert not result.is_error, text(result)
    doc: dict[str, Any] = json.loads(text(result))
    assert doc["source"]["timezone"] == "UTC"
    assert doc["target"]["timezone"] == "Europe/Paris"
    return doc


@pytest.mark.parametrize("era", list(ERAS))
def test_a_held_call_completes_with_the_upstreams_result_once_approved(
    tmp_path: Path, stop: list[Running], era: str
) -> None:
    """The call waits (progress notifications name the request and its page); the owner approves
    it through the service; the very call then runs and answers with the upstream's real result;
    the grant is spent (a second identical call is held again, under a new request)."""
    r = start(tmp_path, "30s")
    stop.append(r)
    seen: list[tuple[float, float | None, str | None]] = []
    out: dict[str, Any] = {}

    async def main() -> None:
        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append((progress, total, message))

        async with r.client(era) as c:
            assert c.protocol_version == era

            async def call() -> None:
                out["held"] = await c.call_tool(TOOL, ARGS, progress_callback=on_progress)

            with anyio.fail_after(60):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(call)
                    (aid,) = await anyio.to_thread.run_sync(pending, r.ws)
                    out["aid"] = aid
                    await anyio.sleep(0.3)
                    assert "held" not in out  # still waiting for the person
                    await anyio.to_thread.run_sync(approve, r.ws, aid)
            out["again"] = await c.call_tool(TOOL, ARGS)

    anyio.run(main)
    aid = out["aid"]
    real_result(out["held"])
    assert state(r.ws, aid) is ApprovalState.USED
    assert seen, "no progress notification while held"
    assert aid in (seen[0][2] or "")
    assert f"{PUBLIC}/approvals/{aid}" in (seen[0][2] or "")
    again = out["again"]
    assert again.is_error
    assert "approval apr_" in text(again)
    assert aid not in text(again)  # spent: the identical call files a new request
    with Proctor.open(r.ws) as p:
        p.audit.flush()
        used = [json.loads(x.body) for x in p.store.search_audit(AuditQuery(kind="approval.used"))]
    assert [u["approval_id"] for u in used] == [aid]


@pytest.mark.parametrize("era", list(ERAS))
def test_a_timed_out_call_is_retried_after_approval_and_an_altered_retry_is_not_covered(
    tmp_path: Path, stop: list[Running], era: str
) -> None:
    """hold 1s: the wait runs out with a tool error naming the request and saying the identical call
    may be retried; after the approval the identical retry completes; a retry with one argument
    changed is another call (another request), not covered by the grant."""
    r = start(tmp_path, "1s")
    stop.append(r)

    async def first() -> types.CallToolResult:
        async with r.client(era) as c:
            return await c.call_tool(TOOL, ARGS)

    timed_out = anyio.run(first)
    assert timed_out.is_error
    (aid,) = pending(r.ws)
    assert aid in text(timed_out)
    assert "may be retried" in text(timed_out)
    assert f"{PUBLIC}/approvals/{aid}" in text(timed_out)
    approve(r.ws, aid)

    async def retries() -> tuple[types.CallToolResult, types.CallToolResult]:
        async with r.client(era) as c:
            altered = await c.call_tool(TOOL, {**ARGS, "time": "12:01"})
            same = await c.call_tool(TOOL, ARGS)
            return altered, same

    altered, same = anyio.run(retries)
    assert altered.is_error
    assert "approval apr_" in text(altered)
    assert aid not in text(altered)
    real_result(same)
    assert state(r.ws, aid) is ApprovalState.USED


@pytest.mark.parametrize("era", list(ERAS))
def test_the_elicitation_carries_only_the_link_and_its_answer_decides_nothing(
    tmp_path: Path, stop: list[Running], era: str
) -> None:
    """A client that declared URL-mode elicitation is sent the page's link (2025-11-25:
    `elicitation/create`; 2026-07-28: `input_required`). Its host answers "accept" (with content
    claiming an approval): the call is not run, the request stays pending, nobody approved it."""
    r = start(tmp_path, "1s")
    stop.append(r)
    asked: list[types.ElicitRequestParams] = []

    async def elicit(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params)
        return types.ElicitResult(action="accept", content={"approved": True, "approver": "owner@acme.test"})

    async def main() -> types.CallToolResult:
        async with r.client(era, elicitation_callback=elicit) as c:
            with anyio.fail_after(60):
                return await c.call_tool(TOOL, ARGS)

    result = anyio.run(main)
    (aid,) = pending(r.ws)
    assert result.is_error
    assert "may be retried" in text(result)
    assert len(asked) == 1
    (params,) = asked
    assert isinstance(params, types.ElicitRequestURLParams)
    assert params.url == f"{PUBLIC}/approvals/{aid}"
    if era == "2025-11-25":
        assert params.elicitation_id is not None
        assert params.elicitation_id.startswith(aid)
    assert state(r.ws, aid) is ApprovalState.PENDING
    with Proctor.open(r.ws) as p:
        p.audit.flush()
        assert p.store.search_audit(AuditQuery(kind="approval.approved")) == []
        assert p.store.search_audit(AuditQuery(kind="call.completed")) == []


def test_a_held_call_denied_by_the_owner_is_not_run(tmp_path: Path, stop: list[Running]) -> None:
    """Denied while held: the answer names the request, who denied it and why; nothing ran."""
    r = start(tmp_path, "30s")
    stop.append(r)

    def deny() -> None:
        (aid,) = pending(r.ws)
        with Proctor.open(r.ws) as p:
            p.approvals.deny(aid, OWNER, "not during the freeze")

    async def main() -> types.CallToolResult:
        async with r.client("2025-11-25") as c:
            with anyio.fail_after(60):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(anyio.to_thread.run_sync, deny)
                    result = await c.call_tool(TOOL, ARGS)
            return result

    result = anyio.run(main)
    assert result.is_error
    assert "denied by owner@acme.test: not during the freeze" in text(result)
    with Proctor.open(r.ws) as p:
        p.audit.flush()
        assert p.store.search_audit(AuditQuery(kind="call.completed")) == []


def test_a_held_call_over_stdio_completes_once_approved(tmp_path: Path, stop: list[Running]) -> None:
    """`proctor gateway --stdio` holds the same way: the call waits, the owner approves through the
    service, the upstream's real result comes back."""
    from mcp import StdioServerParameters
    from tests.e2e.gateway_harness import child_env

    r = start(tmp_path, "30s", stdio=True)
    stop.append(r)
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            *("-c", "from proctor.cli.main import main; main()"),
            *("gateway", "--stdio", "--in-process", "--workspace", str(r.ws.root)),
        ],
        env=child_env(
            {"PROCTOR_SVID": r.svid, "PROCTOR_TASK_TOKEN": r.task_token, "PATH": f"{BIN}:/usr/bin:/bin"}
        ),
    )
    out: dict[str, Any] = {}

    def decide() -> None:
        (aid,) = pending(r.ws)
        out["aid"] = aid
        approve(r.ws, aid)

    async def main() -> None:
        async with Client(params, mode="legacy", cache=None) as c:
            with anyio.fail_after(60):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(anyio.to_thread.run_sync, decide)
                    out["result"] = await c.call_tool(TOOL, ARGS)

    anyio.run(main)
    real_result(out["result"])
    assert state(r.ws, out["aid"]) is ApprovalState.USED


def test_a_held_call_on_the_lean_path_completes_once_approved(tmp_path: Path) -> None:
    """A client that declares nothing and gives no progress token, calling an HTTP upstream, is
    served by the lean path (ADR 0013): the call is held there too, then runs on the grant."""
    from tests.e2e.test_gateway_http import _client, _fixture_gateway

    config = "approvals: {hold: 30s}\n"
    with _fixture_gateway(tmp_path, config, tools={"test_simple_text": {"effect": "deploy"}}) as gw:

        def decide() -> None:
            deadline = time.monotonic() + 20
            while not (ids := [str(x.id) for x in gw.p.approvals.pending()]):
                assert time.monotonic() < deadline, "no request was filed"
                time.sleep(0.05)
            gw.p.approvals.approve(ids[0], OWNER, "fine")

        async def main() -> types.CallToolResult:
            async with _client(gw, legacy=True) as c:
                with anyio.fail_after(60):
                    async with anyio.create_task_group() as tg:
                        tg.start_soon(anyio.to_thread.run_sync, decide)
                        result = await c.call_tool("fx__test_simple_text", {})
                return result

        result = anyio.run(main)
        time.sleep(0.3)  # the completion record joins the next group commit
        done = [json.loads(x.body) for x in gw.p.store.search_audit(AuditQuery(kind="call.completed"))]
    assert not result.is_error, text(result)
    assert text(result)
    assert [d["path"] for d in done] == ["lean"]
