"""A policy on an upstream MCP tool's arguments, end to end: `proctor tools pin` registers the
upstream's tools with their inputSchema, the policy set validates against it, and the gateway
decides each call on the value of an argument (real upstream, real gateway process)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from tests.e2e.test_cli import run
from tests.e2e.test_gateway_policy import FIXTURES, HOLD_0, _gateway_params

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.types import ToolName
from proctor.workspace import Workspace

POLICY = """
@id("no-forbidden-word")
forbid (principal, action == Proctor::Action::"dict.lookup", resource)
when { context.args.word like "*forbidden*" };
"""


def test_the_gateway_decides_on_an_upstream_tools_argument(tmp_path: Path) -> None:
    ws, _ = Workspace.init(tmp_path / "ws", config_text=HOLD_0)
    cfg = upstream_from_mapping(
        {
            "namespace": "dict",
            "command": sys.executable,
            "args": [str(FIXTURES / "changing_server.py")],
            "default": {"effect": "read"},
        }
    )
    save_upstreams(ws.root, [cfg])
    pinned = run(ws.root, "tools", "pin", "dict", "--by", "admin@acme.test")
    assert pinned.returncode == 0, pinned.stderr
    with Proctor.open(ws) as p:
        rec = p.tools.get("dict.lookup")
        assert rec.input_schema is not None
        assert '"word"' in rec.input_schema
    (ws.root / "policies" / "50-args.cedar").write_text(POLICY)
    checked = run(ws.root, "policy", "validate")
    assert checked.returncode == 0, checked.stderr
    (ws.root / "policies" / "51-nope.cedar").write_text(
        '@id("nope")\nforbid (principal, action == Proctor::Action::"dict.lookup", resource)'
        " when { context.args.letter == 1 };\n"
    )
    refused = run(ws.root, "policy", "validate")
    assert refused.returncode == 2
    assert "51-nope.cedar:1" in refused.stderr
    (ws.root / "policies" / "51-nope.cedar").unlink()
    with Proctor.open(ws) as p:
        agent = p.agents.add("bot", "owner@acme.test")
        svid = p.agents.issue_svid(agent)
        task = p.tasks.start(agent="bot", purpose="words", allow=["dict.*"], requested_by="r@acme.test")
        assert p.state.tool(ToolName("dict.lookup")) is not None
    params = _gateway_params(ws, svid, task.token)

    async def session() -> tuple[Any, Any]:
        async with Client(params, mode="legacy", cache=None) as c:
            ok = await c.call_tool("dict__lookup", {"word": "proctor"})
            no = await c.call_tool("dict__lookup", {"word": "a forbidden word"})
            return ok, no

    ok, no = anyio.run(session)
    assert not ok.is_error
    assert no.is_error
    assert "no-forbidden-word" in no.content[0].text
