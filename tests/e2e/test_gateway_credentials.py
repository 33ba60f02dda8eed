"""The gateway obtains an upstream's credential for a task, injects it, and never shows it.

Real parts: the HTTP gateway in a thread with the official MCP client, and an MCP server
(tests/fixtures/credential_server.py) that refuses every HTTP request without the right
``Authorization`` header, run over Streamable HTTP and over stdio. The secret comes from the
workspace's encrypted secret store; policy (Cedar ``use_credential``) decides each credential.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types
import pytest
from fastapi.testclient import TestClient
from mcp import Client
from mcp.client.session import ClientRequestContext
from mcp.client.streamable_http import streamable_http_client
from tests.conformance_mcp.fixture import wait_http_ready
from tests.e2e.gateway_harness import GatewayThread, free_port
from tests.planted import API_KEY, STDIO_API_KEY

from proctor.app import Proctor
from proctor.gateway.config import upstream_from_mapping
from proctor.server.api import create_app
from proctor.store.base import AuditQuery
from proctor.types import AgentStatus, LeaseState
from proctor.workspace import Workspace

FIXTURE = Path(__file__).parents[1] / "fixtures" / "credential_server.py"


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class Setup:
    p: Proctor
    ws: Workspace
    url: str
    svid: str
    task_token: str
    task_id: str
    gateway: GatewayThread
    admin: str


@pytest.fixture
def upstream_port(tmp_path: Path) -> Iterator[int]:
    """The credential server over HTTP, refusing anything without `Bearer <API_KEY>`."""
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "REQUIRE_AUTH_SHA256": sha(f"Bearer {API_KEY}")}
    with (tmp_path / "upstream.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, str(FIXTURE), "--http", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(Path(__file__).parents[2]),
        )
    try:
        wait_http_ready(f"http://127.0.0.1:{port}/mcp", proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def start(
    tmp_path: Path, upstreams: list[dict[str, Any]], allow: list[str], policy: str = "", ttl_s: float = 900
) -> Setup:
    ws, admin = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    if policy:
        (ws.policies_dir / "40-test.cedar").write_text(policy)
    p = Proctor.open(ws)
    p.secrets.put("fx.api-key", API_KEY, p.clock.now())
    p.secrets.put("fx.stdio-key", STDIO_API_KEY, p.clock.now())
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    agent = p.add_agent("bot", "owner@acme.test")
    svid = p.issue_svid(agent, url)
    task = p.start_task(agent="bot", purpose="use fx", allow=allow, requested_by="r@acme.test", ttl_s=ttl_s)
    gw = GatewayThread.start(p, [upstream_from_mapping(u) for u in upstreams], port)
    return Setup(p, ws, url, svid, task.token, str(task.task.id), gw, admin)


def http_upstream(port: int, secret: str = "fx.api-key") -> dict[str, Any]:
    return {
        "namespace": "fx",
        "url": f"http://127.0.0.1:{port}/mcp",
        "default": {"effect": "read"},
        "credentials": [
            {
                "name": "fx-key",
                "provider": "injected",
                "secret": secret,
                "header": {"Authorization": "Bearer {value}"},
            }
        ],
    }


def stdio_upstream() -> dict[str, Any]:
    """The credential server over stdio, with the key injected as its `API_KEY`."""
    return {
        "namespace": "fx",
        "command": sys.executable,
        "args": [str(FIXTURE)],
        "default": {"effect": "read"},
        "credentials": [
            {
                "name": "fx-stdio",
                "provider": "injected",
                "secret": "fx.stdio-key",
                "env": {"API_KEY": "{value}"},
            }
        ],
    }


def client(s: Setup, *, sdk_path: bool = False) -> Client:
    h = {"Authorization": f"Bearer {s.svid}", "Proctor-Task": s.task_token}
    transport = streamable_http_client(s.url, http_client=httpx2.AsyncClient(headers=h, timeout=30))
    if not sdk_path:
        return Client(transport, cache=None, mode="legacy")

    async def sampling(
        context: ClientRequestContext, params: mcp_types.CreateMessageRequestParams
    ) -> mcp_types.CreateMessageResult:
        raise AssertionError("not called")

    # a client that declares sampling is served by the SDK path, not the lean one
    return Client(transport, cache=None, mode="legacy", sampling_callback=sampling)


def call(s: Setup, tool: str = "fx__whoami", *, sdk_path: bool = False) -> mcp_types.CallToolResult:
    async def main() -> mcp_types.CallToolResult:
        async with client(s, sdk_path=sdk_path) as c:
            return await c.call_tool(tool, {})

    return anyio.run(main)


def records(p: Proctor, kind: str) -> list[dict[str, Any]]:
    p.audit.flush()
    return [json.loads(r.body) for r in p.store.search_audit(AuditQuery(kind=kind))]


def answer(result: mcp_types.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result
    assert result.structured_content is not None, result
    out: dict[str, Any] = result.structured_content.get("result", result.structured_content)
    return out


def test_injected_header_reaches_the_upstream_not_the_agent(tmp_path: Path, upstream_port: int) -> None:
    """Both gateway paths add the task's credential to every upstream request; the upstream (which
    refuses requests without it) answers; the agent's result and the audit hold no value; each call
    is recorded against the lease; ending the task revokes the lease and closes the session."""
    s = start(tmp_path, [http_upstream(upstream_port)], ["fx.*"])
    try:
        lean = call(s)
        sdk = call(s, sdk_path=True)
        for r in (lean, sdk):
            assert answer(r)["auth_sha256"] == sha(f"Bearer {API_KEY}")
            assert API_KEY not in r.model_dump_json()
        time.sleep(0.2)
        issued = records(s.p, "lease.issued")
        assert len(issued) == 1
        assert issued[0]["provider"] == "injected"
        assert issued[0]["name"] == "fx-key"
        decisions = records(s.p, "credential.decision")
        assert [d["verdict"] for d in decisions] == ["allow"]
        assert decisions[0]["policies"] == ["credentials.declared-upstream"]
        used = records(s.p, "lease.used")
        calls = [d for d in records(s.p, "decision") if d.get("tool") == "fx.whoami"]
        assert len(used) == 2
        assert len(calls) == 2
        assert {u["lease_id"] for u in used} == {issued[0]["lease_id"]}
        # each use names the allowed call that made it, and the upstream it went to
        assert sorted(u["decision_id"] for u in used) == sorted(d["decision_id"] for d in calls)
        assert {(u["provider"], u["name"], u["upstream"]) for u in used} == {("injected", "fx-key", "fx")}
        s.p.end_task(s.task_id)
        lease = s.p.leases.list()[0]
        assert lease.state is LeaseState.REVOKED
        assert [r["state"] for r in records(s.p, "lease.revoked")] == ["revoked"]
    finally:
        s.gateway.stop()
        s.p.close()


def test_audit_show_gathers_one_call_its_credential_use_and_its_completion(
    tmp_path: Path, upstream_port: int
) -> None:
    """From one call's decision id, `proctor audit show` and `GET /v1/audit/decisions/{id}` give its
    decision record, the use of the task's lease and the call's completion: nothing of the other
    call, in log order."""
    s = start(tmp_path, [http_upstream(upstream_port)], ["fx.*"])
    try:
        answer(call(s))
        answer(call(s))
        time.sleep(0.2)
        calls = [d for d in records(s.p, "decision") if d.get("tool") == "fx.whoami"]
        assert len(calls) == 2
        first = calls[0]["decision_id"]
        r = subprocess.run(
            [
                sys.executable,
                "-c",
                "from proctor.cli.main import main; main()",
                "audit",
                "show",
                first,
                "--json",
                "-w",
                str(s.ws.root),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert r.returncode == 0, r.stderr
        shown = json.loads(r.stdout)
        kinds = [x["record"]["kind"] for x in shown["records"]]
        assert sorted(kinds) == ["call.completed", "decision", "lease.used"]
        assert all(x["record"]["decision_id"] == first for x in shown["records"])
        seqs = [x["seq"] for x in shown["records"]]
        assert seqs == sorted(seqs)
        api = TestClient(create_app(s.p, s.ws))
        got = api.get(f"/v1/audit/decisions/{first}", headers={"Authorization": f"Bearer {s.admin}"})
        assert got.status_code == 200, got.text
        assert [x["record"] for x in got.json()["records"]] == [x["record"] for x in shown["records"]]
    finally:
        s.gateway.stop()
        s.p.close()


def test_policy_denies_the_credential(tmp_path: Path, upstream_port: int) -> None:
    """A forbid on `use_credential` keeps the credential from the task: the call is refused with the
    policy's reason, the decision is audited, no lease exists and the upstream is never reached."""
    forbid = (
        '@id("test.no-fx-key")\n'
        'forbid (principal, action == Proctor::Action::"use_credential", resource == Proctor::Credential::"fx-key");\n'
    )
    s = start(tmp_path, [http_upstream(upstream_port)], ["fx.*"], policy=forbid)
    try:
        r = call(s)
        assert r.is_error
        text = r.content[0].text  # type: ignore[union-attr]
        assert "Proctor denied this call" in text
        assert "fx-key" in text
        assert "test.no-fx-key" in text
        decisions = records(s.p, "credential.decision")
        assert decisions
        assert all(d["verdict"] == "deny" for d in decisions)
        assert s.p.leases.list() == []
        denied = [d for d in records(s.p, "decision") if d.get("tool") == "fx.whoami"]
        assert denied
        assert denied[-1]["decision"] == "deny"
    finally:
        s.gateway.stop()
        s.p.close()


def test_unknown_secret_denies_the_call_and_is_audited(tmp_path: Path, upstream_port: int) -> None:
    """A credential naming a secret that is not stored cannot be issued: the call is refused
    (`lease_issue_failed`), `lease.issue_failed` is audited, and nothing is leased."""
    s = start(tmp_path, [http_upstream(upstream_port, secret="fx.missing")], ["fx.*"])
    try:
        r = call(s)
        assert r.is_error
        assert "lease_issue_failed" in r.content[0].text  # type: ignore[union-attr]
        failed = records(s.p, "lease.issue_failed")
        assert failed
        assert failed[0]["error"] == "unknown_secret"
        assert s.p.leases.list() == []
    finally:
        s.gateway.stop()
        s.p.close()


def test_revoked_lease_is_replaced_and_suspension_kills_all(tmp_path: Path, upstream_port: int) -> None:
    """Revoking the lease on its own closes the session; the next call gets a new lease (policy
    decides again). Suspending the agent revokes every lease and refuses the call."""
    s = start(tmp_path, [http_upstream(upstream_port)], ["fx.*"])
    try:
        answer(call(s))
        first = s.p.leases.list()[0]
        s.p.leases.revoke(first.id, "rotate")
        answer(call(s))
        leases = s.p.leases.list()
        assert len(leases) == 2
        assert [x.state for x in leases] == [LeaseState.REVOKED, LeaseState.ACTIVE]
        assert len(records(s.p, "credential.decision")) == 2
        s.p.set_agent_status("bot", AgentStatus.SUSPENDED, reason="kill switch")
        assert all(x.state is LeaseState.REVOKED for x in s.p.leases.list())
    finally:
        s.gateway.stop()
        s.p.close()


def test_stdio_env_injection(tmp_path: Path) -> None:
    """A stdio upstream gets the credential in its own process's environment, one process per task;
    the gateway's environment does not carry it."""
    up = stdio_upstream()
    s = start(tmp_path, [up], ["fx.*"])
    try:
        got = answer(call(s, sdk_path=True))
        assert got["env_sha256"] == sha(STDIO_API_KEY)
        assert got["auth_sha256"] is None
        import os

        assert STDIO_API_KEY not in os.environ.values()
        assert len(records(s.p, "lease.used")) >= 1
    finally:
        s.gateway.stop()
        s.p.close()


def test_the_gateway_ends_leases_at_the_deadline_without_any_call(tmp_path: Path, upstream_port: int) -> None:
    """Nobody ends the task: its deadline passes. The gateway's own sweeper expires the task and ends
    its lease within seconds (a database role's open session would outlive `VALID UNTIL`)."""
    s = start(tmp_path, [http_upstream(upstream_port)], ["fx.*"], ttl_s=2)
    try:
        answer(call(s))
        lease = s.p.leases.list()[0]
        assert lease.state is LeaseState.ACTIVE
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and s.p.leases.get(lease.id).state is LeaseState.ACTIVE:
            time.sleep(0.25)
        ended = s.p.leases.get(lease.id)
        assert ended.state in (LeaseState.EXPIRED, LeaseState.REVOKED)
        assert not ended.pending
        assert records(s.p, "task.expired")
    finally:
        s.gateway.stop()
        s.p.close()


def test_a_wrong_or_missing_secrets_key_stops_the_gateway_at_start_up(tmp_path: Path) -> None:
    """With credentials configured, `proctor gateway` refuses to start under a key that does not
    match the store (or when the key file is gone): a clear error, exit 2, nothing decrypted."""
    import base64
    import os

    from proctor.gateway.config import save_upstreams

    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    with Proctor.open(ws) as p:
        p.secrets.put("fx.api-key", API_KEY, p.clock.now())
    save_upstreams(ws.root, [upstream_from_mapping(http_upstream(free_port()))])
    exe = Path(sys.executable).parent / "proctor"
    wrong = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    env = {**os.environ, "PROCTOR_SECRETS_KEY": wrong}
    cmd = [str(exe), "gateway", "--http", "--port", str(free_port()), "--workspace", str(ws.root)]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2, r.stderr
    assert "secrets key" in r.stderr
    assert API_KEY not in r.stdout + r.stderr
    env.pop("PROCTOR_SECRETS_KEY")
    (ws.keys_dir / "secrets.key").unlink()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 2, r.stderr
    assert "secrets key" in r.stderr


def test_resources_and_prompts_never_use_a_revoked_lease(tmp_path: Path) -> None:
    """Not only tool calls: a resource read or a prompt after the lease was revoked goes to a new
    session with a new lease (policy decides again), never to the process started with the old one."""
    up = stdio_upstream()
    s = start(tmp_path, [up], ["fx.*"])

    async def main() -> tuple[str, str, str]:
        async with client(s) as c:
            first = await c.read_resource("cred://whoami")
            lease = s.p.leases.list()[0]
            await anyio.to_thread.run_sync(s.p.leases.revoke, lease.id, "rotate")
            second = await c.read_resource("cred://whoami")
            prompt = await c.get_prompt("fx.whoami_prompt")
        texts = [r.contents[0].text for r in (first, second)]  # type: ignore[union-attr]
        return texts[0], texts[1], prompt.messages[0].content.text  # type: ignore[union-attr]

    try:
        first, second, prompt = anyio.run(main)
        leases = s.p.leases.list()
    finally:
        s.gateway.stop()
        s.p.close()
    digest = f"env_sha256={sha(STDIO_API_KEY)}"
    assert first.startswith(digest)
    assert second.startswith(digest)
    assert first.split("pid=")[1] != second.split("pid=")[1]  # a new process, started with the new lease
    assert second.split("pid=")[1] == prompt.split("pid=")[1]
    assert [x.state for x in leases] == [LeaseState.REVOKED, LeaseState.ACTIVE]
