"""A stdio upstream does not outlive a gateway killed with ``kill -9`` (issue 12.5), even a tool
process that ignores the end of its input and SIGTERM: it is started under ``setpriv --pdeathsig
KILL``, so the kernel kills it with the gateway. Real processes: ``proctor gateway --http`` and a
real MCP server over stdio."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from tests.e2e.gateway_harness import child_env, free_port

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent
SERVER = Path(__file__).resolve().parents[1] / "fixtures" / "changing_server.py"

pytestmark = pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs util-linux setpriv")


def _children(parent: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            if int(text[text.rindex(")") + 2 :].split()[1]) == parent:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rindex(")") + 2 :].split()[0] != "Z"


def test_a_stdio_upstream_that_ignores_its_end_of_input_dies_with_a_killed_gateway(tmp_path: Path) -> None:
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {
                    "namespace": "dict",
                    "command": sys.executable,
                    "args": [str(SERVER)],
                    "env": {"FIXTURE_IGNORE_EOF": "1"},
                    "default": {"effect": "read"},
                    "tools": {"lookup": {"resource_arg": "-"}},
                }
            )
        ],
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with Proctor.open(ws) as p:
        agent = p.add_agent("bot", "o@acme.test")
        svid = p.issue_svid(agent, url)
        started = p.start_task(agent="bot", purpose="p", allow=["dict.*"], requested_by="r@acme.test")
    env = child_env({**os.environ, "PATH": f"{BIN}:/usr/bin:/bin"})
    gw = subprocess.Popen(
        [str(BIN / "proctor"), "gateway", "--http", "--port", str(port), "--workspace", str(ws.root)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    tools: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx2.HTTPError:
                assert gw.poll() is None, "the gateway exited"
                assert time.monotonic() < deadline, "the gateway did not start"
                time.sleep(0.1)

        async def call() -> None:
            headers = {"Authorization": f"Bearer {svid}", "Proctor-Task": started.token}
            async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
                transport = streamable_http_client(url, http_client=http)
                async with Client(transport, mode="legacy", cache=None) as c:
                    got = await c.call_tool("dict__lookup", {"word": "pencil"})
                    assert not got.is_error, got

        anyio.run(call)
        tools = _children(gw.pid)
        assert tools, "the upstream process was not started by the gateway"
        gw.send_signal(signal.SIGKILL)
        gw.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(_alive(t) for t in tools) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [t for t in tools if _alive(t)], "a tool process outlived its gateway"
    finally:
        if gw.poll() is None:
            gw.kill()
        for t in tools:
            if _alive(t):
                os.kill(t, signal.SIGKILL)
