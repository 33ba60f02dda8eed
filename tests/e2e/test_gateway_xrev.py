"""A handshake-only upstream's mid-call elicitation, for a 2026-07-28 client (ADR 0031, amendment
of 2026-12-06, "cross-revision exchanges"; proctor.gateway.xrev).

A real ``proctor gateway --http`` in front of the project's everything fixture over stdio (which
the gateway speaks 2025-11-25 to), driven by the official MCP client and by raw requests: the
upstream elicits mid-call; a 2026-07-28 client cannot be sent that request, so the gateway answers
``input_required`` carrying it, keeps the upstream's call open, and sends the client's answer up on
its retry (decided again). Tampered, expired, denied and misrouted continuations are refused and
recorded; a 2025-11-25 client still gets the upstream's request itself.
"""

from __future__ import annotations

import json
import os
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
from tests.conformance_mcp.fixture import free_port, wait_http_ready
from tests.e2e.test_gateway_revisions import HANDSHAKE, MODERN, MODES, _text

from proctor.app import Proctor
from proctor.gateway import xrev
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.store.base import AuditQuery
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent
SRC = str(Path(__file__).resolve().parents[2] / "src")
ROOT = str(Path(__file__).resolve().parents[2])
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "everything_server.py"
TOOL = "fx__test_elicitation"
ASK = {"message": "Your name?"}
META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
}
ANSWER = {xrev.ASK_KEY: {"action": "accept", "content": {"response": "Zanzibar"}}}
FORBID = (
    '@id("no-elicitation")\nforbid (principal, action == Proctor::Action::"fx.test_elicitation", resource);\n'
)


@dataclass
class Gw:
    ws: Workspace
    urls: list[str]
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
        http = httpx2.AsyncClient(headers=h, timeout=60)
        return Client(
            streamable_http_client(self.urls[0], http_client=http), cache=None, mode=MODES[revision], **kw
        )

    def audit(self, kind: str) -> list[dict[str, Any]]:
        with Proctor.open(self.ws, lazy_policies=True) as p:
            found = p.store.search_audit(AuditQuery(kind=kind, limit=1000))
            return [json.loads(r.body) for r in sorted(found, key=lambda r: r.seq)]

    def wait_for(self, kind: str, count: int) -> None:
        deadline = time.monotonic() + 60
        while len(self.audit(kind)) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"no {kind} record from the gateway")
            time.sleep(0.2)


@contextmanager
def _gateways(tmp_path: Path, count: int = 1, config: str = "") -> Iterator[Gw]:
    """``count`` real ``proctor gateway --http`` processes on one workspace, the fixture upstream."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n" + config)
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {
                    "namespace": "fx",
                    "command": sys.executable,
                    "args": [str(FIXTURE), "--stdio"],
                    "env": {"PYTHONPATH": os.pathsep.join([SRC, ROOT])},
                    "default": {"effect": "read"},
                }
            )
        ],
    )
    ports = [free_port() for _ in range(count)]
    urls = [f"http://127.0.0.1:{port}/mcp" for port in ports]
    with Proctor.open(ws) as p:
        agent = p.agents.add("bot", "owner@acme.test")
        task = p.tasks.start(agent="bot", purpose="xrev", allow=["fx.*"], requested_by="r@acme.test")
        svid = p.agents.issue_svid(agent, urls[0])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, ROOT, *sys.path])}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i, port in enumerate(ports):
            with (tmp_path / f"gateway-{i}.log").open("wb") as log:
                procs.append(
                    subprocess.Popen(
                        [
                            *(str(BIN / "proctor"), "gateway", "--http", "--port", str(port)),
                            *("--public-url", urls[0], "--workspace", str(ws.root)),
                        ],
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        for url, proc in zip(urls, procs, strict=True):
            wait_http_ready(url, proc, timeout=60)
        yield Gw(ws, urls, svid, task.token)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _ask(gw: Gw, client: httpx.Client, rid: int, at: int = 0, **params: Any) -> httpx.Response:
    msg = {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "tools/call",
        "params": {"name": TOOL, "arguments": ASK, "_meta": META, **params},
    }
    headers = gw.headers(**{"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": TOOL})
    return client.post(gw.urls[at], content=json.dumps(msg).encode(), headers=headers)


@pytest.mark.parametrize("revision", [MODERN, HANDSHAKE])
def test_the_official_client_answers_a_handshake_upstreams_elicitation(tmp_path: Path, revision: str) -> None:
    """At 2026-07-28 the upstream's elicitation reaches the official client as `input_required`,
    its answer goes up on the retry (decided again, a continuation) and the upstream's result comes
    back; at 2025-11-25 the client is sent the upstream's request itself, as before."""
    asked: list[str] = []
    with _gateways(tmp_path) as gw:

        async def elicit(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
            asked.append(params.message)
            return types.ElicitResult(action="accept", content={"response": "Zanzibar"})

        async def main() -> tuple[types.CallToolResult, str]:
            async with gw.client(revision, elicitation_callback=elicit) as c:
                with anyio.fail_after(60):
                    result = await c.call_tool(TOOL, ASK)
                return result, str(c.protocol_version)

        result, version = anyio.run(main)
        gw.wait_for("call.completed", 2 if revision == MODERN else 1)
        decisions = gw.audit("decision")
        completed = gw.audit("call.completed")
        ended = gw.audit("gateway.exchange_ended")
    assert version == revision
    assert not result.is_error, _text(result)
    assert _text(result) == 'User response: action=accept, content={"response":"Zanzibar"}'
    assert asked == ["Your name?"]
    assert ended == []
    if revision == MODERN:
        assert [d.get("continuation") for d in decisions] == [
            None,
            {"input_responses": 1, "request_state": True, "round": 1},
        ]
        assert [c.get("result_type") for c in completed] == ["input_required", None]
    else:
        assert [d.get("continuation") for d in decisions] == [None]
        assert [c.get("result_type") for c in completed] == [None]


def test_the_official_client_answers_a_handshake_upstreams_sampling_request(tmp_path: Path) -> None:
    """The same translation for `sampling/createMessage`: the 2026-07-28 client's sampling
    callback answers it, the upstream gets the answer and returns its result."""
    prompts: list[str] = []
    with _gateways(tmp_path) as gw:

        async def sample(ctx: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
            prompts.append(str(getattr(params.messages[0].content, "text", "")))
            return types.CreateMessageResult(
                role="assistant", content=types.TextContent(type="text", text="forty-two"), model="m"
            )

        async def main() -> types.CallToolResult:
            async with gw.client(MODERN, sampling_callback=sample) as c:
                with anyio.fail_after(60):
                    return await c.call_tool("fx__test_sampling", {"prompt": "The answer?"})

        result = anyio.run(main)
    assert not result.is_error, _text(result)
    assert _text(result) == "LLM response: forty-two"
    assert prompts == ["The answer?"]


def test_tampered_expired_and_denied_continuations_are_refused_and_recorded(tmp_path: Path) -> None:
    """A state altered, or a retry without the answer, is refused -32602 before any decision; an
    exchange whose retry came too late has ended (recorded `expired`) and its retry is refused; a
    retry policy now denies is denied and ends the exchange (recorded `retry_not_allowed`), so its
    state cannot be presented again; an honest retry completes."""
    with (
        _gateways(tmp_path, config="gateway: {exchange_ttl: 8s}\n") as gw,
        httpx.Client(timeout=30) as client,
    ):
        first = _ask(gw, client, 1)
        assert first.status_code == 200, first.text
        out = first.json()["result"]
        assert out["resultType"] == "input_required", out
        assert out["inputRequests"][xrev.ASK_KEY]["method"] == "elicitation/create"
        assert out["inputRequests"][xrev.ASK_KEY]["params"]["message"] == "Your name?"
        state = out["requestState"]
        altered = _ask(gw, client, 2, inputResponses=ANSWER, requestState=state[:-2] + "AA")
        no_answer = _ask(gw, client, 3, inputResponses={}, requestState=state)
        gw.wait_for("gateway.exchange_ended", 1)  # the client took too long to answer
        late = _ask(gw, client, 4, inputResponses=ANSWER, requestState=state)

        second = _ask(gw, client, 5).json()["result"]
        activated = len(gw.audit("policy.activated"))
        policy = gw.ws.root / "policies" / "60-no-elicitation.cedar"
        policy.write_text(FORBID)
        gw.wait_for("policy.activated", activated + 1)
        denied = _ask(gw, client, 6, inputResponses=ANSWER, requestState=second["requestState"])
        policy.unlink()
        gw.wait_for("policy.activated", activated + 2)
        again = _ask(gw, client, 7, inputResponses=ANSWER, requestState=second["requestState"])

        third = _ask(gw, client, 8).json()["result"]
        honest = _ask(gw, client, 9, inputResponses=ANSWER, requestState=third["requestState"])
        gw.wait_for("call.completed", 4)
        refused = [x for x in gw.audit("gateway.refused") if x["error"] == "request_state_invalid"]
        ended = gw.audit("gateway.exchange_ended")
        decisions = gw.audit("decision")
    for why, r in {"altered": altered, "no answer": no_answer, "late": late, "again": again}.items():
        assert r.status_code == 400, (why, r.text)
        assert r.json()["error"]["code"] == -32602, (why, r.text)
    assert "not issued by this gateway" in altered.json()["error"]["message"]
    assert "no answer under" in no_answer.json()["error"]["message"]
    assert "expired or ended" in late.json()["error"]["message"]
    assert "expired or ended" in again.json()["error"]["message"]
    assert len(refused) == 4
    assert "expired or ended" in refused[2]["reason"]
    assert [x["reason"] for x in ended] == ["expired", "retry_not_allowed"]
    assert denied.json()["result"]["isError"] is True
    assert "no-elicitation" in denied.json()["result"]["content"][0]["text"]
    result = honest.json()["result"]
    assert result.get("isError") is not True, result
    assert "Zanzibar" in result["content"][0]["text"]
    # decided: three first calls, the denied retry and the honest one (no refused request)
    assert [d["decision"] for d in decisions] == ["allow", "allow", "deny", "allow", "allow"]


def test_a_retry_reaching_another_gateway_process_is_refused(tmp_path: Path) -> None:
    """Two gateway processes on one workspace (behind one URL): the state one handed out opens in
    the other (same workspace key), but the exchange is held by the first; the retry sent to the
    second is refused -32602 naming why, recorded, and the first still completes it."""
    with _gateways(tmp_path, count=2) as gw, httpx.Client(timeout=30) as client:
        out = _ask(gw, client, 1, at=0).json()["result"]
        assert out["resultType"] == "input_required", out
        elsewhere = _ask(gw, client, 2, at=1, inputResponses=ANSWER, requestState=out["requestState"])
        here = _ask(gw, client, 3, at=0, inputResponses=ANSWER, requestState=out["requestState"])
        refused = [x for x in gw.audit("gateway.refused") if x["error"] == "request_state_invalid"]
    assert elsewhere.status_code == 400, elsewhere.text
    assert "another gateway process" in elsewhere.json()["error"]["message"]
    assert len(refused) == 1
    assert "another gateway process" in refused[0]["reason"]
    assert "Zanzibar" in here.json()["result"]["content"][0]["text"], here.text
