"""Both MCP revisions on both sides of the HTTP gateway (ADR 0031).

Downstream, a 2026-07-28 client's stateless ``tools/call`` is served by the lean path (decided,
audited and labelled as a 2025-11-25 one is), a contradicting ``Mcp-Method``/``Mcp-Name`` header is
refused with -32020 and audited, and what the lean path does not serve (an unknown method,
``server/discover``, an oversized body) is answered as the SDK's stateless entry answers it.
Upstream, the gateway speaks to a server that takes only the handshake (2025-11-25) and to one
that takes only stateless requests (2026-07-28), on either leg, for a client of either revision.
"""

from __future__ import annotations

import json
import subprocess
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
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from tests.conformance_mcp.fixture import fixture_url, free_port, start_fixture, stop_fixture, wait_http_ready
from tests.e2e.gateway_harness import GatewayThread

from proctor.app import Proctor
from proctor.gateway.config import upstream_from_mapping
from proctor.gateway.http import MAX_BODY, GatewayAuth
from proctor.store.base import AuditQuery
from proctor.workspace import Workspace

REVISION_SERVER = Path(__file__).resolve().parents[1] / "fixtures" / "revision_server.py"
MODERN = "2026-07-28"
HANDSHAKE = "2025-11-25"
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
}
#: the client's revision -> the official client's mode that speaks it
MODES = {HANDSHAKE: "legacy", MODERN: "auto"}


@dataclass
class Gw:
    url: str
    p: Proctor
    auth: GatewayAuth
    svid: str
    task_token: str

    def headers(self, **extra: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.svid}",
            "Proctor-Task": self.task_token,
            "Accept": "application/json, text/event-stream",
            "Content-Type": "application/json",
            **extra,
        }

    def client(self, revision: str, **kw: Any) -> Client:
        h = {"Authorization": f"Bearer {self.svid}", "Proctor-Task": self.task_token}
        transport = streamable_http_client(self.url, http_client=httpx2.AsyncClient(headers=h, timeout=60))
        return Client(transport, cache=None, mode=MODES[revision], **kw)

    def audit(self, kind: str) -> list[dict[str, Any]]:
        time.sleep(0.3)  # a completion record joins the next group commit
        return [json.loads(x.body) for x in self.p.store.search_audit(AuditQuery(kind=kind))]


@contextmanager
def _gateway(tmp_path: Path, upstreams: list[dict[str, Any]], config: str = "") -> Iterator[Gw]:
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n" + config)
    p = Proctor.open(ws)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    agent = p.agents.add("bot", "owner@acme.test")
    allow = [f"{u['namespace']}.*" for u in upstreams]
    task = p.tasks.start(agent="bot", purpose="revisions", allow=allow, requested_by="r@acme.test")
    apps: list[Any] = []

    def keep(app: Any) -> Any:
        apps.append(app)
        return app

    gateway = GatewayThread.start(p, [upstream_from_mapping(u) for u in upstreams], port, wrap=keep)
    try:
        yield Gw(url, p, apps[0], p.agents.issue_svid(agent, url), task.token)
    finally:
        gateway.stop()
        p.close()


@contextmanager
def _revision_server(only: str, tmp_path: Path, count: Path | None = None) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    counting = [] if count is None else ["--count", str(count)]
    with (tmp_path / f"revision-{only}.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, str(REVISION_SERVER), "--port", str(port), "--only", only, *counting],
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


def _text(result: types.CallToolResult) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def test_every_client_revision_reaches_every_upstream_revision_on_both_legs(tmp_path: Path) -> None:
    """The official MCP client at 2025-11-25 and at 2026-07-28 calls, through the gateway, an
    upstream that speaks only 2025-11-25 and one that speaks only 2026-07-28 (each tells the
    revision the call reached it on), on the lean leg and on the SDK leg: all eight answer with
    the upstream's result, and each call is recorded on the leg it took."""
    with (
        _revision_server(HANDSHAKE, tmp_path) as old_url,
        _revision_server(MODERN, tmp_path) as new_url,
        _gateway(
            tmp_path,
            [
                {"namespace": "old", "url": old_url, "default": {"effect": "read"}},
                {"namespace": "new", "url": new_url, "default": {"effect": "read"}},
            ],
        ) as gw,
    ):
        seen: dict[tuple[str, str, bool], tuple[str, str, bool]] = {}
        for lean in (True, False):
            gw.auth.lean = lean
            for client_rev in (HANDSHAKE, MODERN):

                async def main(client_rev: str = client_rev) -> tuple[str, list[tuple[str, str, bool]]]:
                    async with gw.client(client_rev) as c:
                        names = sorted(t.name for t in (await c.list_tools()).tools)
                        out = []
                        for ns in ("old", "new"):
                            r = await c.call_tool(f"{ns}__echo", {"text": f"{ns}-{client_rev}"})
                            out.append((ns, _text(r), bool(r.is_error)))
                        assert names == ["new__echo", "old__echo"], names
                        return str(c.protocol_version), out

                version, out = anyio.run(main)
                assert version == client_rev
                for ns, text, is_error in out:
                    seen[(client_rev, ns, lean)] = (text, version, is_error)
        paths = [d["path"] for d in gw.audit("call.completed")]
    for (client_rev, ns, _lean), (text, _v, is_error) in seen.items():
        upstream_rev = HANDSHAKE if ns == "old" else MODERN
        assert not is_error, text
        assert text == f"{ns}-{client_rev} @{upstream_rev}", text
    assert len(seen) == 8
    # the lean leg served the lean half (either client revision), the SDK leg the rest
    assert paths.count("lean") == 4, paths
    assert paths.count("sdk") == 4, paths


def _post(gw: Gw, client: httpx.Client, msg: Any, **headers: str) -> httpx.Response:
    return client.post(gw.url, content=json.dumps(msg).encode(), headers=gw.headers(**headers))


def _call(name: str, rid: int = 1, meta: Any = ENVELOPE, **args: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "tools/call",
        "params": {"name": name, "arguments": args, "_meta": meta},
    }


def test_the_2026_path_stateless_calls_headers_and_what_the_lean_path_leaves_to_the_sdk(
    tmp_path: Path,
) -> None:
    """A stateless 2026-07-28 call (no session, never an `initialize`) is served by the lean path
    and labelled `lean`, with `resultType` and the server's `_meta` stamp; a contradicting
    `Mcp-Method` or `Mcp-Name` is -32020 (HTTP 400), audited as a refusal and never run; an unknown
    tool is -32602 with HTTP 400 as the SDK's stateless entry answers it; an unknown method (404,
    -32601), `server/discover`, and a body over the limit (413) are answered without a call."""
    fport = free_port()
    fixture = start_fixture(fport, log_path=tmp_path / "fixture.log")
    try:
        with (
            _gateway(
                tmp_path, [{"namespace": "fx", "url": fixture_url(fport), "default": {"effect": "read"}}]
            ) as gw,
            httpx.Client(timeout=30) as client,
        ):
            routed = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call"}
            ok = _post(
                gw, client, _call("fx__test_simple_text"), **routed, **{"Mcp-Name": "fx__test_simple_text"}
            )
            assert ok.status_code == 200, ok.text
            assert "mcp-session-id" not in ok.headers
            result = ok.json()["result"]
            assert result["resultType"] == "complete"
            assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "proctor"
            assert result["content"][0]["text"] == "This is a simple text response for testing."

            wrong_name = _post(
                gw, client, _call("fx__test_simple_text", 2), **routed, **{"Mcp-Name": "fx__other"}
            )
            wrong_method = _post(
                gw,
                client,
                _call("fx__test_simple_text", 3),
                **{**routed, "Mcp-Method": "tools/list", "Mcp-Name": "fx__test_simple_text"},
            )
            for r, rid in ((wrong_name, 2), (wrong_method, 3)):
                assert r.status_code == 400, r.text
                assert r.json()["id"] == rid
                assert r.json()["error"]["code"] == -32020

            unknown_tool = _post(gw, client, _call("fx__nope", 4), **routed, **{"Mcp-Name": "fx__nope"})
            assert unknown_tool.status_code == 400
            assert unknown_tool.json()["error"]["code"] == -32602

            unknown = {"jsonrpc": "2.0", "id": 5, "method": "nope/x", "params": {"_meta": ENVELOPE}}
            r = _post(gw, client, unknown, **{"MCP-Protocol-Version": MODERN, "Mcp-Method": "nope/x"})
            assert r.status_code == 404
            assert r.json()["error"]["code"] == -32601

            discover = {"jsonrpc": "2.0", "id": 6, "method": "server/discover", "params": {"_meta": ENVELOPE}}
            r = _post(
                gw, client, discover, **{"MCP-Protocol-Version": MODERN, "Mcp-Method": "server/discover"}
            )
            assert r.status_code == 200
            assert MODERN in r.json()["result"]["supportedVersions"]

            big = _call("fx__test_simple_text", 7, pad="x" * (MAX_BODY + 1))
            r = _post(gw, client, big, **routed, **{"Mcp-Name": "fx__test_simple_text"})
            assert r.status_code == 413

            completed = gw.audit("call.completed")
            refused = gw.audit("gateway.refused")
            decided = gw.audit("decision")
    finally:
        stop_fixture(fixture)
    assert [d["path"] for d in completed] == ["lean"]
    assert [(x["error"], x["method"]) for x in refused] == [("header_mismatch", "tools/call")] * 2
    # only the one call that ran was decided: the refused, unknown and oversized ones were not
    assert len(decided) == 1, decided


def test_a_held_2026_call_on_the_lean_path_answers_input_required_then_completes(tmp_path: Path) -> None:
    """A 2026-07-28 client that declared URL elicitation gets `input_required` with the approval
    page's link on the lean path (as on the SDK entry); its retry is held, and completes with the
    upstream's result once the owner approves."""
    from proctor.approvals.model import Approver
    from proctor.types import Email

    fport = free_port()
    fixture = start_fixture(fport, log_path=tmp_path / "fixture.log")
    links: list[str] = []
    try:
        upstream = {
            "namespace": "fx",
            "url": fixture_url(fport),
            "default": {"effect": "read"},
            "tools": {"test_simple_text": {"effect": "deploy"}},
        }
        with _gateway(tmp_path, [upstream], "approvals: {hold: 30s}\n") as gw:

            def decide() -> None:
                deadline = time.monotonic() + 20
                while not links or not (ids := [str(x.id) for x in gw.p.approvals.pending()]):
                    assert time.monotonic() < deadline, "no request was filed"
                    time.sleep(0.05)
                time.sleep(0.5)  # the client's retry is held by now (as the SDK-path tests wait)
                gw.p.approvals.approve(ids[0], Approver(Email("owner@acme.test")), "fine")

            async def elicit(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
                links.append(str(getattr(params, "url", "")))
                return types.ElicitResult(action="accept")

            async def main() -> tuple[types.CallToolResult, str]:
                async with gw.client(MODERN, elicitation_callback=elicit) as c:
                    with anyio.fail_after(60):
                        async with anyio.create_task_group() as tg:
                            tg.start_soon(anyio.to_thread.run_sync, decide)
                            result = await c.call_tool("fx__test_simple_text", {})
                    return result, str(c.protocol_version)

            result, version = anyio.run(main)
            paths = [d["path"] for d in gw.audit("call.completed")]
    finally:
        stop_fixture(fixture)
    assert version == MODERN
    assert not result.is_error, (_text(result), links)
    assert _text(result) == "This is a simple text response for testing."
    assert len(links) == 1, links
    assert "/approvals/" in links[0], links
    assert paths == ["lean"]


@pytest.mark.parametrize("when", ["before_the_retry", "while_the_retry_is_decided"])
def test_an_approval_given_before_the_2026_retry_is_decided_is_used_by_it_once(
    tmp_path: Path, when: str
) -> None:
    """The owner approves between the `input_required` answer and the client's retry, or while
    the retry is being decided (after its approval stage looked for a grant, before it files): the
    retry uses that grant, once, and runs at once; no second request is filed (the retry is never
    held on a request nobody will look at)."""
    from proctor.approvals.model import ApprovalState, Approver
    from proctor.types import Email

    owner = Approver(Email("owner@acme.test"))
    fport = free_port()
    fixture = start_fixture(fport, log_path=tmp_path / "fixture.log")
    try:
        upstream = {
            "namespace": "fx",
            "url": fixture_url(fport),
            "default": {"effect": "read"},
            "tools": {"test_simple_text": {"effect": "deploy"}},
        }
        with _gateway(tmp_path, [upstream], "approvals: {hold: 5s}\n") as gw:
            store = gw.p.approvals.store
            original = store.approved_for
            landed: list[str] = []

            def approved_for(digest: str) -> Any:
                got = original(digest)
                pending = gw.p.approvals.pending()
                if when == "while_the_retry_is_decided" and pending and not landed:
                    # the retry's stage has read the grants (none yet): the owner approves now
                    landed.append(str(pending[0].id))
                    gw.p.approvals.approve(landed[0], owner, "fine")
                return got

            store.approved_for = approved_for  # type: ignore[method-assign]

            async def elicit(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
                if when == "before_the_retry":
                    # the person decides before the client retries
                    landed.append(str(gw.p.approvals.pending()[0].id))
                    await anyio.to_thread.run_sync(lambda: gw.p.approvals.approve(landed[0], owner, "fine"))
                return types.ElicitResult(action="accept")

            async def main() -> types.CallToolResult:
                async with gw.client(MODERN, elicitation_callback=elicit) as c:
                    with anyio.fail_after(60):
                        return await c.call_tool("fx__test_simple_text", {})

            result = anyio.run(main)
            requests = gw.p.approvals.list()
            used = gw.audit("approval.used")
            del store.approved_for
    finally:
        stop_fixture(fixture)
    assert landed, "the approval did not land"
    assert not result.is_error, _text(result)
    assert _text(result) == "This is a simple text response for testing."
    assert [(str(r.id), r.state) for r in requests] == [(landed[0], ApprovalState.USED)]
    assert [u["approval_id"] for u in used] == [landed[0]]


#: the conformance fixture's tools whose answers are compared (the suite's tools-call scenarios
#: that need no server-to-client request, which 2026-07-28 does not have)
FIXTURE_TOOLS = (
    "test_simple_text",
    "test_image_content",
    "test_audio_content",
    "test_embedded_resource",
    "test_multiple_content_types",
    "test_error_handling",
)


@pytest.mark.parametrize("revision", [HANDSHAKE, MODERN])
def test_the_conformance_fixture_answers_alike_through_the_gateway_at_either_revision(
    tmp_path: Path, revision: str
) -> None:
    """The conformance fixture's tools, resources and prompts through the gateway give what they
    give directly, for the official client at either revision (the pinned conformance suite,
    0.1.16, speaks only 2025-11-25: tests/e2e/test_gateway_conformance.py); every tool call is
    decided and served on the lean path."""
    fport = free_port()
    fixture = start_fixture(fport, log_path=tmp_path / "fixture.log")

    async def session(c: Client) -> dict[str, Any]:
        out: dict[str, Any] = {"version": str(c.protocol_version)}
        out["tools"] = sorted(t.name for t in (await c.list_tools()).tools)
        for name in FIXTURE_TOOLS:
            r = await c.call_tool(name, {})
            out[name] = ([x.model_dump(mode="json") for x in r.content], bool(r.is_error))
        out["resources"] = sorted(str(r.uri) for r in (await c.list_resources()).resources)
        out["static"] = [
            x.model_dump(mode="json") for x in (await c.read_resource("test://static-text")).contents
        ]
        out["prompts"] = sorted(p.name for p in (await c.list_prompts()).prompts)
        got = await c.get_prompt("test_simple_prompt", {})
        out["prompt"] = [m.model_dump(mode="json") for m in got.messages]
        return out

    try:
        upstream = {"namespace": "fixture", "url": fixture_url(fport), "default": {"effect": "read"}}
        with _gateway(tmp_path, [{**upstream, "prefix": False}]) as gw:

            async def main() -> tuple[dict[str, Any], dict[str, Any]]:
                async with Client(fixture_url(fport), cache=None, mode=MODES[revision]) as direct:
                    want = await session(direct)
                async with gw.client(revision) as through:
                    got = await session(through)
                return want, got

            want, got = anyio.run(main)
            paths = [d["path"] for d in gw.audit("call.completed")]
    finally:
        stop_fixture(fixture)
    assert got["version"] == want["version"] == revision
    for name in FIXTURE_TOOLS:
        assert name in got["tools"]
    assert got == want
    # the tool calls on the lean path; the resource read and the prompt are relayed by the SDK
    assert paths.count("lean") == len(FIXTURE_TOOLS), paths


@pytest.mark.parametrize("only", [HANDSHAKE, MODERN])
def test_a_2026_call_refused_before_its_decision_never_reaches_the_upstream(
    tmp_path: Path, only: str
) -> None:
    """The lean path's `Mcp-Param-*` check runs before the call is decided: it reads the schema the
    task's session already listed, or the tool's registration, and never opens a session, lists
    or leases for a task that has none. A 2026-07-28 call with arguments from a task that may not
    reach the upstream (it declared none of its tools) is denied with the upstream contacted not
    once more (a counting upstream of either revision)."""
    count = tmp_path / "contacts.log"
    with (
        _revision_server(only, tmp_path, count) as url,
        _gateway(tmp_path, [{"namespace": "rv", "url": url, "default": {"effect": "read"}}]) as gw,
        httpx.Client(timeout=30) as client,
    ):
        routed = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "rv__echo"}
        ok = _post(gw, client, _call("rv__echo", text="hi"), **routed)  # registers and lists the tool
        assert ok.status_code == 200, ok.text
        assert "hi @" in ok.json()["result"]["content"][0]["text"]
        before = count.read_text().splitlines()
        other = gw.p.tasks.start(
            agent="bot", purpose="elsewhere", allow=["other.*"], requested_by="r@acme.test"
        )
        outsider = Gw(gw.url, gw.p, gw.auth, gw.svid, other.token)
        denied = _post(outsider, client, _call("rv__echo", 2, text="hi"), **routed)
        assert denied.status_code == 200, denied.text
        assert denied.json()["result"]["isError"] is True
        decided = gw.audit("decision")
    assert count.read_text().splitlines() == before
    assert [d["decision"] for d in decided] == ["allow", "deny"]
