"""A normal stop leaves the log signed to its end (issue 12.1), against real `proctor serve` and
`proctor gateway --http` processes: SIGTERM or SIGINT drains, flushes the audit log and signs a
checkpoint at the head, so deleting the tail afterwards is detected; and a running process signs
unsigned records within `audit.checkpoint_interval` even when nothing else happens."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from tests.e2e.gateway_harness import free_port

from proctor.app import Proctor, verify_audit_store
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.store import open_store
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent
#: with checkpoints this rare, only the graceful stop itself can sign the tail
NO_TIMED_CHECKPOINT = "audit: {checkpoint_every: 100000, checkpoint_interval: 1h}\n"


def _wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            time.sleep(0.1)
    raise AssertionError("server did not start")


def _report(ws: Workspace) -> object:
    st = open_store(ws.settings().store_url, base_dir=ws.root, migrate=False)
    try:
        return verify_audit_store(st, ws.keys_dir)
    finally:
        st.close()


def _stop(proc: subprocess.Popen[bytes], sig: int) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_with_the_log_signed_to_its_end(tmp_path: Path, sig: int) -> None:
    ws, admin = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n" + NO_TIMED_CHECKPOINT)
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "proctor"), "serve", "--port", str(port), "--workspace", str(ws.root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _wait_port(port, proc)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {admin}"}) as c:
        for i in range(20):
            r = c.post("/v1/agents", json={"name": f"bot{i}", "owner": "o@acme.test"})
            assert r.status_code in (200, 201), r.text
    assert _stop(proc, sig) == 0
    report = _report(ws)
    assert report.ok, report.problems  # type: ignore[attr-defined]
    assert report.unsigned_tail == 0  # type: ignore[attr-defined]
    # and so deleting the tail is caught
    head = report.head_seq  # type: ignore[attr-defined]
    with sqlite3.connect(ws.root / "proctor.db") as db:  # an attacker with write access drops the guards
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            db.execute(f'DROP TRIGGER "{name}"')
        db.execute("DELETE FROM audit_records WHERE seq > ?", (head - 5,))
    assert not _report(ws).ok  # type: ignore[attr-defined]


def test_gateway_stops_with_the_log_signed_to_its_end(tmp_path: Path) -> None:
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n" + NO_TIMED_CHECKPOINT)
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {"namespace": "time", "command": str(BIN / "mcp-server-time"), "default": {"effect": "read"}}
            )
        ],
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with Proctor.open(ws) as p:
        agent = p.agents.add("bot", "o@acme.test")
        svid = p.agents.issue_svid(agent, url)
        task = p.tasks.start(agent="bot", purpose="t", allow=["time.*"], requested_by="r@acme.test")
    env = {**os.environ, "PATH": f"{BIN}:/usr/bin:/bin"}
    proc = subprocess.Popen(
        [str(BIN / "proctor"), "gateway", "--http", "--port", str(port), "--workspace", str(ws.root)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _wait_port(port, proc)

    async def calls() -> None:
        h = {"Authorization": f"Bearer {svid}", "Proctor-Task": task.token}
        transport = streamable_http_client(url, http_client=httpx2.AsyncClient(headers=h, timeout=30))
        async with Client(transport, cache=None, mode="legacy") as c:
            name = next(t.name for t in (await c.list_tools()).tools if t.name.endswith("get_current_time"))
            for _ in range(10):
                assert not (await c.call_tool(name, {"timezone": "UTC"})).is_error

    anyio.run(calls)
    assert _stop(proc, signal.SIGTERM) == 0
    report = _report(ws)
    assert report.ok, report.problems  # type: ignore[attr-defined]
    assert report.unsigned_tail == 0  # type: ignore[attr-defined]
    assert report.head_seq > 20  # type: ignore[attr-defined]


def test_a_running_process_signs_its_unsigned_tail_within_the_interval(tmp_path: Path) -> None:
    """No stop, no more records: the writer signs the head once `checkpoint_interval` has passed."""
    ws, admin = Workspace.init(
        tmp_path / "ws",
        config_text="trust_domain: acme.test\naudit: {checkpoint_every: 100000, checkpoint_interval: 1s}\n",
    )
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "proctor"), "serve", "--port", str(port), "--workspace", str(ws.root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_port(port, proc)
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {admin}"}
        ) as c:
            assert c.post("/v1/agents", json={"name": "bot", "owner": "o@acme.test"}).status_code in (
                200,
                201,
            )
        deadline = time.monotonic() + 30
        report = _report(ws)
        while report.unsigned_tail and time.monotonic() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.2)
            report = _report(ws)
        assert report.ok  # type: ignore[attr-defined]
        assert report.unsigned_tail == 0  # type: ignore[attr-defined]
    finally:
        proc.kill()
        proc.wait(timeout=30)
