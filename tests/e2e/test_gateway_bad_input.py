"""The gateway under bad input and misbehaving upstreams: hangs are cut off, crashes restart the
upstream, odd names and huge arguments are refused, and nothing of Proctor's internals leaks."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError
from tests.e2e.gateway_harness import child_env

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.store.base import AuditQuery
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "misbehaving_server.py"


@pytest.fixture
def params(tmp_path: Path) -> tuple[StdioServerParameters, Workspace, Path]:
    """A gateway (stdio) in front of the misbehaving upstream with a 2 s timeout."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    starts = tmp_path / "starts.log"
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {
                    "namespace": "bad",
                    "command": sys.executable,
                    "args": [str(FIXTURE)],
                    "env": {"MISBEHAVE_LOG": str(starts)},
                    "default": {"effect": "read"},
                    "timeout": "2s",
                }
            )
        ],
    )
    with Proctor.open(ws) as p:
        agent = p.agents.add("bot", "owner@acme.test")
        svid = p.agents.issue_svid(agent)  # reusable for several sessions, unlike a join token
        task = p.tasks.start(agent="bot", purpose="test", allow=["bad.*"], requested_by="r@acme.test")
    env = child_env({"PROCTOR_SVID": svid, "PROCTOR_TASK_TOKEN": task.token, "PATH": f"{BIN}:/usr/bin:/bin"})
    sp = StdioServerParameters(
        command=sys.executable,
        args=[
            "-c",
            "from proctor.cli.main import main; main()",
            "gateway",
            "--stdio",
            "--in-process",  # the runtime's behaviour, in one process (the thin client: test_gateway_stdio)
            "--workspace",
            str(ws.root),
        ],
        env=env,
    )
    return sp, ws, starts


def _text(r: Any) -> str:
    return str(r.content[0].text)


def test_hanging_upstream_is_cut_off_and_audited(
    params: tuple[StdioServerParameters, Workspace, Path],
) -> None:
    """A call the upstream never answers fails after the upstream's timeout; the next call works."""
    sp, ws, _ = params

    async def main() -> tuple[Any, Any]:
        async with Client(sp, mode="legacy", cache=None) as c:
            hung = await c.call_tool("bad__hang", {})
            after = await c.call_tool("bad__echo", {"text": "still here"})
            return hung, after

    hung, after = anyio.run(main)
    assert hung.is_error
    assert "did not answer within 2s" in _text(hung)
    assert not after.is_error
    assert _text(after) == "still here"
    with Proctor.open(ws) as p:
        done = [json.loads(r.body) for r in p.store.search_audit(AuditQuery(kind="call.completed"))]
    assert [d["status"] for d in done] == ["timeout", "ok"]


def test_crashing_upstream_is_restarted(params: tuple[StdioServerParameters, Workspace, Path]) -> None:
    """An upstream that dies mid-call fails that call cleanly and is started again for the next."""
    sp, _ws, starts = params

    async def main() -> tuple[Any, Any]:
        async with Client(sp, mode="legacy", cache=None) as c:
            crashed = await c.call_tool("bad__crash", {})
            after = await c.call_tool("bad__echo", {"text": "back"})
            return crashed, after

    crashed, after = anyio.run(main)
    assert crashed.is_error
    assert "unavailable" in _text(crashed) or "did not answer" in _text(crashed)
    assert "Traceback" not in _text(crashed)
    assert not after.is_error
    assert _text(after) == "back"
    assert len(starts.read_text().splitlines()) == 2


def test_odd_names_and_huge_arguments(params: tuple[StdioServerParameters, Workspace, Path]) -> None:
    """Path tricks and look-alike Unicode in tool names are unknown tools (-32602); nested or huge
    arguments are a readable denial; neither reaches the upstream."""
    sp, _ws, starts = params

    async def main() -> list[Any]:
        out: list[Any] = []
        async with Client(sp, mode="legacy", cache=None) as c:
            for name in (
                "bad.../echo",
                "bad.ech\u043e",
                "bad/echo",
                "../bad.echo",
                "bad." + "e" * 500,
                "bad.echo",  # Proctor's own name: agents call the exposed one
                "bad__ech\u043e",
                "bad__ECHO",
                "bad__echo\u200b",
                "bad__" + "e" * 500,
            ):
                with pytest.raises(MCPError) as info:
                    await c.call_tool(name, {"text": "x"})
                out.append(info.value.error)
            deep: dict[str, Any] = {}
            cur = deep
            for _ in range(60):
                cur["a"] = {}
                cur = cur["a"]
            out.append(await c.call_tool("bad__echo", {"text": "x", "deep": deep}))
            out.append(await c.call_tool("bad__echo", {"text": "x" * 400_000}))
        return out

    results = anyio.run(main)
    for err in results[:10]:
        assert err.code == -32602, err
        assert "Traceback" not in err.message
    for r in results[10:]:
        assert r.is_error
        assert "Proctor denied this call" in _text(r)
    assert len(starts.read_text().splitlines()) <= 1  # at most the listing start, no call reached it


def test_agent_disconnecting_mid_call(params: tuple[StdioServerParameters, Workspace, Path]) -> None:
    """An agent that goes away during a call takes its upstream process with it, and the next
    session is served normally."""
    import os
    import time

    sp, _ws, starts = params

    async def first() -> None:
        async with Client(sp, mode="legacy", cache=None) as c:
            with anyio.move_on_after(0.5):
                await c.call_tool("bad__hang", {"seconds": 30})

    async def second() -> str:
        async with Client(sp, mode="legacy", cache=None) as c:
            return _text(await c.call_tool("bad__echo", {"text": "next"}))

    anyio.run(first)
    first_pid = int(starts.read_text().splitlines()[0].split()[1])
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{first_pid}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{first_pid}"), "the first session's upstream process outlived it"
    assert anyio.run(second) == "next"


def test_ending_the_task_stops_its_upstream_process(
    params: tuple[StdioServerParameters, Workspace, Path],
) -> None:
    """One stdio upstream process per task: when the task ends, the gateway closes it (seen from
    the upstream's side: its process is gone) while the agent is still connected."""
    import os
    import time

    sp, ws, starts = params

    async def main() -> int:
        async with Client(sp, mode="legacy", cache=None) as c:
            assert _text(await c.call_tool("bad__echo", {"text": "hi"})) == "hi"
            pid = int(starts.read_text().splitlines()[-1].split()[1])
            assert os.path.exists(f"/proc/{pid}")
            with Proctor.open(ws) as p:
                (task,) = p.tasks.list(state="active")
                p.tasks.end(task.id)
            deadline = time.monotonic() + 10
            while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
                await anyio.sleep(0.1)
            return pid

    pid = anyio.run(main)
    assert not os.path.exists(f"/proc/{pid}")
    with Proctor.open(ws) as p:
        assert p.store.search_audit(AuditQuery(kind="upstream.sessions_closed"))


def test_stdio_oversized_and_malformed_messages(
    params: tuple[StdioServerParameters, Workspace, Path],
) -> None:
    """Over stdio, a message over the size limit and lines that are not JSON-RPC are dropped;
    the gateway keeps serving the same session and leaks no internals."""
    import subprocess

    sp, _ws, _ = params
    proc = subprocess.Popen(
        [sp.command, *sp.args],
        env=sp.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None

    def send(obj: Any) -> None:
        assert proc.stdin is not None
        proc.stdin.write((json.dumps(obj) + "\n").encode())
        proc.stdin.flush()

    def recv_id(want: int) -> dict[str, Any]:
        assert proc.stdout is not None
        while True:
            line = proc.stdout.readline()
            assert line, "gateway closed stdout"
            msg = json.loads(line)
            if msg.get("id") == want:
                return dict(msg)

    try:
        send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "0"},
                },
            }
        )
        assert "result" in recv_id(1)
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        proc.stdin.write(
            b'{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "bad__echo", "arguments": {"text": "'
        )
        proc.stdin.write(b"x" * (5 << 20) + b'"}}}\n')
        proc.stdin.write(b"this is not json\n")
        proc.stdin.write(b'{"jsonrpc": "2.0", "id": 3, "method": ')  # truncated
        proc.stdin.write(b"\n")
        proc.stdin.flush()
        send({"jsonrpc": "2.0", "id": 4, "method": "tools/explode", "params": {}})
        unknown = recv_id(4)
        assert unknown["error"]["code"] == -32601
        send(
            {
                "jsonrpc": "2.0",
                "id": 5,
                "method": "tools/call",
                "params": {"name": "bad__echo", "arguments": {"text": "alive"}},
            }
        )
        ok = recv_id(5)
        assert "result" in ok, ok
        assert ok["result"]["content"][0]["text"] == "alive"
    finally:
        proc.kill()
        _out, err = proc.communicate(timeout=10)
    assert b"Traceback" not in err
