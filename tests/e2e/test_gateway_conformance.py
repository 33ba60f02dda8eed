"""The MCP conformance suite (Node 22, @modelcontextprotocol/conformance) run through the gateway
in front of the fixture server must pass every check the fixture passes directly.

The suite's client cannot send Proctor's credentials, so a test-only ASGI layer adds the agent's
bearer SVID and task header to each request before Proctor's own auth layer checks them: the
whole pipeline (identity, task, Cedar decision, audit) still runs on every request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from tests.conformance_mcp.fixture import fixture_url, free_port, start_fixture, stop_fixture
from tests.conformance_mcp.run import run_conformance
from tests.e2e.gateway_harness import GatewayThread

from proctor.app import Proctor
from proctor.gateway.config import upstream_from_mapping
from proctor.store.base import AuditQuery
from proctor.workspace import Workspace

Scope = MutableMapping[str, Any]
App = Callable[[Scope, Any, Any], Awaitable[None]]


def _with_headers(app: App, headers: dict[str, str]) -> App:
    extra = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def wrapped(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith("/mcp"):
            scope = dict(scope)
            scope["headers"] = [
                h for h in scope.get("headers", []) if h[0] not in {k for k, _ in extra}
            ] + extra
        await app(scope, receive, send)

    return wrapped


def test_conformance_through_gateway_matches_direct(tmp_path: Path) -> None:
    """Same checks pass through Proctor as against the fixture directly; every tool call is audited."""
    fport = free_port()
    fixture = start_fixture(fport, log_path=tmp_path / "fixture.log")
    try:
        direct = run_conformance(fixture_url(fport), tmp_path / "direct")
        ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
        upstream = upstream_from_mapping(
            {
                "namespace": "fixture",
                "url": fixture_url(fport),
                "default": {"effect": "read"},
                "prefix": False,
                "timeout": "20s",
            }
        )
        p = Proctor.open(ws)
        gport = free_port()
        url = f"http://127.0.0.1:{gport}/mcp"
        agent = p.agents.add("conformance-bot", "owner@acme.test")
        task = p.tasks.start(
            agent="conformance-bot",
            purpose="conformance",
            allow=["fixture.*"],
            requested_by="r@acme.test",
            ttl_s=3600,
        )
        headers = {"Authorization": f"Bearer {p.agents.issue_svid(agent, url)}", "Proctor-Task": task.token}
        gateway = GatewayThread.start(p, [upstream], gport, wrap=lambda app: _with_headers(app, headers))
        try:
            through = run_conformance(url, tmp_path / "through")
        finally:
            gateway.stop()
        decisions = p.store.search_audit(AuditQuery(kind="decision", limit=1000))
        completed = p.store.search_audit(AuditQuery(kind="call.completed", limit=1000))
        p.close()
    finally:
        stop_fixture(fixture)
    assert direct.failed == 0, direct.summary()
    assert through.failed == 0, through.summary()
    assert through.passed >= direct.passed, (direct.summary(), through.summary())
    assert decisions, "no tool call was decided"
    assert len(completed) == len([d for d in decisions if d.decision == "allow"])
