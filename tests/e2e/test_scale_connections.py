"""The kill switch gets a PostgreSQL connection when the pools have them all (issue 19, part 4).

A role with a low ``CONNECTION LIMIT`` stands for a deployment whose gateways want more connections
than the database gives them. Pool sizes are configurable (``store_pool_size``, ``store_pool_min``),
so gateways can leave room for the operator's ``proctor agent suspend``; inside one process, a
suspension or task end does not queue behind a pool whose connections are all busy; and when the
database itself refuses, the error says why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from psycopg import sql
from tests.e2e.gateway_harness import free_port

from proctor.app import Proctor
from proctor.errors import StoreUnavailable
from proctor.types import AgentStatus
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent
LIMIT = 3
PASSWORD = "limited-pw-19"


@pytest.fixture
def limited_url(pg_migrated_url: str) -> Iterator[str]:
    """The migrated database, reached as a role that may hold at most LIMIT connections."""
    role = f"lim_{os.getpid()}_{time.monotonic_ns() % 100000}"
    with psycopg.connect(pg_migrated_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} CONNECTION LIMIT {}").format(
                sql.Identifier(role), sql.Literal(PASSWORD), sql.Literal(LIMIT)
            )
        )
        for what in ("TABLES", "SEQUENCES"):
            admin.execute(
                sql.SQL("GRANT ALL ON ALL {} IN SCHEMA public TO {}").format(
                    sql.SQL(what), sql.Identifier(role)
                )
            )
    parts = urlsplit(pg_migrated_url)
    netloc = f"{role}:{PASSWORD}@{parts.hostname}:{parts.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    try:
        yield url
    finally:
        with psycopg.connect(pg_migrated_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,)
            )
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def _workspace(tmp_path: Path, url: str, pool: str) -> Workspace:
    ws, _ = Workspace.init(tmp_path / "ws", config_text=f"trust_domain: acme.test\nstore: {url}\n{pool}")
    return ws


def _role_connections(url: str) -> int:
    role = urlsplit(url).username
    admin = urlunsplit(
        urlsplit(url)._replace(netloc=f"postgres@{urlsplit(url).hostname}:{urlsplit(url).port}")
    )
    with psycopg.connect(admin, autocommit=True) as c:
        row = c.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (role,)).fetchone()
    assert row is not None
    return int(row[0])


def test_a_suspension_does_not_wait_behind_a_busy_pool(tmp_path: Path, limited_url: str) -> None:
    """store_pool_size 1, its one connection busy: kill_agent is recorded at once on a connection of
    its own (its audit record too); with every connection of the role taken, the store says why."""
    ws = _workspace(tmp_path, limited_url, "store_pool_size: 1\nstore_pool_min: 1\n")
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test")
        p.agents.add("other", "owner@acme.test")
        p.audit.flush()
        pool = p.store._pool  # type: ignore[attr-defined]
        assert pool.max_size == 1
        held = threading.Event()
        release = threading.Event()

        def hold() -> None:
            with pool.connection():
                held.set()
                release.wait(30)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert held.wait(10)
            assert p.kill_agent("bot", reason="compromised") is True  # recorded, not pended
            assert p.kills.pending() == []
            # the role's other connections taken too: the database itself refuses, and says so
            extra = []
            try:
                while True:
                    extra.append(psycopg.connect(limited_url, autocommit=True))
            except psycopg.OperationalError:
                pass
            assert len(extra) == LIMIT - 1
            try:
                with p.store.urgent(), pytest.raises(StoreUnavailable) as exc:  # type: ignore[attr-defined]
                    p.store.epoch()
                assert "refused the kill switch a connection" in exc.value.message
                assert "store_pool_size" in exc.value.message
                assert PASSWORD not in exc.value.message
                assert p.kill_agent("other") is False  # enforced from the kill file meanwhile
                assert [k.target for k in p.kills.pending()] == ["other"]
            finally:
                for c in extra:
                    c.close()
        finally:
            release.set()
            holder.join()
        assert p.agents.get("bot").status is AgentStatus.SUSPENDED
        p.audit.flush()
        kinds = [r.kind for r in p.store.iter_audit() if r.kind == "agent.suspended"]
        assert kinds == ["agent.suspended"]


def test_cli_suspend_works_while_a_gateway_holds_its_pool(tmp_path: Path, limited_url: str) -> None:
    """A gateway holding a pool of LIMIT - 1 connections leaves the role one: `proctor agent
    suspend` is recorded (not pended to the kill file)."""
    pool = f"store_pool_size: {LIMIT - 1}\nstore_pool_min: {LIMIT - 1}\n"
    ws = _workspace(tmp_path, limited_url, pool)
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    port = free_port()
    log = (tmp_path / "gateway.log").open("wb")
    gateway = subprocess.Popen(
        [str(BIN / "proctor"), "gateway", "--http", "--no-socket", "--port", str(port), "-w", str(ws.root)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert gateway.poll() is None, (tmp_path / "gateway.log").read_text()
            try:
                httpx.get(f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert _role_connections(limited_url) == LIMIT - 1  # the gateway holds its whole pool
        r = subprocess.run(
            [str(BIN / "proctor"), "agent", "suspend", "bot", "-w", str(ws.root), "--reason", "stop"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert r.returncode == 0, r.stdout + r.stderr
        assert "suspended" in r.stdout
        assert "pending" not in r.stdout.lower(), r.stdout
    finally:
        gateway.terminate()
        try:
            gateway.wait(20)
        except subprocess.TimeoutExpired:
            gateway.kill()
            gateway.wait(10)
        log.close()
    with Proctor.open(ws) as p:
        assert p.agents.get("bot").status is AgentStatus.SUSPENDED
        assert p.kills.pending() == []
