"""A store outage does not freeze the gateway (issue 12.2, docs/adr/0019), against a real
`proctor gateway --http` process in front of a real HTTP upstream: while PostgreSQL is stopped or
hung, or while another process holds SQLite's write lock, the endpoints that need no store answer
at once, calls fail fast and closed, and calls go ahead again as soon as the store answers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.gateway_harness import free_port

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.store import open_store
from proctor.store.base import AuditQuery
from proctor.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ACCEPT = "application/json, text/event-stream"
#: a correctness bound ("answers in about a second, not after 10 s of pool wait"), not a perf target
PROMPT_S = 1.5


def _wait_port(port: int, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise AssertionError(proc.stderr.read() if proc.stderr else b"exited") from None
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


@dataclass
class Gw:
    url: str
    base: str
    headers: dict[str, str]
    ws: Workspace
    client: httpx.Client
    sid: str = ""

    def call(self, text: str = "hi") -> tuple[float, dict[str, Any] | int]:
        """One lean tools/call: (seconds taken, the JSON-RPC result or the HTTP status)."""
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "up__echo", "arguments": {"text": text}},
        }
        h = {**self.headers, "Mcp-Session-Id": self.sid, "MCP-Protocol-Version": "2025-11-25"}
        start = time.monotonic()
        r = self.client.post(self.url, json=body, headers=h)
        took = time.monotonic() - start
        if r.status_code != 200:
            return took, r.status_code
        return took, _jsonrpc(r)["result"]

    def timed_get(self, path: str) -> tuple[float, httpx.Response]:
        start = time.monotonic()
        r = self.client.get(self.base + path)
        return time.monotonic() - start, r


def _jsonrpc(r: httpx.Response) -> dict[str, Any]:
    if r.headers.get("content-type", "").startswith("text/event-stream"):
        data = [ln[5:].strip() for ln in r.text.splitlines() if ln.startswith("data:")]
        return dict(json.loads(data[-1]))
    return dict(r.json())


def _ok(result: dict[str, Any] | int, text: str = "hi") -> bool:
    return isinstance(result, dict) and not result.get("isError") and result["content"][0]["text"] == text


@contextmanager
def _gateway(tmp_path: Path, config: str, *, max_calls: int | None = None) -> Iterator[Gw]:
    """`proctor gateway --http` in front of the stub upstream of bench/mcp_upstream.py (`up__echo`)."""
    up_port = free_port()
    upstream = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "mcp_upstream.py"), "--port", str(up_port), "--kind", "stub"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proc = None
    try:
        _wait_port(up_port, upstream)
        ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n" + config)
        save_upstreams(
            ws.root,
            [
                upstream_from_mapping(
                    {
                        "namespace": "up",
                        "url": f"http://127.0.0.1:{up_port}/mcp",
                        "default": {"effect": "read"},
                    }
                )
            ],
        )
        port = free_port()
        url = f"http://127.0.0.1:{port}/mcp"
        with Proctor.open(ws) as p:
            agent = p.agents.add("bot", "o@acme.test")
            svid = p.agents.issue_svid(agent, url)
            task = p.tasks.start(
                agent="bot", purpose="t", allow=["up.*"], requested_by="r@acme.test", max_calls=max_calls
            )
        log = (tmp_path / "gateway.log").open("wb")  # what it logged, for a failure's report
        proc = subprocess.Popen(
            [str(BIN / "proctor"), "gateway", "--http", "--port", str(port), "--workspace", str(ws.root)],
            env={**os.environ, "PATH": f"{BIN}:/usr/bin:/bin"},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        log.close()
        _wait_port(port, proc)
        headers = {
            "Authorization": f"Bearer {svid}",
            "Proctor-Task": task.token,
            "Accept": ACCEPT,
            "Content-Type": "application/json",
        }
        with httpx.Client(timeout=30) as client:
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
            r = client.post(url, json=init, headers=headers)
            assert r.status_code == 200, r.text
            sid = r.headers["mcp-session-id"]
            h = {**headers, "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"}
            client.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=h)
            gw = Gw(url, f"http://127.0.0.1:{port}", headers, ws, client, sid)
            assert _ok(gw.call()[1])
            yield gw
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        upstream.terminate()
        upstream.wait(timeout=10)


def _assert_prompt_while_down(gw: Gw) -> None:
    """What a gateway whose store is down answers, and how fast."""
    took, meta = gw.timed_get("/.well-known/oauth-protected-resource/mcp")
    assert meta.status_code == 200
    assert took < PROMPT_S, took
    took, result = gw.call()
    assert took < 5, took  # the bound (1 s here), not the pool's wait
    assert result == 503  # refused, fail closed: the store could not be read
    took, health = gw.timed_get("/healthz")
    assert took < PROMPT_S, took
    assert health.json()["status"] == "degraded"
    assert health.json()["store"]["status"] == "unavailable"
    # many calls at once: all answered at once, none reached the upstream
    with ThreadPoolExecutor(16) as ex:
        start = time.monotonic()
        results = list(ex.map(lambda _: gw.call()[1], range(32)))
        took = time.monotonic() - start
    assert results == [503] * 32
    assert took < 5, took
    took, meta = gw.timed_get("/.well-known/oauth-protected-resource/mcp")
    assert meta.status_code == 200
    assert took < PROMPT_S, took


def _assert_recovers(gw: Gw) -> None:
    start = time.monotonic()
    while True:
        _, result = gw.call()
        if _ok(result):
            break
        assert time.monotonic() - start < 8, result  # seconds after its return, not a backoff
        time.sleep(0.05)
    results = [gw.call(f"again {i}")[1] for i in range(10)]
    assert all(_ok(r, f"again {i}") for i, r in enumerate(results)), results
    _, health = gw.timed_get("/healthz")
    assert health.json() == {"status": "ok", "store": {"status": "ok"}}


# PostgreSQL ------------------------------------------------------------------------------------
def _pg_ctl(server: Any, *args: str) -> None:
    from tests.pgserver import _run

    opts = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {server.base / 'sock'} -c max_connections=200"
    cmd = [str(server.bin / "pg_ctl"), "-D", str(server.data), "-l", str(server.log), "-w", "-t", "60"]
    if args[0] == "start":
        cmd += ["-o", opts]
    done = _run([*cmd, *args], timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr


def _postgres_pids(server: Any) -> list[int]:
    master = int((server.data / "postmaster.pid").read_text().split()[0])
    kids = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True, check=False
    )
    return [master, *(int(x) for x in kids.stdout.split())]


def _recorded_outages(ws: Workspace) -> list[dict[str, Any]]:
    st = open_store(ws.settings().store_url, base_dir=ws.root, migrate=False)
    try:
        return [json.loads(r.body) for r in st.search_audit(AuditQuery(kind="store.recovered"))]
    finally:
        st.close()


def test_a_stopped_postgres_fails_calls_fast_and_recovers_at_once(tmp_path: Path, pg_server: Any) -> None:
    with _gateway(tmp_path, f"store: {pg_server.url}\nstore_timeout: 1s\n") as gw:
        _pg_ctl(pg_server, "-m", "fast", "stop")
        _assert_prompt_while_down(gw)
        time.sleep(6)  # longer than the upstream's keep-alive: its idle connections are closed
        _pg_ctl(pg_server, "start")
        _assert_recovers(gw)
        outages = _recorded_outages(gw.ws)
    assert len(outages) == 1, outages
    assert outages[0]["refused_unrecorded"] >= 1, outages


def test_a_hung_postgres_fails_calls_fast_and_recovers_at_once(tmp_path: Path, pg_server: Any) -> None:
    with _gateway(tmp_path, f"store: {pg_server.url}\nstore_timeout: 1s\n") as gw:
        pids = _postgres_pids(pg_server)
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            _assert_prompt_while_down(gw)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        _assert_recovers(gw)


# SQLite ------------------------------------------------------------------------------------------
def test_a_task_with_a_budget_does_not_freeze_the_gateway_under_a_sqlite_lock(
    tmp_path: Path, sqlite_write_lock: Callable[[Path], AbstractContextManager[None]]
) -> None:
    with _gateway(tmp_path, "store_timeout: 1s\n", max_calls=100) as gw:
        with sqlite_write_lock(gw.ws.root / "proctor.db"):
            with ThreadPoolExecutor(2) as ex:
                call = ex.submit(gw.call)
                time.sleep(0.2)  # the call is waiting on the lock now
                took, meta = gw.timed_get("/.well-known/oauth-protected-resource/mcp")
                assert meta.status_code == 200
                assert took < PROMPT_S, took
                took, health = gw.timed_get("/healthz")
                assert health.status_code == 200
                assert took < PROMPT_S, took
                took, result = call.result()
            assert took < 4, took  # the bound (1 s), not SQLite's busy timeout (5 s)
            assert not _ok(result), result  # refused: its budget could not be counted
        _assert_recovers(gw)


@pytest.mark.parametrize("mode", ["auto", "strict"])
def test_a_plain_call_does_not_freeze_the_gateway_under_a_sqlite_lock(
    tmp_path: Path, mode: str, sqlite_write_lock: Callable[[Path], AbstractContextManager[None]]
) -> None:
    """No budget: the call's own decision record is what meets the lock. Its commit on the event
    loop's thread (the quiet path's inline commit) must not wait for SQLite's busy timeout there: it
    is handed to the audit writer, and the loop keeps answering."""
    with _gateway(tmp_path, f"store_timeout: 1s\ngateway:\n  audit: {mode}\n") as gw:
        with sqlite_write_lock(gw.ws.root / "proctor.db"):
            with ThreadPoolExecutor(2) as ex:
                call = ex.submit(gw.call)
                time.sleep(0.3)  # the call's record is waiting on the lock now
                took, meta = gw.timed_get("/.well-known/oauth-protected-resource/mcp")
                assert meta.status_code == 200
                assert took < PROMPT_S, took
                took, health = gw.timed_get("/healthz")
                assert health.status_code == 200
                assert took < PROMPT_S, took
                took, result = call.result()
            assert took < 4, took  # the bound (1 s), not SQLite's busy timeout (5 s)
            assert not _ok(result), result  # its record is not durable: no answer
        _assert_recovers(gw)
