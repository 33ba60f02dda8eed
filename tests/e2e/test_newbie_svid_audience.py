"""A newcomer's SVID for the MCP gateway, from the command line alone.

`proctor gateway --http` takes a JWT-SVID whose audience is its URL (behind a balancer,
`gateway.public_url`: docs/deploy-several-gateways.md). `proctor agent svid` used to mint only
Proctor's own API audience, so an operator following the docs could not get a token the gateway
takes without calling the HTTP API by hand; `--audience` names the gateway.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from pathlib import Path

import httpx
from tests.e2e.gateway_harness import free_port
from tests.e2e.test_cli import PROCTOR, run

MCP_INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "newbie", "version": "1"},
    },
}


def _aud(token: str) -> list[str]:
    body = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    aud = claims["aud"]
    return [aud] if isinstance(aud, str) else list(aud)


def _svid(ws: Path, *extra: str) -> str:
    join = run(ws, "agent", "join-token", "bot")
    assert join.returncode == 0, join.stderr
    r = run(ws, "agent", "svid", "--join-token", join.stdout.strip(), *extra)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_agent_svid_audience_is_a_token_the_gateway_takes(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run(ws, "init", str(ws), "--trust-domain", "acme.test").returncode == 0
    assert run(ws, "agent", "add", "bot", "--owner", "o@acme.test").returncode == 0
    assert run(ws, "tool", "add", "clock.now", "--effect", "read", "--resource-arg", "-").returncode == 0
    task = run(
        ws, "task", "start", "--agent", "bot", "--purpose", "tell the time", "--allow", "clock.now",
        "--requested-by", "c@acme.test", "--json",
    )  # fmt: skip
    assert task.returncode == 0, task.stderr
    task_token = json.loads(task.stdout)["token"]

    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    svid = _svid(ws, "--audience", url)
    assert _aud(svid) == [url]
    default = _svid(ws)  # without --audience: Proctor's own API, as before
    assert _aud(default) != [url]

    log = (tmp_path / "gateway.log").open("wb")
    gw = subprocess.Popen(
        [*PROCTOR, "gateway", "--http", "--no-socket", "--port", str(port), "-w", str(ws)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert gw.poll() is None, (tmp_path / "gateway.log").read_text()
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the gateway did not come up"
                time.sleep(0.1)
        head = {"Accept": "application/json, text/event-stream", "Proctor-Task": task_token}
        ok = httpx.post(url, json=MCP_INIT, headers={**head, "Authorization": f"Bearer {svid}"}, timeout=30)
        assert ok.status_code == 200, ok.text
        refused = httpx.post(
            url, json=MCP_INIT, headers={**head, "Authorization": f"Bearer {default}"}, timeout=30
        )
        assert refused.status_code == 401
    finally:
        gw.terminate()
        try:
            gw.wait(30)
        except subprocess.TimeoutExpired:
            gw.kill()
            gw.wait(10)
        log.close()


def test_mcp_config_headers_says_how_to_get_an_svid_for_the_gateway(tmp_path: Path) -> None:
    """`mcp-config --transport http --headers` leaves `<JWT-SVID>` to fill in: it says which command
    mints one the gateway at that URL takes (its audience), not just that a placeholder is there."""
    ws = tmp_path / "ws"
    assert run(ws, "init", str(ws), "--trust-domain", "acme.test").returncode == 0
    url = "https://mcp.acme.example/mcp"
    r = run(
        ws,
        "mcp-config",
        "--client",
        "cursor",
        "--transport",
        "http",
        "--headers",
        "--agent",
        "bot",
        "--url",
        url,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["mcpServers"]["proctor"]["headers"]["Authorization"] == "Bearer <JWT-SVID>"
    hint = " ".join(r.stderr.split())
    assert f"proctor agent svid --join-token $(proctor agent join-token bot) --audience {url}" in hint
