"""Gateway benchmarks: the same raw JSON-RPC client calls an upstream MCP server directly and
through Proctor (whole pipeline, durable audit on), in the same run.

``gateway.call.direct`` and ``gateway.call.proxied``: sequential ``tools/call`` latency against the
SDK upstream; the added latency is their difference. ``*.2026``: the same calls as stateless
2026-07-28 requests (no session; the envelope in ``_meta``, ``Mcp-Method``/``Mcp-Name`` headers). ``proxied`` runs the gateway as shipped
(``gateway.audit: auto``) and the tool is a plain read, so its durable decision write overlaps the
upstream call; ``proxied.strict`` is the same call with the write first, which is what every
other effect pays under ``auto``. ``gateway.throughput``: concurrent gated calls
per second through the gateway in front of a minimal upstream stub.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.workspace import Workspace

HERE = Path(__file__).resolve().parent
CALLS = 2_000
THROUGHPUT_S = 5.0
CONCURRENCY = 32


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _upstream(kind: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "mcp_upstream.py"), "--port", str(port), "--kind", kind]
    )
    url = f"http://127.0.0.1:{port}/mcp"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"bench upstream ({kind}) did not start")


class _Gateway:
    """`proctor gateway --http` in its own process, as users run it (the benchmark client must not
    share a GIL with the gateway it measures)."""

    def __init__(self, tmp: Path, upstream_url: str, *, audit: str = "auto") -> None:
        ws, _ = Workspace.init(tmp, config_text=f"trust_domain: bench.test\ngateway: {{audit: {audit}}}\n")
        up = upstream_from_mapping({"namespace": "up", "url": upstream_url, "default": {"effect": "read"}})
        save_upstreams(ws.root, [up])
        port = _port()
        self.url = f"http://127.0.0.1:{port}/mcp"
        with Proctor.open(ws) as p:
            agent = p.agents.add("bench-bot", "owner@bench.test")
            task = p.tasks.start(
                agent="bench-bot", purpose="bench", allow=["up.echo"], requested_by="r@bench.test", ttl_s=3600
            )
            self.headers = {
                "Authorization": f"Bearer {p.agents.issue_svid(agent, self.url)}",
                "Proctor-Task": task.token,
            }
        self.ws = ws
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "proctor.cli.main",
                "gateway",
                "--http",
                "--port",
                str(port),
                "--workspace",
                str(ws.root),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.close()
        raise RuntimeError("gateway did not start")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


_BASE = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _session(client: httpx.Client, url: str, headers: dict[str, str]) -> dict[str, str]:
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "bench", "version": "1"},
        },
    }
    h = dict(_BASE, **headers)
    r = client.post(url, json=init, headers=h)
    r.raise_for_status()
    h["Mcp-Session-Id"] = r.headers["mcp-session-id"]
    h["MCP-Protocol-Version"] = "2025-11-25"
    client.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=h)
    return h


MODERN = "2026-07-28"
_ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
}


def _stateless(headers: dict[str, str], tool: str) -> dict[str, str]:
    """The headers of a 2026-07-28 ``tools/call`` of ``tool`` (no session: nothing to open)."""
    return dict(
        _BASE, **headers, **{"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": tool}
    )


@dataclass
class _Target:
    name: str
    url: str
    headers: dict[str, str]
    tool: str
    #: speak 2026-07-28 (stateless) rather than open a 2025-11-25 session
    modern: bool = False


def _latency(
    targets: list[_Target], n: int = CALLS, warmup: int = 100, block: int = 100
) -> list[dict[str, Any]]:
    """Sequential ``tools/call`` latency of each target with the same client, taken in turns of
    ``block`` calls: host noise (these machines are shared) then lands on every target alike, so
    their difference is the gateway's cost rather than the luck of when each was measured, while
    each turn is still a steady stream of calls to one server (turning after every call would
    also measure the caches each process loses to the others)."""
    clients = [httpx.Client(timeout=30) for _ in targets]
    try:
        sessions = [
            _stateless(t.headers, t.tool) if t.modern else _session(c, t.url, t.headers)
            for c, t in zip(clients, targets, strict=True)
        ]
        samples: list[list[float]] = [[] for _ in targets]
        busy = [0.0] * len(targets)
        for start in range(0, n + warmup, block):
            for k, (client, t, h) in enumerate(zip(clients, targets, sessions, strict=True)):
                for i in range(start, min(start + block, n + warmup)):
                    body = {
                        "jsonrpc": "2.0",
                        "id": i + 1,
                        "method": "tools/call",
                        "params": {"name": t.tool, "arguments": {"text": f"hi {i}"}},
                    }
                    if t.modern:
                        body["params"]["_meta"] = _ENVELOPE  # type: ignore[index]
                    s = time.perf_counter()
                    r = client.post(t.url, json=body, headers=h)
                    took = time.perf_counter() - s
                    if r.status_code != 200 or '"isError":true' in r.text.replace(" ", ""):
                        raise RuntimeError(f"{t.name}: call failed: {r.status_code} {r.text[:300]}")
                    if i >= warmup:
                        samples[k].append(took * 1e6)
                        busy[k] += took
    finally:
        for c in clients:
            c.close()
    out = []
    for t, xs, total in zip(targets, samples, busy, strict=True):
        xs.sort()
        out.append(
            {
                "name": t.name,
                "p50_us": round(xs[len(xs) // 2], 1),
                "p99_us": round(xs[int(len(xs) * 0.99)], 1),
                "ops_per_s": round(n / total, 1),
            }
        )
    return out


async def _raw_post(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, body: bytes
) -> bytes:
    """One keep-alive HTTP/1.1 POST on an open connection; returns the response body."""
    writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
    header = await reader.readuntil(b"\r\n\r\n")
    length = None
    chunked = False
    for line in header.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
        elif k.strip().lower() == b"transfer-encoding" and b"chunked" in v.lower():
            chunked = True
    if length is not None:
        return await reader.readexactly(length)
    if chunked:
        out = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return out
            out += chunk[:-2]
    raise RuntimeError("response without length")


async def _throughput(url: str, headers: dict[str, str], tool: str) -> dict[str, Any]:
    """Concurrent gated calls for THROUGHPUT_S seconds. The load comes from a minimal keep-alive
    HTTP/1.1 client (one connection per worker) so that the client is not what is measured."""
    with httpx.Client(timeout=30) as sync:
        h = _session(sync, url, headers)
    parts = urlsplit(url)
    head = f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n".encode()
    head += b"".join(f"{k}: {v}\r\n".encode() for k, v in h.items())
    head += b"Content-Length: "
    lat: list[float] = []
    failures = 0
    stop = time.perf_counter() + THROUGHPUT_S

    async def worker(w: int) -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        i = 0
        try:
            while time.perf_counter() < stop:
                i += 1
                body = json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": i,
                        "method": "tools/call",
                        "params": {"name": tool, "arguments": {"text": f"{w}-{i}"}},
                    }
                ).encode()
                s = time.perf_counter()
                reply = await _raw_post(reader, writer, head, body)
                lat.append((time.perf_counter() - s) * 1e6)
                if b'"isError":true' in reply.replace(b" ", b"") or b'"error"' in reply:
                    failures += 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(CONCURRENCY)))
    total = time.perf_counter() - t0
    if failures:
        raise RuntimeError(f"gateway.throughput: {failures} calls failed")
    lat.sort()
    return {
        "name": "gateway.throughput",
        "p50_us": round(lat[len(lat) // 2], 1),
        "p99_us": round(lat[int(len(lat) * 0.99)], 1),
        "ops_per_s": round(len(lat) / total, 1),
    }


def bench_gateway() -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as d:
        up, up_url = _upstream("sdk")
        gw = None
        try:
            # one gateway at a time, each interleaved with its own direct baseline
            gw = _Gateway(Path(d) / "ws", up_url)
            results += _latency(
                [
                    _Target("gateway.call.direct", up_url, {}, "echo"),
                    _Target("gateway.call.proxied", gw.url, gw.headers, "up__echo"),
                    _Target("gateway.call.direct.2026", up_url, {}, "echo", modern=True),
                    _Target("gateway.call.proxied.2026", gw.url, gw.headers, "up__echo", modern=True),
                ]
            )
            gw.close()
            # what every call that is not a plain read pays (`auto` treats those as `strict`)
            gw = _Gateway(Path(d) / "ws-strict", up_url, audit="strict")
            results += _latency(
                [
                    _Target("gateway.call.direct.strict-run", up_url, {}, "echo"),
                    _Target("gateway.call.proxied.strict", gw.url, gw.headers, "up__echo"),
                ]
            )
        finally:
            if gw is not None:
                gw.close()
            up.terminate()
            up.wait(10)
        stub, stub_url = _upstream("stub")
        gw = None
        try:
            gw = _Gateway(Path(d) / "ws2", stub_url)
            results.append(asyncio.run(_throughput(gw.url, gw.headers, "up__echo")))
        finally:
            if gw is not None:
                gw.close()
            stub.terminate()
            stub.wait(10)
    return results


if __name__ == "__main__":
    for r in bench_gateway():
        print(r)
