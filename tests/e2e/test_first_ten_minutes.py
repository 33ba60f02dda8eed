"""The first ten minutes of a new user (issue 16, part 4), as they meet them: real `proctor`
processes, a real workspace, the official MCP client through the gateway."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml
from mcp import Client
from mcp.shared.exceptions import MCPError
from tests.e2e.gateway_harness import free_port
from tests.e2e.test_cli import PROCTOR, run
from tests.e2e.test_gateway_policy import HOLD_0, _gateway_params

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.workspace import Workspace

TIME_SERVER = str(Path(sys.executable).parent / "mcp-server-time")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """An initialised workspace with an agent and two tools."""
    w = tmp_path / "ws"
    assert run(w, "init", str(w), "--trust-domain", "acme.test").returncode == 0
    assert run(w, "agent", "add", "bot", "--owner", "o@acme.test").returncode == 0
    assert run(w, "tool", "add", "mail.send", "--effect", "execute").returncode == 0
    assert run(w, "tool", "add", "mail.read", "--effect", "read").returncode == 0
    return w


def test_version_prints_the_package_version() -> None:
    """`proctor --version` (and `-V`) prints the installed version and exits 0."""
    from importlib.metadata import version

    for flag in ("--version", "-V"):
        r = subprocess.run([*PROCTOR, flag], capture_output=True, text=True, timeout=60, check=False)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == f"proctor {version('proctor')}"


def test_an_upstream_whose_command_is_missing_is_an_explicit_error(tmp_path: Path) -> None:
    """A call to a tool of an upstream that cannot start reaches the official MCP client as a
    JSON-RPC error naming the upstream and why, not as `unknown tool`; the refusal is audited."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text=HOLD_0)
    cfg = upstream_from_mapping(
        {"namespace": "git", "command": str(tmp_path / "no-such-server"), "default": {"effect": "read"}}
    )
    save_upstreams(ws.root, [cfg])
    with Proctor.open(ws) as p:
        agent = p.agents.add("bot", "owner@acme.test")
        svid = p.agents.issue_svid(agent)
        task = p.tasks.start(agent="bot", purpose="log", allow=["git.*"], requested_by="r@acme.test")
    params = _gateway_params(ws, svid, task.token)

    async def session() -> MCPError:
        async with Client(params, mode="legacy", cache=None) as c:
            with pytest.raises(MCPError) as raised:
                await c.call_tool("git__git_status", {"repo_path": "."})
            return raised.value

    error = anyio.run(session)
    message = str(error.error.message)
    assert "unknown tool" not in message
    assert "upstream `git` is unavailable" in message
    assert "command was not found" in message
    rows = json.loads(run(ws.root, "audit", "search", "--decision", "deny", "--json").stdout)
    assert [r["record"]["tool"] for r in rows] == ["git.git_status"]
    assert "upstream_unavailable" in json.dumps(rows[0]["record"])
