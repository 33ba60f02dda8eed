"""The HTTP gateway as the OAuth authorization server the MCP authorization spec expects
(docs/adr/0028): metadata, dynamic registration, authorization code with PKCE through a real
sign-in and consent page (Playwright driving Debian's Chromium), access tokens the gateway takes,
refresh-token rotation with reuse detection, and refusals once the agent is suspended."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.e2e.gateway_harness import GatewayThread, free_port

from proctor.app import Proctor
from proctor.gateway.config import load_upstreams, save_upstreams, upstream_from_mapping
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent


@dataclass
class Gw:
    url: str
    base: str
    p: Proctor
    gateway: GatewayThread


def _workspace(tmp_path: Path, extra: str = "") -> Workspace:
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n" + extra)
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
    return ws


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gw]:
    ws = _workspace(tmp_path)
    p = Proctor.open(ws)
    port = free_port()
    gateway = GatewayThread.start(p, load_upstreams(ws.root), port)
    try:
        yield Gw(gateway.url, f"http://127.0.0.1:{port}", p, gateway)
    finally:
        gateway.stop()
        p.close()


def test_metadata_names_this_listener_as_the_authorization_server(gw: Gw) -> None:
    """RFC 9728 metadata names the gateway's own base URL as issuer; RFC 8414 metadata is served
    there with S256 only; a 401 points at the protected-resource metadata."""
    with httpx.Client(timeout=10) as h:
        prm = h.get(f"{gw.base}/.well-known/oauth-protected-resource/mcp").json()
        assert prm["authorization_servers"] == [gw.base]
        asm = h.get(f"{gw.base}/.well-known/oauth-authorization-server").json()
        assert asm["issuer"] == gw.base
        assert asm["authorization_endpoint"] == f"{gw.base}/authorize"
        assert asm["token_endpoint"] == f"{gw.base}/token"
        assert asm["registration_endpoint"] == f"{gw.base}/register"
        assert asm["code_challenge_methods_supported"] == ["S256"]
        r = h.post(gw.url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
        assert r.status_code == 401
        assert f'resource_metadata="{gw.base}/.well-known/oauth-protected-resource/mcp"' in r.headers[
            "www-authenticate"
        ]
