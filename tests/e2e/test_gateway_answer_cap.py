"""An HTTP upstream's answer on the lean path is read up to its `max_answer_bytes` (upstreams.yaml):
a larger answer, in one JSON body or on an event stream, is dropped unread and the call fails with
Proctor's own words and a completion record saying so (`answer_too_large`), the decision allowed;
an answer within the cap passes whole. Real gateway, real MCP server (the official SDK's)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.dispatcher import ProgressFnT
from tests.conformance_mcp.fixture import free_port, wait_http_ready
from tests.e2e.gateway_harness import GatewayThread

from proctor.app import Proctor
from proctor.gateway.config import upstream_from_mapping
from proctor.store.base import AuditQuery
from proctor.workspace import Workspace

SERVER = Path(__file__).resolve().parents[1] / "fixtures" / "large_answer_server.py"
CAP = 64 * 1024


@contextmanager
def _server(tmp_path: Path, sse: bool) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with (tmp_path / "server.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, str(SERVER), "--port", str(port), *(["--sse"] if sse else [])],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_http_ready(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _records(p: Proctor, kind: str) -> list[dict[str, Any]]:
    time.sleep(0.3)  # a completion record joins the next group commit
    p.audit.flush()
    return [json.loads(x.body) for x in p.store.search_audit(AuditQuery(kind=kind))]


@pytest.mark.parametrize("sse", [False, True], ids=["json", "sse"])
def test_an_answer_over_the_upstream_s_cap_is_dropped_and_the_call_fails_audited(
    tmp_path: Path, sse: bool
) -> None:
    """`big` answers 1 KiB (passes whole), then 256 KiB over a 64 KiB cap: a tool error naming the
    cap, the completion record `answer_too_large` on the lean path, the decision an allow."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    with _server(tmp_path, sse) as upstream_url, Proctor.open(ws) as p:
        port = free_port()
        url = f"http://127.0.0.1:{port}/mcp"
        agent = p.agents.add("bot", "owner@acme.test")
        task = p.tasks.start(agent="bot", purpose="big", allow=["big.*"], requested_by="r@acme.test")
        cfg = upstream_from_mapping(
            {"namespace": "big", "url": upstream_url, "default": {"effect": "read"}, "max_answer_bytes": CAP}
        )
        gateway = GatewayThread.start(p, [cfg], port)
        try:
            h = {"Authorization": f"Bearer {p.agents.issue_svid(agent, url)}", "Proctor-Task": task.token}
            results: list[types.CallToolResult] = []

            async def main() -> None:
                transport = streamable_http_client(url, http_client=httpx2.AsyncClient(headers=h, timeout=60))
                async with Client(transport, cache=None, mode="legacy") as c:
                    results.append(await c.call_tool("big__big", {"size": 1024}))
                    results.append(await c.call_tool("big__big", {"size": 256 * 1024}))

            anyio.run(main)
        finally:
            gateway.stop()
        small, large = results
        assert not small.is_error
        assert getattr(small.content[0], "text", "") == "x" * 1024
        assert large.is_error
        text = " ".join(getattr(c, "text", "") for c in large.content)
        assert f"upstream `big` answered more than {CAP} bytes" in text, text
        assert "x" * 100 not in text
        done = [r for r in _records(p, "call.completed") if r["tool"] == "big.big"]
        assert [(r["status"], r["path"]) for r in done] == [("ok", "lean"), ("answer_too_large", "lean")]
        decided = [r["decision"] for r in _records(p, "decision") if r.get("tool") == "big.big"]
        assert decided == ["allow", "allow"]


def _call_three(url: str, h: dict[str, str], progress: bool) -> list[types.CallToolResult]:
    """1 KiB, 256 KiB, then 1 KiB again (the session survives the refused answer)."""
    results: list[types.CallToolResult] = []

    async def noted(progress: float, total: float | None, message: str | None) -> None:
        pass

    async def main() -> None:
        transport = streamable_http_client(url, http_client=httpx2.AsyncClient(headers=h, timeout=60))
        async with Client(transport, cache=None, mode="legacy") as c:
            cb: ProgressFnT | None = noted if progress else None
            for size in (1024, 256 * 1024, 1024):
                results.append(await c.call_tool("big__big", {"size": size}, progress_callback=cb))

    anyio.run(main)
    return results


def _check_three(p: Proctor, results: list[types.CallToolResult], path: str) -> None:
    small, large, again = results
    assert not small.is_error
    assert not again.is_error
    assert getattr(again.content[0], "text", "") == "x" * 1024
    assert large.is_error
    text = " ".join(getattr(c, "text", "") for c in large.content)
    assert f"upstream `big` answered more than {CAP} bytes" in text, text
    assert "x" * 100 not in text
    assert "proctor answer cap" not in text
    done = [r for r in _records(p, "call.completed") if r["tool"] == "big.big"]
    assert [(r["status"], r["path"]) for r in done] == [
        ("ok", path),
        ("answer_too_large", path),
        ("ok", path),
    ]


@pytest.mark.parametrize("sse", [False, True], ids=["json", "sse"])
def test_an_answer_over_the_cap_on_the_sdk_path_fails_the_call_and_the_session_lives(
    tmp_path: Path, sse: bool
) -> None:
    """A call with a progress token goes over the SDK client, not the lean path: its answer is
    bounded by the same `max_answer_bytes`, with the same failure, and the next call succeeds."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    with _server(tmp_path, sse) as upstream_url, Proctor.open(ws) as p:
        port = free_port()
        url = f"http://127.0.0.1:{port}/mcp"
        agent = p.agents.add("bot", "owner@acme.test")
        task = p.tasks.start(agent="bot", purpose="big", allow=["big.*"], requested_by="r@acme.test")
        cfg = upstream_from_mapping(
            {"namespace": "big", "url": upstream_url, "default": {"effect": "read"}, "max_answer_bytes": CAP}
        )
        gateway = GatewayThread.start(p, [cfg], port)
        try:
            h = {"Authorization": f"Bearer {p.agents.issue_svid(agent, url)}", "Proctor-Task": task.token}
            results = _call_three(url, h, progress=True)
        finally:
            gateway.stop()
        _check_three(p, results, "sdk")


def test_a_stdio_upstream_s_answer_over_the_cap_fails_the_call_and_the_session_lives(tmp_path: Path) -> None:
    """A stdio upstream's line longer than its `max_answer_bytes` is refused as it is read: the
    call fails `answer_too_large` (audited), a resource read over the cap fails too, and the same
    upstream process answers the next call."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    with Proctor.open(ws) as p:
        port = free_port()
        url = f"http://127.0.0.1:{port}/mcp"
        agent = p.agents.add("bot", "owner@acme.test")
        task = p.tasks.start(agent="bot", purpose="big", allow=["big.*"], requested_by="r@acme.test")
        cfg = upstream_from_mapping(
            {
                "namespace": "big",
                "command": sys.executable,
                "args": [str(SERVER), "--stdio"],
                "default": {"effect": "read"},
                "max_answer_bytes": CAP,
            }
        )
        gateway = GatewayThread.start(p, [cfg], port)
        refused: list[str] = []
        try:
            h = {"Authorization": f"Bearer {p.agents.issue_svid(agent, url)}", "Proctor-Task": task.token}
            results = _call_three(url, h, progress=False)

            async def read() -> None:
                transport = streamable_http_client(url, http_client=httpx2.AsyncClient(headers=h, timeout=60))
                async with Client(transport, cache=None, mode="legacy") as c:
                    ok = await c.read_resource("big://1024")
                    assert getattr(ok.contents[0], "text", "") == "x" * 1024
                    try:
                        await c.read_resource(f"big://{256 * 1024}")
                    except Exception as exc:  # the relayed request's JSON-RPC error
                        refused.append(str(exc))

            anyio.run(read)
        finally:
            gateway.stop()
        _check_three(p, results, "sdk")
        assert len(refused) == 1, refused
        assert f"answered more than {CAP} bytes" in refused[0], refused
