"""Red team of `proctor serve` next to several gateways (issue 19, docs/adr/0034): what a client
on the same host can make the tamper-evident log say about where a request came from.

`proctor serve` ran uvicorn with its default `proxy_headers` (trusting `X-Forwarded-For` from
127.0.0.1), so any process on the host (an agent, typically) chose the `source` of its own refused
requests in the audit log, and a new source per request escaped the per-source limit on refusal
records. The gateway already served with `proxy_headers=False`; now `serve` does too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.pgserver import free_port

from proctor.workspace import Workspace

PROCTOR = [sys.executable, "-c", "from proctor.cli.main import main; main()"]


def test_serve_records_the_peer_not_a_forwarded_for_header(tmp_path: Path) -> None:
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    port = free_port()
    log = (tmp_path / "serve.log").open("ab")
    proc = subprocess.Popen(
        [*PROCTOR, "serve", "-w", str(ws.root), "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        forged = {"X-Forwarded-For": "203.0.113.77", "X-Forwarded-Proto": "https"}
        r = httpx.get(f"{base}/v1/agents", headers={"Authorization": "Bearer pta_wrong", **forged})
        assert r.status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    out = subprocess.run(
        [*PROCTOR, "audit", "tail", "-w", str(ws.root), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "203.0.113.77" not in out
    refused = [r["record"] for r in json.loads(out) if r["record"].get("kind") == "api.refused"]
    assert [r["source"] for r in refused] == ["127.0.0.1"], refused
