"""Several `proctor gateway --http` processes behind one URL on one PostgreSQL (issue 19, part 1).

Two real gateway processes share a workspace and a PostgreSQL store and are given one public URL
(one by ``--public-url``, one by ``PROCTOR_GATEWAY_PUBLIC_URL``): both name it as their RFC 9728
resource and OAuth issuer origin, both take one agent token whose audience is that URL (and refuse
a token for a process's own address), both serve 2026-07-28 stateless calls, and a handshake-era
session lives on the process that opened it (what a balancer must pin; docs/adr/0034).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conformance_mcp.fixture import fixture_url, start_fixture, stop_fixture
from tests.e2e.gateway_harness import free_port

from proctor.app import Proctor
from proctor.config import load_settings
from proctor.errors import ConfigError
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent
PUBLIC = "https://mcp.acme.test/mcp"
MODERN = "2026-07-28"
ENVELOPE: dict[str, Any] = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
}
CALL: dict[str, Any] = {
    "jsonrpc": "2.0",
    "id": 7,
    "method": "tools/call",
    "params": {"name": "fx__test_simple_text"},
}


@contextmanager
def _gateway(
    ws: Workspace, tmp_path: Path, name: str, args: list[str], extra_env: dict[str, str]
) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **extra_env}
    log = (tmp_path / f"{name}.log").open("wb")
    proc = subprocess.Popen(
        [
            str(BIN / "proctor"),
            "gateway",
            "--http",
            "--no-socket",
            "--port",
            str(port),
            "-w",
            str(ws.root),
            *args,
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import time

        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / f"{name}.log").read_text()
            try:
                httpx.get(f"{base}/.well-known/oauth-protected-resource/mcp", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "gateway did not start"
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()
        out = (tmp_path / f"{name}.log").read_text(errors="replace")
        assert "Traceback" not in out, out[-4000:]


def _answer(r: httpx.Response) -> Any:
    if r.headers.get("content-type", "").startswith("text/event-stream"):
        import json

        for line in r.text.splitlines():
            if line.startswith("data:") and line[5:].strip():
                return json.loads(line[5:])
        return None
    return r.json()


def test_two_gateways_one_url_one_token(tmp_path: Path, pg_migrated_url: str) -> None:
    fport = free_port()
    fixture = start_fixture(fport, log_path=tmp_path / "fixture.log")
    try:
        ws, _ = Workspace.init(
            tmp_path / "ws", config_text=f"trust_domain: acme.test\nstore: {pg_migrated_url}\n"
        )
        save_upstreams(
            ws.root,
            [
                upstream_from_mapping(
                    {"namespace": "fx", "url": fixture_url(fport), "default": {"effect": "read"}}
                )
            ],
        )
        with Proctor.open(ws) as p:
            agent = p.agents.add("bot", "owner@acme.test")
            task = p.tasks.start(agent="bot", purpose="fx", allow=["fx.*"], requested_by="r@acme.test")
            token = p.agents.issue_svid(agent, PUBLIC)
            headers = {
                "Authorization": f"Bearer {token}",
                "Proctor-Task": task.token,
                "Accept": "application/json, text/event-stream",
                "Content-Type": "application/json",
            }
            with (
                _gateway(ws, tmp_path, "a", ["--public-url", PUBLIC], {}) as a,
                _gateway(ws, tmp_path, "b", [], {"PROCTOR_GATEWAY_PUBLIC_URL": PUBLIC}) as b,
                httpx.Client(timeout=30) as client,
            ):
                own_a = p.agents.issue_svid(agent, f"{a}/mcp")
                for base in (a, b):
                    prm = client.get(f"{base}/.well-known/oauth-protected-resource/mcp").json()
                    assert prm["resource"] == PUBLIC
                    assert [x.rstrip("/") for x in prm["authorization_servers"]] == ["https://mcp.acme.test"]
                    asm = client.get(f"{base}/.well-known/oauth-authorization-server").json()
                    assert asm["issuer"].rstrip("/") == "https://mcp.acme.test"
                    # stateless 2026-07-28 calls, one token, through either process, whether the
                    # balancer passes the public host or the process's own address as Host
                    modern = {**CALL, "params": {**CALL["params"], "_meta": ENVELOPE}}
                    h = {
                        **headers,
                        "MCP-Protocol-Version": MODERN,
                        "Mcp-Method": "tools/call",
                        "Mcp-Name": "fx__test_simple_text",
                    }
                    for host in ({}, {"Host": "mcp.acme.test"}):
                        r = client.post(f"{base}/mcp", json=modern, headers={**h, **host})
                        assert r.status_code == 200, r.text
                        assert "result" in _answer(r), r.text
                    # a host that is neither is refused
                    r = client.post(f"{base}/mcp", json=modern, headers={**h, "Host": "evil.test"})
                    assert r.status_code == 421
                # a token for one process's own address is not for the public URL
                r = client.post(
                    f"{a}/mcp", json=CALL, headers={**headers, "Authorization": f"Bearer {own_a}"}
                )
                assert r.status_code == 401

                # a handshake-era session lives on the process that opened it: pinned there it
                # works; elsewhere it is 404, and the client re-initializes (docs/adr/0034)
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
                r = client.post(f"{a}/mcp", json=init, headers=headers)
                assert r.status_code == 200, r.text
                sid = r.headers["mcp-session-id"]
                h = {**headers, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
                client.post(
                    f"{a}/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=h
                )
                assert "result" in _answer(client.post(f"{a}/mcp", json=CALL, headers=h))
                assert client.post(f"{b}/mcp", json=CALL, headers=h).status_code == 404
    finally:
        stop_fixture(fixture)


def test_gateway_public_url_is_checked(tmp_path: Path) -> None:
    ok = tmp_path / "ok.yaml"
    ok.write_text("trust_domain: acme.test\ngateway: {public_url: 'https://mcp.acme.test/'}\n")
    assert load_settings(ok).gateway_public_url == "https://mcp.acme.test/mcp"
    bad = tmp_path / "bad.yaml"
    bad.write_text("trust_domain: acme.test\ngateway: {public_url: 'https://u:p@mcp.acme.test/mcp?x=1'}\n")
    with pytest.raises(ConfigError):
        load_settings(bad)
