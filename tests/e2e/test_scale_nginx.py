"""The reference deployment (issue 19, part 5): Debian's nginx in front of three gateways on one
PostgreSQL, one URL and one token for the agent, a ``kill -9`` of one gateway under load.

nginx (installed by ``scripts/ensure-nginx.sh`` when missing) runs privately: its own prefix,
configuration and loopback port. The configuration is the one docs/adr/0034 describes: pinned by
client address (for handshake-era sessions), ``Host`` passed through, and a refused connection
retried on the next gateway (never a request already sent: a ``tools/call`` is not idempotent).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conformance_mcp.fixture import fixture_url, start_fixture, stop_fixture
from tests.e2e.gateway_harness import free_port
from tests.nginxlb import (
    NginxUnavailable,
    ensure_nginx,
    gateway_args,
    nginx_args,
    process,
    wait_up,
    write_conf,
)

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent
MODERN = "2026-07-28"
ENVELOPE: dict[str, Any] = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
}
CALLS = 240
WORKERS = 4


def _nginx() -> str:
    try:
        return ensure_nginx()
    except NginxUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


def test_nginx_three_gateways_one_url_survives_a_kill(tmp_path: Path, pg_migrated_url: str) -> None:
    nginx = _nginx()
    lb_port = free_port()
    public = f"http://127.0.0.1:{lb_port}/mcp"
    fport = free_port()
    fixture = start_fixture(fport, log_path=tmp_path / "fixture.log")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    try:
        config = f"trust_domain: acme.test\nstore: {pg_migrated_url}\ngateway:\n  public_url: {public}\n"
        ws, _ = Workspace.init(tmp_path / "ws", config_text=config)
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
            headers = {
                "Authorization": f"Bearer {p.agents.issue_svid(agent, public)}",
                "Proctor-Task": task.token,
                "Accept": "application/json, text/event-stream",
                "Content-Type": "application/json",
                "MCP-Protocol-Version": MODERN,
                "Mcp-Method": "tools/call",
                "Mcp-Name": "fx__test_simple_text",
            }
        ports = [free_port() for _ in range(3)]
        run = tmp_path / "nginx"
        conf = write_conf(run, ports, lb_port)
        with ExitStack() as stack:
            gateways = []
            for i, q in enumerate(ports):
                log = tmp_path / f"gateway{i}.log"
                proc = stack.enter_context(process(gateway_args(BIN, ws.root, q), log, env))
                wait_up(f"http://127.0.0.1:{q}/.well-known/oauth-protected-resource/mcp", proc, log)
                gateways.append(proc)
            lb = stack.enter_context(process(nginx_args(nginx, conf), run / "out.log", env))
            wait_up(
                f"http://127.0.0.1:{lb_port}/.well-known/oauth-protected-resource/mcp", lb, run / "out.log"
            )
            prm = httpx.get(f"http://127.0.0.1:{lb_port}/.well-known/oauth-protected-resource/mcp").json()
            assert prm["resource"] == public

            # the gateway nginx pins this client to: the one to kill
            pinned: dict[str, int] = {}
            results: list[tuple[int, bool]] = []
            lock = threading.Lock()
            counter = iter(range(CALLS))
            killed = threading.Event()

            def worker() -> None:
                with httpx.Client(timeout=60) as client:
                    while True:
                        with lock:
                            n = next(counter, None)
                        if n is None:
                            return
                        body = {
                            "jsonrpc": "2.0",
                            "id": n,
                            "method": "tools/call",
                            "params": {"name": "fx__test_simple_text", "_meta": ENVELOPE},
                        }
                        try:
                            r = client.post(public, json=body, headers=headers)
                            ok = r.status_code == 200 and "result" in r.json()
                        except (httpx.HTTPError, json.JSONDecodeError):
                            ok = False
                        with lock:
                            results.append((n, ok))
                            if len(results) == CALLS // 4 and not killed.is_set():
                                # kill -9 the gateway that serves this client, mid-load
                                victim = _serving(ports, gateways)
                                pinned["port"] = victim
                                os.kill(gateways[ports.index(victim)].pid, signal.SIGKILL)
                                killed.set()

            threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert killed.is_set()
            failed = [n for n, ok in results if not ok]
            # only requests already sent to the killed gateway may fail (at most one per worker in
            # flight, and one more each on a cached keepalive connection the kill closed, before
            # nginx marks the gateway down); everything after is served by the others
            assert len(failed) <= 2 * WORKERS, failed
            print(f"killed gateway on {pinned['port']}; {len(failed)} calls in flight failed")
            last = sorted(results)[-CALLS // 2 :]
            assert all(ok for _, ok in last)
            assert len(results) == CALLS
            assert gateways[ports.index(pinned["port"])].poll() == -signal.SIGKILL
        verify = subprocess.run(
            [str(BIN / "proctor"), "audit", "verify", "--deep", "-w", str(ws.root)],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr
    finally:
        stop_fixture(fixture)


def _serving(ports: list[int], gateways: list[subprocess.Popen[bytes]]) -> int:
    """The gateway port with an established connection from nginx (the client is pinned to it)."""
    out = subprocess.run(
        ["ss", "-Htn", "state", "established"], capture_output=True, text=True, check=False
    ).stdout
    for q in ports:
        if f"127.0.0.1:{q} " in out and gateways[ports.index(q)].poll() is None:
            return q
    raise AssertionError(f"no gateway has a connection from nginx: {out}")
