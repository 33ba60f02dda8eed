"""The MCP gateway over Streamable HTTP: Proctor as an OAuth 2.1 resource server in front of the
real `mcp-server-time`, driven by the official MCP client."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import mcp_types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from tests.e2e.gateway_harness import GatewayThread, free_port

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent


@dataclass
class HttpGateway:
    url: str
    p: Proctor
    svid: str
    task_token: str


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[HttpGateway]:
    """A gateway on a loopback port; the agent holds an SVID for the gateway's URL and a task token."""
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
                    "tools": {"convert_time": {"effect": "write"}},
                }
            )
        ],
    )
    p = Proctor.open(ws)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    agent = p.agents.add("bot", "owner@acme.test")
    svid = p.agents.issue_svid(agent, url)
    task = p.tasks.start(
        agent="bot", purpose="time", allow=["time.get_current_time"], requested_by="r@acme.test"
    )
    from proctor.gateway.config import load_upstreams

    gateway = GatewayThread.start(p, load_upstreams(ws.root), port)
    try:
        yield HttpGateway(url, p, svid, task.token)
    finally:
        gateway.stop()
        p.close()


def _client(gw: HttpGateway, *, legacy: bool = False) -> Client:
    h = {"Authorization": f"Bearer {gw.svid}", "Proctor-Task": gw.task_token}
    transport = streamable_http_client(gw.url, http_client=httpx2.AsyncClient(headers=h, timeout=30))
    return Client(transport, cache=None, mode="legacy" if legacy else "auto")


def test_official_client_through_http_gateway(gateway: HttpGateway) -> None:
    """tools/list is filtered to the task; an allowed call returns the real upstream result; a
    call outside the task is a readable denial."""

    async def main() -> tuple[list[str], Any, Any]:
        async with _client(gateway) as c:
            names = sorted(t.name for t in (await c.list_tools()).tools)
            ok = await c.call_tool("time__get_current_time", {"timezone": "UTC"})
            no = await c.call_tool(
                "time__convert_time", {"source_timezone": "UTC", "time": "12:00", "target_timezone": "UTC"}
            )
            return names, ok, no

    names, ok, no = anyio.run(main)
    assert names == ["time__get_current_time"]
    assert not ok.is_error, ok.content
    assert '"timezone": "UTC"' in ok.content[0].text
    assert no.is_error
    assert "Proctor denied this call" in no.content[0].text


def test_resource_server_metadata_and_challenges(gateway: HttpGateway) -> None:
    """RFC 9728 metadata is served; no token, a token for another audience, a bad Origin and a
    missing task get 401/403 with WWW-Authenticate, and nothing reaches the MCP layer."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    base = gateway.url.rsplit("/mcp", 1)[0]
    with httpx.Client(timeout=10) as h:
        prm = h.get(f"{base}/.well-known/oauth-protected-resource/mcp").json()
        assert prm["resource"] == gateway.url
        assert prm["authorization_servers"]
        r = h.post(gateway.url, json=body)
        assert r.status_code == 401
        assert 'resource_metadata="' in r.headers["www-authenticate"]
        other = gateway.p.agents.issue_svid(gateway.p.agents.get("bot"), "http://elsewhere.example/mcp")
        r = h.post(
            gateway.url,
            json=body,
            headers={"Authorization": f"Bearer {other}", "Proctor-Task": gateway.task_token},
        )
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "token_wrong_audience"
        r = h.post(gateway.url, json=body, headers={"Authorization": f"Bearer {gateway.svid}"})
        assert r.status_code == 403
        assert 'error="insufficient_scope"' in r.headers["www-authenticate"]
        r = h.post(
            gateway.url,
            json=body,
            headers={
                "Authorization": f"Bearer {gateway.svid}",
                "Proctor-Task": gateway.task_token,
                "Origin": "http://evil.example",
            },
        )
        assert r.status_code == 403
        r = h.post(gateway.url, content=b"x" * (2 << 20), headers={"Authorization": f"Bearer {gateway.svid}"})
        assert r.status_code == 413


def test_suspended_agent_is_refused_at_the_door(gateway: HttpGateway) -> None:
    """Suspending the agent turns its next HTTP request into a 403, even with a valid SVID."""
    from proctor.types import AgentStatus

    gateway.p.agents.set_status("bot", AgentStatus.SUSPENDED)
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    with httpx.Client(timeout=10) as h:
        r = h.post(
            gateway.url,
            json=body,
            headers={"Authorization": f"Bearer {gateway.svid}", "Proctor-Task": gateway.task_token},
        )
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "agent_suspended"


def test_a_store_that_cannot_be_read_closes_the_door_without_detail(
    gateway: HttpGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store fails while a request is checked: a JSON 503 with the stable code, never an
    HTML 500, and nothing of the error's detail (a path, a server address, the driver's text)."""
    from proctor.errors import StoreUnavailable

    def down() -> None:
        raise StoreUnavailable("cannot reach PostgreSQL at db.internal:5432/proctor: refused")

    monkeypatch.setattr(gateway.p.state, "snapshot", down)
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    with httpx.Client(timeout=10) as h:
        r = h.post(
            gateway.url,
            json=body,
            headers={"Authorization": f"Bearer {gateway.svid}", "Proctor-Task": gateway.task_token},
        )
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "store_unavailable"
    assert "db.internal" not in r.text


def test_malformed_json_rpc_and_unknown_methods(gateway: HttpGateway) -> None:
    """Broken JSON, a non-JSON-RPC body and an unknown method get JSON-RPC errors, not crashes."""
    h = {
        "Authorization": f"Bearer {gateway.svid}",
        "Proctor-Task": gateway.task_token,
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
    }
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"},
        },
    }
    with httpx.Client(timeout=10) as c:
        r = c.post(gateway.url, json=init, headers=h)
        assert r.status_code == 200, r.text
        sid = r.headers.get("mcp-session-id")
        hs = dict(h, **({"Mcp-Session-Id": sid} if sid else {}), **{"Mcp-Protocol-Version": "2025-11-25"})
        c.post(gateway.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=hs)
        bad = c.post(gateway.url, content=b'{"jsonrpc": "2.0", "id": 2, "method": ', headers=hs)
        assert bad.status_code in (400, 200)
        assert "-32700" in bad.text or "Parse error" in bad.text
        assert "Traceback" not in bad.text
        odd = c.post(gateway.url, json={"hello": "world"}, headers=hs)
        assert odd.status_code in (400, 200)
        assert "Traceback" not in odd.text
        unknown = c.post(
            gateway.url, json={"jsonrpc": "2.0", "id": 3, "method": "tools/explode", "params": {}}, headers=hs
        )
        assert "-32601" in unknown.text, unknown.text


def test_lean_path_serves_http_upstreams(tmp_path: Path) -> None:
    """A client that declares no sampling or elicitation, calling a tool of an HTTP upstream, is
    served by the lean JSON-RPC path: same decisions, real results, audited as `path: lean`; a
    client that declares sampling goes through the SDK path."""
    import json as _json

    from mcp.client.session import ClientRequestContext
    from tests.conformance_mcp.fixture import fixture_url, start_fixture, stop_fixture

    from proctor.store.base import AuditQuery

    fport = free_port()
    fixture = start_fixture(fport, log_path=tmp_path / "fixture.log")
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    upstream = upstream_from_mapping(
        {"namespace": "fx", "url": fixture_url(fport), "default": {"effect": "read"}}
    )
    p = Proctor.open(ws)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    agent = p.agents.add("bot", "owner@acme.test")
    svid = p.agents.issue_svid(agent, url)
    task = p.tasks.start(agent="bot", purpose="fx", allow=["fx.test_simple_text"], requested_by="r@acme.test")
    gateway = GatewayThread.start(p, [upstream], port)
    gw = HttpGateway(url, p, svid, task.token)

    async def sampling(
        context: ClientRequestContext, params: mcp_types.CreateMessageRequestParams
    ) -> mcp_types.CreateMessageResult:
        raise AssertionError("not called")

    async def main() -> tuple[Any, Any, Any, Any]:
        async with _client(gw, legacy=True) as c:
            lean_ok = await c.call_tool("fx__test_simple_text", {})
            lean_no = await c.call_tool("fx__test_error_handling", {})
            with pytest.raises(MCPError) as unknown:
                await c.call_tool("fx__nope", {})
        h = {"Authorization": f"Bearer {svid}", "Proctor-Task": task.token}
        c2 = Client(
            streamable_http_client(url, http_client=httpx2.AsyncClient(headers=h, timeout=30)),
            cache=None,
            mode="legacy",
            sampling_callback=sampling,
        )
        async with c2:
            sdk_ok = await c2.call_tool("fx__test_simple_text", {})
        return lean_ok, lean_no, unknown.value, sdk_ok

    try:
        lean_ok, lean_no, unknown, sdk_ok = anyio.run(main)
        time.sleep(0.3)  # completion records join the next group commit
        done = [_json.loads(r.body) for r in p.store.search_audit(AuditQuery(kind="call.completed"))]
    finally:
        gateway.stop()
        p.close()
        stop_fixture(fixture)
    assert not lean_ok.is_error, lean_ok
    assert lean_ok.content[0].text
    assert lean_no.is_error
    assert "Proctor denied this call" in lean_no.content[0].text
    assert unknown.error.code == -32602
    assert not sdk_ok.is_error
    assert [d["path"] for d in done] == ["lean", "sdk"]


@contextmanager
def _fixture_gateway(
    tmp_path: Path, config: str = "", tools: dict[str, Any] | None = None, **upstream_extra: Any
) -> Iterator[HttpGateway]:
    """The gateway in front of the conformance fixture server (namespace `fx`, undescribed tools
    read), for an agent `bot` with a task allowed `fx.*`; ``config`` is added to the workspace's."""
    from tests.conformance_mcp.fixture import fixture_url, start_fixture, stop_fixture

    fport = free_port()
    fixture = start_fixture(fport, log_path=tmp_path / "fixture.log")
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n" + config)
    p = Proctor.open(ws)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    agent = p.agents.add("bot", "owner@acme.test")
    task = p.tasks.start(agent="bot", purpose="fx", allow=["fx.*"], requested_by="r@acme.test")
    upstream = upstream_from_mapping(
        {
            "namespace": "fx",
            "url": fixture_url(fport),
            "default": {"effect": "read"},
            "tools": tools or {},
            **upstream_extra,
        }
    )
    gateway = GatewayThread.start(p, [upstream], port)
    try:
        yield HttpGateway(url, p, p.agents.issue_svid(agent, url), task.token)
    finally:
        gateway.stop()
        p.close()
        stop_fixture(fixture)


def test_overlap_mode_withholds_unrecorded_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With `gateway.audit: overlap` the decision is made durable while the upstream works; if
    that write fails, the agent gets an error, never an unrecorded result."""
    from proctor.errors import StoreFull

    state = {"fail": False}

    async def main(gw: HttpGateway) -> tuple[Any, Any]:
        async with _client(gw, legacy=True) as c:
            ok = await c.call_tool("fx__test_simple_text", {})
            state["fail"] = True
            lost = await c.call_tool("fx__test_simple_text", {})
            return ok, lost

    with _fixture_gateway(tmp_path, "gateway: {audit: overlap}\n") as gw:
        original = gw.p.audit.append_async

        async def failing(kind: str, fields: Any, **kw: Any) -> Any:
            if kind == "decision" and fields.get("source") == "mcp" and state["fail"]:
                raise StoreFull("database or disk is full: nothing was written")
            return await original(kind, fields, **kw)

        monkeypatch.setattr(gw.p.audit, "append_async", failing)
        ok, lost = anyio.run(main, gw)
    assert not ok.is_error
    assert lost.is_error
    assert "withheld" in lost.content[0].text


def test_auto_mode_overlaps_plain_reads_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`gateway.audit: auto` (the default): a plain read is sent upstream while its decision is
    being made durable; a write is sent only once it is durable, and when the write of its
    record fails the upstream never sees the call. Either way no unrecorded result comes back."""
    from proctor.errors import StoreFull
    from proctor.gateway.lean import LeanHttpUpstream

    events: list[str] = []
    state = {"fail": False}
    original_call = LeanHttpUpstream.call_tool
    originals: dict[str, Any] = {}

    async def append(kind: str, fields: Any, **kw: Any) -> Any:
        original_append = originals["append"]
        if kind == "decision" and fields.get("source") == "mcp":
            if state["fail"]:
                events.append("record failed")
                raise StoreFull("database or disk is full: nothing was written")
            row = await original_append(kind, fields, **kw)
            events.append("recorded")
            return row
        return await original_append(kind, fields, **kw)

    async def call_tool(self: LeanHttpUpstream, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        events.append(f"upstream {name}")
        return await original_call(self, name, arguments)

    async def main(gw: HttpGateway) -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with _client(gw, legacy=True) as c:
            await c.call_tool("fx__test_simple_text", {})  # registers the tools
            for tool in ("test_simple_text", "test_image_content"):
                events.clear()
                out[f"{tool} ok"] = (await c.call_tool(f"fx__{tool}", {}), list(events))
            state["fail"] = True
            for tool in ("test_simple_text", "test_image_content"):
                events.clear()
                out[f"{tool} failed"] = (await c.call_tool(f"fx__{tool}", {}), list(events))
        return out

    with _fixture_gateway(tmp_path, tools={"test_image_content": {"effect": "write"}}) as gw:
        assert gw.p.settings.gateway_audit == "auto"
        originals["append"] = gw.p.audit.append_async
        monkeypatch.setattr(gw.p.audit, "append_async", append)
        monkeypatch.setattr(LeanHttpUpstream, "call_tool", call_tool)
        out = anyio.run(main, gw)
    read, read_events = out["test_simple_text ok"]
    write, write_events = out["test_image_content ok"]
    assert not read.is_error
    assert not write.is_error
    assert read_events == ["upstream test_simple_text", "recorded"]  # overlapped
    assert write_events == ["recorded", "upstream test_image_content"]  # durable first
    lost_read, lost_read_events = out["test_simple_text failed"]
    lost_write, lost_write_events = out["test_image_content failed"]
    assert lost_read.is_error
    assert "withheld" in lost_read.content[0].text
    assert lost_read_events == ["upstream test_simple_text", "record failed"]
    assert lost_write.is_error
    assert "could not record" in lost_write.content[0].text
    assert lost_write_events == ["record failed"]  # the upstream never saw it


@pytest.mark.parametrize("padding", [0, 100_000])
def test_a_trickled_body_is_decided_on_the_store_as_it_is_when_it_ends(tmp_path: Path, padding: int) -> None:
    """The gateway authenticates a request from its headers, then reads the body. An agent that
    sends the body slowly must not be decided on the store as it was when the headers came: an
    agent suspended meanwhile is denied, and the upstream never sees the call.

    A small body is held until it is whole and only then admitted (the fast path), so the answer
    is the 403 every request of a suspended agent gets. A body too large to hold is streamed to
    the ASGI app, which authenticated on the headers: it takes the store's snapshot again once
    the body is in, and the call is a tool error naming the suspension."""
    from proctor.store.base import AuditQuery

    with _fixture_gateway(tmp_path) as gw:
        text = _trickle_after_suspending(gw, padding).decode()
        gw.p.audit.flush()
        completed = gw.p.store.search_audit(AuditQuery(kind="call.completed"))
    assert len(completed) == 1  # only the first call, which registered the tool, reached the upstream
    if padding:
        assert "Proctor denied this call" in text, text
    else:
        assert text.startswith("HTTP/1.1 403"), text
        assert "agent_suspended" in text
    assert "suspended" in text


def _trickle_after_suspending(gw: HttpGateway, padding: int = 0) -> bytes:
    """Open a session and make one call (which registers the tool), then send a `tools/call`
    whose body arrives in two parts with the agent suspended in between; returns the raw reply."""
    import json
    import socket

    from proctor.types import AgentName, AgentStatus

    port = int(gw.url.split(":")[2].split("/")[0])
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "fx__test_simple_text", "arguments": {}},
    }
    with httpx.Client(timeout=30) as client:
        h = _open_session(client, gw)
        first = client.post(gw.url, json=call, headers=h)
        assert '"isError":false' in first.text.replace(" ", "")  # served (lean path), tool registered
    arguments = {"pad": "x" * padding} if padding else {}
    second = {**call, "id": 2, "params": {"name": "fx__test_simple_text", "arguments": arguments}}
    body = json.dumps(second).encode()
    head = f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in h.items()
    )
    head += f"Content-Length: {len(body)}\r\n\r\n"
    reply = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        # past the size the gateway holds a request for, when padded: the ASGI app has it then
        split = 70_000 if padding else 10
        s.sendall(head.encode() + body[:split])
        time.sleep(0.2)  # the gateway has authenticated the headers and waits for the body
        gw.p.agents.set_status(AgentName("bot"), AgentStatus.SUSPENDED)
        s.sendall(body[split:])
        while b'"id":2' not in reply and b'"id": 2' not in reply:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    return reply


@pytest.mark.parametrize("audit", ["auto", "strict"])
def test_a_lone_surrogate_in_arguments_is_an_audited_deny(tmp_path: Path, audit: str) -> None:
    """JSON may carry a lone surrogate as a `\\ud800` escape; UTF-8 and canonical JSON cannot. Such
    a call is refused with a tool error and an audit record, on both orderings of the lean path
    (it used to raise out of the pipeline and answer with an internal error, unaudited)."""
    import json

    from proctor.store.base import AuditQuery

    with _fixture_gateway(tmp_path, config=f"gateway: {{audit: {audit}}}\n") as gw:
        with httpx.Client(timeout=30) as client:
            h = _open_session(client, gw)
            raw = (
                b'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":'
                b'{"name":"fx__test_simple_text","arguments":{"note":"a\\ud800b"}}}'
            )
            reply = client.post(gw.url, content=raw, headers=h)
        gw.p.audit.flush()
        denied = gw.p.store.search_audit(AuditQuery(kind="decision", decision="deny"))
    assert reply.status_code == 200, reply.text
    result = reply.json()["result"]
    assert result["isError"] is True
    assert "lone surrogate" in result["content"][0]["text"]
    assert [json.loads(r.body)["tool"] for r in denied] == ["fx.test_simple_text"]


def test_a_session_belongs_to_the_agent_that_opened_it(gateway: HttpGateway) -> None:
    """Another agent, with valid credentials of its own, can neither use nor end a session it did
    not open: its id is answered as an unknown session would be, and the refusal is audited."""
    import json

    from proctor.store.base import AuditQuery

    p = gateway.p
    eve = p.agents.add("eve", "owner@acme.test")
    eve_task = p.tasks.start(agent="eve", purpose="time", allow=["time.*"], requested_by="r@acme.test")
    base = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    eve_h = {
        **base,
        "Authorization": f"Bearer {p.agents.issue_svid(eve, gateway.url)}",
        "Proctor-Task": eve_task.token,
    }
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    with httpx.Client(timeout=30) as client:
        bot_h = _open_session(client, gateway)
        sid = bot_h["Mcp-Session-Id"]
        stolen = {**eve_h, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
        used = client.post(gateway.url, json=listing, headers=stolen)
        ended = client.delete(gateway.url, headers=stolen)
        still = client.post(gateway.url, json=listing, headers=bot_h)
    assert used.status_code == 404
    assert used.json()["error"]["message"] == "Session not found"
    assert ended.status_code == 404
    assert still.status_code == 200, still.text
    assert "time__get_current_time" in still.text
    p.audit.flush()
    refused = [json.loads(r.body) for r in p.store.search_audit(AuditQuery(kind="gateway.refused"))]
    assert [r["error"] for r in refused] == ["session_not_owned", "session_not_owned"]


def _open_session(client: httpx.Client, gw: HttpGateway) -> dict[str, str]:
    h = {
        "Authorization": f"Bearer {gw.svid}",
        "Proctor-Task": gw.task_token,
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
    }
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    h["Mcp-Session-Id"] = client.post(gw.url, json=init, headers=h).headers["mcp-session-id"]
    h["MCP-Protocol-Version"] = "2025-11-25"
    client.post(gw.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=h)
    return h


def test_a_lone_surrogate_on_the_sdk_path_is_refused_and_audited(gateway: HttpGateway) -> None:
    """The SDK answers such a message with its parser's text and nothing is audited; the gateway
    refuses it first (the stdio `time` upstream means the SDK path serves this call)."""
    import json

    from proctor.store.base import AuditQuery

    with httpx.Client(timeout=30) as client:
        h = _open_session(client, gateway)
        raw = (
            b'{"jsonrpc":"2.0","id":9,"method":"tools/call","params":'
            b'{"name":"time__get_current_time","arguments":{"timezone":"\\udc00"}}}'
        )
        r = client.post(gateway.url, content=raw, headers=h)
    assert r.status_code == 400
    assert r.json() == {
        "jsonrpc": "2.0",
        "id": 9,
        "error": {"code": -32602, "message": "the message holds a lone surrogate, which is not Unicode"},
    }
    gateway.p.audit.flush()
    refused = [json.loads(x.body) for x in gateway.p.store.search_audit(AuditQuery(kind="gateway.refused"))]
    assert [(x["reason"], x["method"]) for x in refused] == [("lone surrogate", "tools/call")]


def test_a_store_error_before_the_decision_is_an_audited_deny_without_detail(
    gateway: HttpGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the tool's pins fails (the store broke after the request was let in): the call is
    denied with a generic reason and that deny is recorded; the driver's text stays in the log."""
    import json

    from proctor.errors import StoreError
    from proctor.store.base import AuditQuery

    def broken(*_a: object, **_k: object) -> None:
        raise StoreError("database error: no such table: tool_pins (at /srv/secret/proctor.db)")

    with httpx.Client(timeout=30) as client:
        h = _open_session(client, gateway)
        monkeypatch.setattr(gateway.p.state, "pins", broken)
        call = {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "time__get_current_time", "arguments": {"timezone": "UTC"}},
        }
        r = client.post(gateway.url, json=call, headers=h)
    assert "the store could not be read" in r.text
    assert "/srv/secret" not in r.text
    assert "tool_pins" not in r.text
    gateway.p.audit.flush()
    last = json.loads(
        gateway.p.store.search_audit(AuditQuery(kind="decision", newest_first=True, limit=1))[0].body
    )
    assert last["decision"] == "deny"
    assert last["outcome"]["errors"] == ["store_error"]


def test_a_session_id_sent_twice_is_refused(gateway: HttpGateway) -> None:
    """This layer read the last copy of a header and the SDK the first: another agent sending the
    owner's session id first and one of its own second passed the ownership check and used (and
    ended) the session. A repeated identity or session header is now refused outright."""
    p = gateway.p
    eve = p.agents.add("eve", "owner@acme.test")
    eve_task = p.tasks.start(agent="eve", purpose="time", allow=["time.*"], requested_by="r@acme.test")
    with httpx.Client(timeout=30) as client:
        bot_h = _open_session(client, gateway)
        sid = bot_h["Mcp-Session-Id"]
        eve_h = [
            ("Authorization", f"Bearer {p.agents.issue_svid(eve, gateway.url)}"),
            ("Proctor-Task", eve_task.token),
            ("Accept", "application/json, text/event-stream"),
            ("Content-Type", "application/json"),
            ("MCP-Protocol-Version", "2025-11-25"),
            ("Mcp-Session-Id", sid),
            ("Mcp-Session-Id", "0" * 32),
        ]
        listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
        used = client.post(gateway.url, json=listing, headers=eve_h)
        ended = client.delete(gateway.url, headers=eve_h)
        still = client.post(gateway.url, json=listing, headers=bot_h)
    assert used.status_code == 400
    assert ended.status_code == 400
    assert still.status_code == 200, still.text


@pytest.mark.parametrize("mode", ["whole", "expect-100", "large"])
def test_a_session_id_sent_as_a_trailer_is_not_a_header(gateway: HttpGateway, mode: str) -> None:
    """A chunked body may end with trailer fields. uvicorn handed them over as headers, appended
    after this layer had checked the headers but before the SDK read them: another agent sending
    the owner's session id as a trailer was served in that session, whenever the request reached
    the ASGI app before its body ended (a body announced with `Expect: 100-continue`, or one too
    large to hold). Trailer fields are now dropped: the SDK sees a request without a session."""
    import json
    import socket

    p = gateway.p
    eve = p.agents.add("eve", "owner@acme.test")
    eve_task = p.tasks.start(agent="eve", purpose="time", allow=["time.*"], requested_by="r@acme.test")
    with httpx.Client(timeout=30) as client:
        sid = _open_session(client, gateway)["Mcp-Session-Id"]
    listing: dict[str, Any] = {"jsonrpc": "2.0", "id": 5, "method": "tools/list", "params": {}}
    if mode == "large":
        listing["params"] = {"_meta": {"pad": "x" * 70_000}}
    body = json.dumps(listing).encode()
    port = int(gateway.url.split(":")[2].split("/")[0])
    head = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {p.agents.issue_svid(eve, gateway.url)}\r\nProctor-Task: {eve_task.token}\r\n"
        "Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\n"
        "MCP-Protocol-Version: 2025-11-25\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
    )
    if mode == "expect-100":
        head += "Expect: 100-continue\r\n"
    first, rest = (body[:65_000], body[65_000:]) if mode == "large" else (body, b"")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.encode() + b"\r\n")
        if mode == "expect-100":
            assert b"100 Continue" in s.recv(65536)
        s.sendall(b"%x\r\n%s\r\n" % (len(first), first))
        time.sleep(0.2)  # a large body is with the app by now, its headers checked
        if rest:
            s.sendall(b"%x\r\n%s\r\n" % (len(rest), rest))
        s.sendall(b"0\r\nMcp-Session-Id: " + sid.encode() + b"\r\n\r\n")
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    answer = reply.split(b"HTTP/1.1 100 Continue\r\n\r\n")[-1]
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:300]
    assert b"Missing session ID" in answer
    assert b"get_current_time" not in answer  # nothing of the owner's session was served


def test_a_lone_plain_read_commits_its_record_on_the_loop_while_the_upstream_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing else in flight, the decision record of a plain read is committed on the event
    loop's thread once the call is on its way upstream (handing it to the writer thread and being
    woken back costs more than the commit); calls that overlap go to the writer and share commits.
    Either way the answer comes only once the record is durable (see the ordering test above)."""
    import json
    import threading

    phase = ["setup"]
    commits: list[tuple[str, str, int]] = []  # (phase, thread, decision records in the commit)

    async def main(gw: HttpGateway) -> None:
        async with _client(gw, legacy=True) as c:
            await c.call_tool("fx__test_simple_text", {})  # registers the tools
            phase[0] = "alone"
            await c.call_tool("fx__test_simple_text", {})
            phase[0] = "together"
            async with anyio.create_task_group() as tg:
                for _ in range(8):
                    tg.start_soon(c.call_tool, "fx__test_simple_text", {})
            phase[0] = "done"

    with _fixture_gateway(tmp_path) as gw:
        original = gw.p.store.append_audit

        def append_audit(records: Any, hasher: Any, **kw: Any) -> Any:
            decisions = sum(json.loads(r.body)["kind"] == "decision" for r in records)
            started = phase[0]
            rows = original(records, hasher, **kw)  # an attempt that found the lock taken is not a commit
            commits.append((started, threading.current_thread().name, decisions))
            return rows

        monkeypatch.setattr(gw.p.store, "append_audit", append_audit)
        anyio.run(main, gw)
    alone = [(t, n) for ph, t, n in commits if ph == "alone" and n]
    together = [(t, n) for ph, t, n in commits if ph == "together" and n]
    assert len(alone) == 1
    assert alone[0][1] == 1
    assert alone[0][0] != "proctor-audit-writer"
    assert sum(n for _t, n in together) == 8
    assert "proctor-audit-writer" in {t for t, _n in together}


def test_a_slow_inline_commit_is_not_counted_against_the_upstreams_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lone read commits its record on the loop while the upstream works, inside the window of
    the upstream's timeout. A commit that held the loop past that timeout (another process holding
    SQLite's lock, a slow disk) turned an answer that had arrived in time into "did not answer" and
    dropped the upstream session; the deadline now moves back by the time the loop was held."""
    import json
    import time as _time

    slow = [False]

    async def main(gw: HttpGateway) -> Any:
        async with _client(gw, legacy=True) as c:
            await c.call_tool("fx__test_simple_text", {})  # registers the tools
            slow[0] = True
            return await c.call_tool("fx__test_simple_text", {})

    with _fixture_gateway(tmp_path, timeout="1s") as gw:
        original = gw.p.store.append_audit

        def append_audit(records: Any, hasher: Any, **kw: Any) -> Any:
            if slow[0] and any(json.loads(r.body)["kind"] == "decision" for r in records):
                slow[0] = False
                _time.sleep(1.5)  # the loop is held past the upstream's 1 s timeout
            return original(records, hasher, **kw)

        monkeypatch.setattr(gw.p.store, "append_audit", append_audit)
        result = anyio.run(main, gw)
    assert not result.is_error, result.content[0].text
    assert result.content[0].text == "This is a simple text response for testing."


def test_no_call_reaches_an_upstream_alongside_its_record_while_the_log_is_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`auto` sends a plain read upstream while its record is written only while the audit log is
    healthy. Once a commit has failed (a locked or full store), every call waits for its record,
    so while the log keeps failing the upstream sees nothing; when it recovers, reads overlap again."""
    from proctor.errors import StoreLocked
    from proctor.gateway.lean import LeanHttpUpstream

    seen: list[str] = []
    state = {"fail": False}
    original_call = LeanHttpUpstream.call_tool

    async def call_tool(self: LeanHttpUpstream, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        seen.append(name)
        return await original_call(self, name, arguments)

    async def main(gw: HttpGateway) -> list[tuple[bool, list[str]]]:
        out = []
        async with _client(gw, legacy=True) as c:
            names = [t.name for t in (await c.list_tools()).tools]
            read = next(n for n in names if n.endswith("test_simple_text"))
            await c.call_tool(read, {})  # registers the tool
            for fail in (True, True, True, False, False):
                state["fail"] = fail
                seen.clear()
                res = await c.call_tool(read, {})
                out.append((bool(res.is_error), list(seen)))
        return out

    with _fixture_gateway(tmp_path) as gw:
        store = gw.p.store
        original_append = store.append_audit

        def append_audit(records: Any, hasher: Any, **kw: Any) -> Any:
            if state["fail"]:
                raise StoreLocked("database is locked by another process; try again")
            return original_append(records, hasher, **kw)

        monkeypatch.setattr(store, "append_audit", append_audit)
        monkeypatch.setattr(LeanHttpUpstream, "call_tool", call_tool)
        out = anyio.run(main, gw)
    # the first failure is found only after the read went out (its result is withheld) ...
    assert out[0] == (True, ["test_simple_text"])
    # ... from then on, nothing reaches the upstream while the log fails
    assert out[1] == (True, [])
    assert out[2] == (True, [])
    # the log is back: the first call waits for its record (which clears the failure), then reads overlap
    assert out[3] == (False, ["test_simple_text"])
    assert out[4] == (False, ["test_simple_text"])


def test_a_cancelled_call_on_the_sdk_path_gets_its_completion_record(tmp_path: Path) -> None:
    """A client that cancels a call in flight (a stdio upstream: the SDK path) leaves no allow
    without its `call.completed`: the gateway records the call as cancelled."""
    from proctor.store.base import AuditQuery

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "changing_server.py"
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    upstream = upstream_from_mapping(
        {
            "namespace": "dict",
            "command": sys.executable,
            "args": [str(fixture)],
            "env": {"FIXTURE_SLOW_TOOL": "1"},
            "default": {"effect": "read"},
        }
    )
    p = Proctor.open(ws)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    agent = p.agents.add("bot", "owner@acme.test")
    task = p.tasks.start(agent="bot", purpose="slow", allow=["dict.*"], requested_by="r@acme.test")
    gateway = GatewayThread.start(p, [upstream], port)
    gw = HttpGateway(url, p, p.agents.issue_svid(agent, url), task.token)

    async def main() -> None:
        async with _client(gw, legacy=True) as c:
            name = next(t.name for t in (await c.list_tools()).tools if t.name.endswith("slow"))
            with anyio.move_on_after(1.5):
                await c.call_tool(name, {"seconds": 60})
            await anyio.sleep(0.5)  # the cancellation notice reaches the gateway

    try:
        anyio.run(main)
        deadline = time.monotonic() + 20
        done: list[Any] = []
        while time.monotonic() < deadline and not done:
            p.audit.flush()
            done = p.store.search_audit(AuditQuery(kind="call.completed", limit=5))
            time.sleep(0.2)
        allowed = p.store.search_audit(AuditQuery(kind="decision", limit=5))
    finally:
        gateway.stop()
        p.close()
    assert allowed
    assert done, "the cancelled call has no completion record"
    assert b'"cancelled"' in bytes(done[0].body)


@pytest.mark.parametrize("pinned", [False, True])
def test_a_call_after_task_end_is_an_audited_task_refusal(tmp_path: Path, pinned: bool) -> None:
    """Right after `task end` (and after the gateway closed the task's upstream sessions), a call
    is answered with the audited "task is completed" deny, never "unknown tool", and no upstream is
    started for the ended task."""
    from proctor.gateway.discovery import discover_sync
    from proctor.gateway.pinning import make_pins
    from proctor.store.base import AuditQuery

    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    upstream = upstream_from_mapping(
        {"namespace": "time", "command": str(BIN / "mcp-server-time"), "default": {"effect": "read"}}
    )
    p = Proctor.open(ws)
    if pinned:
        p.store.replace_tool_pins(
            "time", make_pins("time", discover_sync(upstream), now=p.clock.now(), by="a@acme.test")
        )
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    agent = p.agents.add("bot", "owner@acme.test")
    task = p.tasks.start(agent="bot", purpose="t", allow=["time.*"], requested_by="r@acme.test")
    gateway = GatewayThread.start(p, [upstream], port)
    gw = HttpGateway(url, p, p.agents.issue_svid(agent, url), task.token)

    async def call(name: str | None = None) -> Any:
        async with _client(gw, legacy=True) as c:
            if name is None:
                name = next(
                    t.name for t in (await c.list_tools()).tools if t.name.endswith("get_current_time")
                )
            return name, await c.call_tool(name, {"timezone": "UTC"})

    try:
        name, first = anyio.run(call)
        assert not first.is_error
        p.tasks.end(str(task.task.id))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not p.store.search_audit(
            AuditQuery(kind="upstream.sessions_closed", limit=1)
        ):
            time.sleep(0.1)
        _, after = anyio.run(call, name)
        p.audit.flush()
        last = p.store.search_audit(AuditQuery(kind="decision", newest_first=True, limit=1))
    finally:
        gateway.stop()
        p.close()
    assert after.is_error
    text = after.content[0].text
    assert "completed" in text, text
    assert b"task_not_active" in bytes(last[0].body)


def test_a_call_for_an_undeclared_upstream_starts_nothing(tmp_path: Path) -> None:
    """A task that declared only `time.*` calls a tool of another upstream by name: the call is an
    audited deny, and that upstream is never started (or listed, or leased for) on its behalf, as
    for tools/list, resources and prompts."""
    from proctor.store.base import AuditQuery

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "changing_server.py"
    marker = tmp_path / "dict-started"
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    time_up = upstream_from_mapping(
        {"namespace": "time", "command": str(BIN / "mcp-server-time"), "default": {"effect": "read"}}
    )
    dict_up = upstream_from_mapping(
        {
            "namespace": "dict",
            "command": "/bin/sh",
            "args": ["-c", f'echo started >> "{marker}"; exec "{sys.executable}" "{fixture}"'],
            "default": {"effect": "read"},
        }
    )
    p = Proctor.open(ws)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    agent = p.agents.add("bot", "owner@acme.test")
    task = p.tasks.start(agent="bot", purpose="t", allow=["time.*"], requested_by="r@acme.test")
    gateway = GatewayThread.start(p, [time_up, dict_up], port)
    gw = HttpGateway(url, p, p.agents.issue_svid(agent, url), task.token)

    async def call() -> Any:
        async with _client(gw, legacy=True) as c:
            try:
                return await c.call_tool("dict__lookup", {"word": "x"})
            except MCPError as exc:
                return exc

    try:
        out = anyio.run(call)
        p.audit.flush()
        last = p.store.search_audit(AuditQuery(kind="decision", newest_first=True, limit=1))
    finally:
        gateway.stop()
        p.close()
    assert not marker.exists(), "the undeclared upstream was started for the task"
    assert isinstance(out, MCPError) or out.is_error
    assert last, "the refused call is not audited"


@pytest.mark.parametrize("path", ["lean", "sdk"])
def test_in_strict_mode_an_answered_call_has_a_durable_completion_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """Issue 12.4: with `gateway.audit: strict`, a call's `call.completed` record is durable before
    the agent gets the answer (a crash right after answering loses none): deferred records are
    dropped here, as a `kill -9` before their commit would, and the completion is there all the same.
    Both paths: the lean one (an HTTP upstream) and the SDK one (a stdio upstream)."""
    from proctor.store.base import AuditQuery

    if path == "lean":
        ctx = _fixture_gateway(tmp_path, "gateway: {audit: strict}\n")
    else:
        ctx = _stdio_fixture_gateway(tmp_path, "gateway: {audit: strict}\n")
    with ctx as gw:
        dropped: list[str] = []
        monkeypatch.setattr(gw.p.audit, "defer", lambda kind, fields, **kw: dropped.append(kind))

        async def main() -> Any:
            async with _client(gw, legacy=True) as c:
                names = [t.name for t in (await c.list_tools()).tools]
                name = next(n for n in names if n.endswith(("test_simple_text", "lookup")))
                args = {"word": "x"} if name.endswith("lookup") else {}
                return await c.call_tool(name, args)

        res = anyio.run(main)
        assert not res.is_error
        done = gw.p.store.search_audit(AuditQuery(kind="call.completed", limit=5))
    assert "call.completed" not in dropped
    assert len(done) == 1


@contextmanager
def _stdio_fixture_gateway(tmp_path: Path, config: str) -> Iterator[HttpGateway]:
    """The HTTP gateway in front of a stdio upstream (the SDK path), namespace `dict`."""
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "changing_server.py"
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n" + config)
    upstream = upstream_from_mapping(
        {
            "namespace": "dict",
            "command": sys.executable,
            "args": [str(fixture)],
            "default": {"effect": "read"},
        }
    )
    p = Proctor.open(ws)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    agent = p.agents.add("bot", "owner@acme.test")
    task = p.tasks.start(agent="bot", purpose="d", allow=["dict.*"], requested_by="r@acme.test")
    gateway = GatewayThread.start(p, [upstream], port)
    try:
        yield HttpGateway(url, p, p.agents.issue_svid(agent, url), task.token)
    finally:
        gateway.stop()
        p.close()
