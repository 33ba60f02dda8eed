"""A delegated task through the HTTP gateway (docs/adr/0032): a child whose parent has ended
(its cascade not yet run: a crash between the parent's end and the children's) is refused before
the gateway contacts the upstream at all (no session, no listing, no lease), with a counting
upstream of either MCP revision."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.e2e.test_gateway_revisions import (
    ENVELOPE,
    HANDSHAKE,
    MODERN,
    Gw,
    _call,
    _gateway,
    _post,
    _revision_server,
)

from proctor.types import TaskState


def _seen(count: Path) -> list[str]:
    """What reached the counting upstream so far (one JSON-RPC method a line)."""
    return count.read_text().splitlines() if count.exists() else []


@pytest.mark.parametrize("only", [HANDSHAKE, MODERN])
def test_a_child_whose_parent_ended_never_reaches_the_upstream(tmp_path: Path, only: str) -> None:
    """The parent ends in the store (no cascade): the child's first call (a tool name the gateway
    has not listed yet, which an allowed call resolves by listing the upstream first) is denied
    `task_not_active` and the upstream is not contacted, nor listed for its `tools/list`; the
    same call from a live task is."""
    count = tmp_path / "contacts.log"
    with (
        _revision_server(only, tmp_path, count) as url,
        _gateway(tmp_path, [{"namespace": "rv", "url": url, "default": {"effect": "read"}}]) as gw,
        httpx.Client(timeout=30) as client,
    ):
        p = gw.p
        helper = p.agents.add("helper", "owner@acme.test")
        parent = p.tasks.start(agent="bot", purpose="research", allow=["rv.*"], requested_by="r@acme.test")
        child = p.tasks.delegate(str(parent.task.id), agent="helper", allow=["rv.echo"])
        routed = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "rv__echo"}
        before = _seen(count)
        assert p.store.end_task(parent.task.id, TaskState.COMPLETED, p.clock.now(), "done") is not None
        assert p.store.get_task(child.task.id).state is TaskState.ACTIVE  # type: ignore[union-attr]  # it exists
        as_child = Gw(gw.url, p, gw.auth, p.agents.issue_svid(helper, gw.url), child.token)
        denied = _post(as_child, client, _call("rv__echo", 2, text="hi"), **routed)
        assert denied.status_code == 200, denied.text
        assert denied.json()["result"]["isError"] is True
        listing = {"jsonrpc": "2.0", "id": 9, "method": "tools/list", "params": {"_meta": ENVELOPE}}
        listed = _post(
            as_child, client, listing, **{"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"}
        )
        assert "rv__echo" not in listed.text, listed.text
        decided = gw.audit("decision")
        after = _seen(count)
        # the control: the same call from a live task of the agent does reach the upstream
        fresh = p.tasks.start(agent="helper", purpose="research", allow=["rv.*"], requested_by="r@acme.test")
        ok = _post(
            Gw(gw.url, p, gw.auth, as_child.svid, fresh.token),
            client,
            _call("rv__echo", 3, text="hi"),
            **routed,
        )
        assert "hi @" in ok.json()["result"]["content"][0]["text"], ok.text
        assert _seen(count) != before
    assert after == before
    assert [d["decision"] for d in decided] == ["deny"]
    assert "task_not_active" in str(decided[-1])
