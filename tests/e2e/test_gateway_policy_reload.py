"""The MCP gateway applies policy edits while it serves, and refuses an invalid set (keeping the
last good one, audited with its errors): `proctor gateway --stdio` as a real process, in front of
the real `mcp-server-time`, driven by the official MCP client."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.store.base import AuditQuery
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent
BAD = "\n\npermit(principal, action, resource) when { principal.nope };\n"
NO_READS = (
    '@id("t.no-reads")\nforbid (principal, action == Proctor::Action::"read", resource is Proctor::Tool);\n'
)


def _records(ws: Workspace, kind: str) -> list[dict[str, object]]:
    # opened without loading policies: the files are invalid part of the time
    with Proctor.open(ws, lazy_policies=True) as p:
        return [json.loads(r.body) for r in p.store.search_audit(AuditQuery(kind=kind, limit=100))]


def _wait_for(ws: Workspace, kind: str, count: int) -> list[dict[str, object]]:
    """Poll the log until the gateway's watcher (polling on its own schedule) has written ``count``
    records of ``kind``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = _records(ws, kind)
        if len(found) >= count:
            return found
        time.sleep(0.2)
    pytest.fail(f"no {kind} record from the gateway")


def test_the_gateway_reloads_policies_and_refuses_an_invalid_set(tmp_path: Path) -> None:
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {
                    "namespace": "time",
                    "command": str(BIN / "mcp-server-time"),
                    "args": ["--local-timezone", "UTC"],
                    "default": {"effect": "read"},
                }
            )
        ],
    )
    with Proctor.open(ws) as p:
        first_version = p.policies.engine.version
        p.agents.add("bot", "owner@acme.test")
        join = p.agents.join_token("bot")
        task = p.tasks.start(agent="bot", purpose="the time", allow=["time.*"], requested_by="r@acme.test")
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-c",
            "from proctor.cli.main import main; main()",
            "gateway",
            "--stdio",
            "--in-process",  # the runtime's behaviour in one process (the keyless relay: test_gateway_stdio*)
            "--workspace",
            str(ws.root),
        ],
        env={
            "PROCTOR_JOIN_TOKEN": join,
            "PROCTOR_TASK_TOKEN": task.token,
            "PATH": str(BIN) + ":/usr/bin:/bin",
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        },
    )
    bad = ws.policies_dir / "77-bad.cedar"
    activated = len(_records(ws, "policy.activated"))

    async def main() -> tuple[bool, bool, bool, str]:
        async with Client(params, mode="legacy", cache=None) as c:
            before = await c.call_tool("time__get_current_time", {"timezone": "UTC"})
            bad.write_text(BAD)
            _wait_for(ws, "policy.rejected", 1)
            during = await c.call_tool("time__get_current_time", {"timezone": "UTC"})
            bad.write_text(NO_READS)  # valid now: applies while the gateway runs
            _wait_for(ws, "policy.activated", activated + 1)
            after = await c.call_tool("time__get_current_time", {"timezone": "UTC"})
            return bool(before.is_error), bool(during.is_error), bool(after.is_error), str(after.content)

    before, during, after, text = anyio.run(main)
    assert not before
    assert not during  # the last good set kept deciding
    assert after
    assert "t.no-reads" in text or "denied" in text
    rejected = _records(ws, "policy.rejected")[0]
    assert rejected["errors"] == [
        {"file": "77-bad.cedar", "line": 3, "message": rejected["errors"][0]["message"]}  # type: ignore[index]
    ]
    assert rejected["active_version"] == first_version
    versions = [d["outcome"]["policy_version"] for d in _records(ws, "decision")]  # type: ignore[index]
    assert versions[:2] == [first_version, first_version]
    assert versions[2] != first_version
