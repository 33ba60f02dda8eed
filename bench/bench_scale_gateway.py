"""``scale.gateway`` (issue 19): gated calls per second through Debian's nginx in front of one, then
three ``proctor gateway --http`` processes, with ``proctor serve`` beside them, all on one
PostgreSQL: the reference deployment of docs/adr/0034 (``tests/e2e/test_scale_nginx.py`` tests it;
``tests/nginxlb.py`` is their shared nginx setup, ``tests/pgserver.py`` the server).

The agent has one token and one URL (``gateway.public_url``: nginx's address); its calls are
2026-07-28 ``tools/call`` requests (stateless: any gateway may serve any of them) from
:data:`CONCURRENCY` keep-alive connections of the raw HTTP/1.1 client of
:mod:`bench.bench_gateway`, to a plain read tool of the minimal upstream stub (so the gateways, not
the upstream, are what is loaded). nginx spreads them (``least_conn``): the reference
configuration's pinning by client address is for handshake-era sessions, and would send every
connection of one client host to one gateway. The same gateway processes serve both rounds; the
first round's nginx names only the first of them.

Rows: ``scale.gateway.1`` and ``scale.gateway.3`` (latency through nginx and calls/s), and
``scale.gateway``: calls/s of three gateways over one (``ops_per_s``), p50/p99 the difference.
Every process shares the host's cores with the client and the database, so the ratio is a
regression guard (three gateways must not serve fewer calls than one: e.g. a lock they all wait
for), not a scaling claim. When nginx or PostgreSQL is missing, one ``scale.gateway`` row says
``skipped`` and why.

Run ``python -m bench.bench_scale_gateway`` from the repository root.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.nginxlb import (
    SPREAD,
    NginxUnavailable,
    ensure_nginx,
    gateway_args,
    nginx_args,
    process,
    stop_all,
    wait_up,
    write_conf,
)
from tests.pgserver import PostgresUnavailable, create_database, drop_database, temporary_postgres

from bench.bench_gateway import _port, _raw_post, _upstream
from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.workspace import Workspace

NAME = "scale.gateway"
GATEWAYS = 3
CONCURRENCY = 32
WARMUP_S = 2.0
MEASURE_S = 8.0
MODERN = "2026-07-28"
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
}
TOOL = "up__echo"


def skipped(why: str) -> dict[str, Any]:
    return {"name": NAME, "skipped": why}


async def _load(url: str, headers: dict[str, str], seconds: float, name: str) -> dict[str, Any]:
    """:data:`CONCURRENCY` workers, each a keep-alive connection calling for ``seconds``."""
    parts = urlsplit(url)
    head = f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n".encode()
    head += b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items())
    head += b"Content-Length: "
    lat: list[float] = []
    failures: list[bytes] = []
    stop = time.perf_counter() + seconds

    async def worker(w: int) -> None:
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
                        "params": {"name": TOOL, "arguments": {"text": f"{w}-{i}"}, "_meta": ENVELOPE},
                    }
                ).encode()
                s = time.perf_counter()
                reply = await _raw_post(reader, writer, head, body)
                lat.append((time.perf_counter() - s) * 1e6)
                if b'"result"' not in reply or b'"isError":true' in reply.replace(b" ", b""):
                    failures.append(reply[:300])
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(CONCURRENCY)))
    total = time.perf_counter() - t0
    if failures:
        raise RuntimeError(f"{name}: {len(failures)} of {len(lat)} calls failed, e.g. {failures[0]!r}")
    lat.sort()
    return {
        "name": name,
        "p50_us": round(lat[len(lat) // 2], 1),
        "p99_us": round(lat[int(len(lat) * 0.99)], 1),
        "ops_per_s": round(len(lat) / total, 1),
    }


def _measure(tmp: Path, pg_url: str, nginx: str, env: dict[str, str], bin_dir: Path) -> list[dict[str, Any]]:
    lb_port = _port()
    public = f"http://127.0.0.1:{lb_port}/mcp"
    stub, stub_url = _upstream("stub")
    try:
        config = f"trust_domain: bench.test\nstore: {pg_url}\ngateway:\n  public_url: {public}\n"
        ws, _ = Workspace.init(tmp / "ws", config_text=config)
        up = upstream_from_mapping({"namespace": "up", "url": stub_url, "default": {"effect": "read"}})
        save_upstreams(ws.root, [up])
        with Proctor.open(ws) as p:
            agent = p.agents.add("bench-bot", "owner@bench.test")
            task = p.tasks.start(
                agent="bench-bot", purpose="bench", allow=["up.echo"], requested_by="r@bench.test", ttl_s=3600
            )
            headers = {  # one token (audience: the public URL) and one task, whichever gateway serves
                "Authorization": f"Bearer {p.agents.issue_svid(agent, public)}",
                "Proctor-Task": task.token,
                "Accept": "application/json, text/event-stream",
                "Content-Type": "application/json",
                "MCP-Protocol-Version": MODERN,
                "Mcp-Method": "tools/call",
                "Mcp-Name": TOOL,
            }
        ports = [_port() for _ in range(GATEWAYS)]
        rows: list[dict[str, Any]] = []
        with ExitStack() as stack:
            procs = [
                (
                    stack.enter_context(
                        process(gateway_args(bin_dir, ws.root, q), tmp / f"gateway{i}.log", env)
                    ),
                    q,
                    tmp / f"gateway{i}.log",
                )
                for i, q in enumerate(ports)
            ]
            serve_port = _port()
            serve_log = tmp / "serve.log"
            serve = stack.enter_context(
                process(
                    [str(bin_dir / "proctor"), "serve", "--port", str(serve_port), "-w", str(ws.root)],
                    serve_log,
                    env,
                )
            )
            for proc, q, log in procs:
                wait_up(f"http://127.0.0.1:{q}/.well-known/oauth-protected-resource/mcp", proc, log)
            wait_up(f"http://127.0.0.1:{serve_port}/", serve, serve_log)
            for n in (1, GATEWAYS):
                conf = write_conf(tmp / f"nginx{n}", ports[:n], lb_port, balance=SPREAD, keepalive=64)
                out = conf.parent / "out.log"
                with process(nginx_args(nginx, conf), out, env) as lb:
                    wait_up(f"http://127.0.0.1:{lb_port}/.well-known/oauth-protected-resource/mcp", lb, out)
                    asyncio.run(_load(public, headers, WARMUP_S, f"{NAME}.warmup"))
                    rows.append(asyncio.run(_load(public, headers, MEASURE_S, f"{NAME}.{n}")))
                for proc, q, log in procs:
                    if proc.poll() is not None:
                        raise RuntimeError(
                            f"gateway on {q} exited: {log.read_text(errors='replace')[-2000:]}"
                        )
            stop_all([serve, *(proc for proc, _q, _log in procs)])
    finally:
        stub.terminate()
        stub.wait(10)
    one, many = rows
    rows.append(
        {
            "name": NAME,
            "p50_us": round(many["p50_us"] - one["p50_us"], 1),
            "p99_us": round(many["p99_us"] - one["p99_us"], 1),
            "ops_per_s": round(many["ops_per_s"] / one["ops_per_s"], 3),  # ratio 3 gateways / 1
        }
    )
    return rows


def bench_scale_gateway() -> list[dict[str, Any]]:
    """The rows above, or one ``skipped`` row naming what is missing."""
    try:
        nginx = ensure_nginx()
    except NginxUnavailable as exc:
        return [skipped(str(exc))]
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "proctor").exists():
        return [skipped(f"no `proctor` command next to {sys.executable}")]
    # the children run this checkout's code, as this process does
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    try:
        with temporary_postgres() as server_url, tempfile.TemporaryDirectory() as d:
            # a database of its own (``PROCTOR_TEST_PG_URL`` may name a server in use)
            pg_url = create_database(server_url, "proctor_bench")
            try:
                return _measure(Path(d), pg_url, nginx, env, bin_dir)
            finally:
                drop_database(server_url, pg_url)
    except PostgresUnavailable as exc:
        return [skipped(f"PostgreSQL is unavailable: {str(exc).splitlines()[0]}")]


if __name__ == "__main__":
    t0 = time.monotonic()
    for r in bench_scale_gateway():
        print(r)
    print(f"({time.monotonic() - t0:.0f} s)")
