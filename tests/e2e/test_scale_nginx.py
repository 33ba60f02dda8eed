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
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conformance_mcp.fixture import fixture_url, start_fixture, stop_fixture
from tests.e2e.gateway_harness import free_port

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MODERN = "2026-07-28"
ENVELOPE: dict[str, Any] = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
}
CALLS = 240
WORKERS = 4

NGINX_CONF = """\
{user}daemon off;
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    upstream proctor_gateways {{
        # handshake-era MCP sessions live in the process that opened them: pin by client
        hash $remote_addr consistent;
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://proctor_gateways;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_buffering off;
            proxy_read_timeout 60s;
            # a gateway that refuses the connection: try the next one (a request already sent is
            # never replayed: POST is not idempotent, and nginx does not retry it)
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 3;
        }}
    }}
}}
"""


def _nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        subprocess.run([str(ROOT / "scripts" / "ensure-nginx.sh")], check=False, capture_output=True)
        found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        pytest.fail("nginx is not installed and scripts/ensure-nginx.sh could not install it", pytrace=False)
    return found


def _wait_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, log.read_text(errors="replace")[-4000:]
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            assert time.monotonic() < deadline, f"{url} did not come up"
            time.sleep(0.2)


@contextmanager
def _process(args: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    out = log.open("wb")
    proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        out.close()


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
        run.mkdir()
        os.chmod(run, 0o777)
        servers = "\n".join(f"        server 127.0.0.1:{q} max_fails=1 fail_timeout=30s;" for q in ports)
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf = run / "nginx.conf"
        conf.write_text(NGINX_CONF.format(user=user, run=run, servers=servers, port=lb_port))
        with ExitStack() as stack:
            gateways = []
            for i, q in enumerate(ports):
                log = tmp_path / f"gateway{i}.log"
                args = [
                    str(BIN / "proctor"),
                    "gateway",
                    "--http",
                    "--no-socket",
                    "--port",
                    str(q),
                    "-w",
                    str(ws.root),
                ]
                proc = stack.enter_context(_process(args, log, env))
                _wait_up(f"http://127.0.0.1:{q}/.well-known/oauth-protected-resource/mcp", proc, log)
                gateways.append(proc)
            lb = stack.enter_context(_process([nginx, "-p", str(run), "-c", str(conf)], run / "out.log", env))
            _wait_up(
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
