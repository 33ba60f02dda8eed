"""Restart after a crash takes no manual step (issue 12.5), against real processes: a `proctor gateway
--http` and a `proctor serve` on one workspace (SQLite, then PostgreSQL as the store) are killed with
`kill -9` at once, while

* a task holds a dynamic PostgreSQL role and two stdio upstream processes, and its deadline passes
  while every Proctor process is dead;
* another task ended while its database refused the broker, so its role's revocation is pending.

The stdio upstreams die with their gateway (their stdin closes). The one Proctor process started
next, with nobody doing anything by hand, ends the task past its deadline (audited), drops its
role, and finishes the pending revocation."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import httpx2
import psycopg
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from psycopg import sql
from tests.e2e.gateway_harness import free_port
from tests.pgserver import create_database, database_name, drop_database

from proctor.app import verify_audit_store
from proctor.credentials.secrets import SecretStore
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.store import open_store
from proctor.store.base import AuditQuery, LeaseRecord, Store
from proctor.types import LeaseState, TaskId, TaskState
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent
SQL_SERVER = Path(__file__).resolve().parents[1] / "fixtures" / "sql_server.py"
BROKER_PASSWORD = "planted-restart-broker-8d21"
#: how long the task that dies with the processes lives: long enough to open its sessions
DOOMED_TTL_S = 20


# processes ------------------------------------------------------------------------------------
def _wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            time.sleep(0.1)
    raise AssertionError("server did not start")


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time in clock ticks) of ``pid``, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0], int(fields[19])


def _children(parent: int) -> dict[int, int]:
    """The processes whose parent is ``parent``: pid -> start time."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None and st[0] == parent:
                out[int(entry.name)] = st[2]
    return out


def _alive(pid: int, started: int) -> bool:
    """Whether the very process that started at ``started`` still runs (a zombie does not)."""
    st = _stat(pid)
    return st is not None and st[2] == started and st[1] != "Z"


def _until(what: str, check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {what}")
        time.sleep(0.25)


# the world ------------------------------------------------------------------------------------
def _pg_admin(url: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as c:
        cur = c.execute(query.encode(), params)
        return cur.fetchall() if cur.description else []


def _role_exists(server_url: str, role: str) -> bool:
    return bool(_pg_admin(server_url, "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)))


def _calls(url: str, svid: str, token: str, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    async def run() -> list[Any]:
        h = {"Authorization": f"Bearer {svid}", "Proctor-Task": token}
        transport = streamable_http_client(url, http_client=httpx2.AsyncClient(headers=h, timeout=60))
        async with Client(transport, mode="legacy", cache=None) as c:
            return [await c.call_tool(name, args) for name, args in calls]

    return anyio.run(run)


def _open(ws: Workspace) -> Store:
    """The workspace's store, read directly: not a Proctor, so it sweeps nothing."""
    return open_store(ws.settings().store_url, base_dir=ws.root, migrate=False)


def _lease_of(st: Store, task: str) -> LeaseRecord:
    (lease,) = st.list_leases(TaskId(task), None, None)
    return lease


@pytest.mark.parametrize(("store", "next_process"), [("sqlite", "gateway"), ("postgres", "serve")])
def test_the_next_process_after_kill_9_of_every_proctor_finishes_what_they_left(
    tmp_path: Path, pg_url: str, store: str, next_process: str
) -> None:
    """Either kind of long-running process, started alone after the crash, does it all."""
    server_url = pg_url
    pg_port = int(urlsplit(pg_url).port or 5432)
    db_url = create_database(pg_url, "proctor_restart")
    db = database_name(db_url)
    store_db = create_database(pg_url, "proctor_restart_store") if store == "postgres" else None
    prefix = f"rk{os.urandom(3).hex()}_"
    broker = f"{prefix}broker"
    procs: list[subprocess.Popen[bytes]] = []
    survivors: dict[int, int] = {}
    try:
        with psycopg.connect(db_url, autocommit=True) as c:
            c.execute("CREATE TABLE public.orders (id serial PRIMARY KEY, item text NOT NULL)")
            c.execute("INSERT INTO public.orders (item) VALUES ('pencil')")
            b = sql.Identifier(broker)
            c.execute(
                sql.SQL("CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}").format(b, sql.Literal(BROKER_PASSWORD))
            )
            for stmt in (
                "GRANT pg_signal_backend TO {b}",
                "GRANT CONNECT ON DATABASE {db} TO {b} WITH GRANT OPTION",
                "GRANT USAGE ON SCHEMA public TO {b} WITH GRANT OPTION",
                "GRANT SELECT ON public.orders TO {b} WITH GRANT OPTION",
            ):
                c.execute(sql.SQL(stmt).format(b=b, db=sql.Identifier(db)))
        store_line = f"store: {store_db}\n" if store_db else ""
        ws, admin = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n" + store_line)
        cred = {
            "name": "orders-db",
            "provider": "postgres",
            "admin_secret": "pg.broker",
            "tables": ["public.orders"],
            "role_prefix": prefix,
            "env": {"DATABASE_URL": "{dsn}"},
        }
        save_upstreams(
            ws.root,
            [
                upstream_from_mapping(
                    {
                        "namespace": "db",
                        "command": sys.executable,
                        "args": [str(SQL_SERVER)],
                        "default": {"effect": "read"},
                        "tools": {"query": {"resource_arg": "-"}},
                        "credentials": [cred],
                    }
                ),
                upstream_from_mapping(
                    {
                        "namespace": "time",
                        "command": str(BIN / "mcp-server-time"),
                        "default": {"effect": "read"},
                    }
                ),
            ],
        )
        gw_port, api_port = free_port(), free_port()
        url = f"http://127.0.0.1:{gw_port}/mcp"
        from proctor.app import Proctor

        with Proctor.open(ws) as p:
            SecretStore.open(ws, p.store, now=p.clock.now(), env={}).put(
                "pg.broker",
                f"postgresql://{broker}:{BROKER_PASSWORD}@127.0.0.1:{pg_port}/{db}",
                p.clock.now(),
            )
            agent = p.add_agent("bot", "o@acme.test")
            svid = p.issue_svid(agent, url)
            ending = p.start_task(agent="bot", purpose="e", allow=["db.query"], requested_by="r@acme.test")

        env = {**os.environ, "PATH": f"{BIN}:/usr/bin:/bin"}
        # one process group for every Proctor process: `kill -9` reaches them all at once
        gw = subprocess.Popen(
            [str(BIN / "proctor"), "gateway", "--http", "--port", str(gw_port), "--workspace", str(ws.root)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            process_group=0,
        )
        procs.append(gw)
        api = subprocess.Popen(
            [str(BIN / "proctor"), "serve", "--port", str(api_port), "--workspace", str(ws.root)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            process_group=gw.pid,
        )
        procs.append(api)
        _wait_port(gw_port, gw)
        _wait_port(api_port, api)
        http = httpx.Client(
            base_url=f"http://127.0.0.1:{api_port}", headers={"Authorization": f"Bearer {admin}"}, timeout=30
        )
        r = http.post(
            "/v1/tasks",
            json={
                "agent": "bot",
                "purpose": "dies with the processes",
                "allow": ["db.query", "time.*"],
                "requested_by": "r@acme.test",
                "ttl_s": DOOMED_TTL_S,
            },
        )
        assert r.status_code == 201, r.text
        doomed, doomed_token = r.json()["task"]["id"], r.json()["token"]
        deadline = time.time() + DOOMED_TTL_S
        q = ("db__query", {"sql": "SELECT item FROM public.orders"})
        got = _calls(url, svid, doomed_token, [q, ("time__get_current_time", {"timezone": "UTC"})])
        assert not any(x.is_error for x in got), got
        assert json.loads(got[0].content[0].text) == [{"item": "pencil"}]
        assert not _calls(url, svid, ending.token, [q])[0].is_error

        # the task that ends while its database refuses the broker: its revocation is pending
        _pg_admin(server_url, f'ALTER ROLE "{broker}" NOLOGIN')
        r = http.post(f"/v1/tasks/{ending.task.id}/end", json={})
        assert r.status_code == 200, r.text
        st = _open(ws)
        try:
            pending = _lease_of(st, str(ending.task.id))
            doomed_lease = _lease_of(st, doomed)
        finally:
            st.close()
        assert pending.pending, pending
        assert doomed_lease.state is LeaseState.ACTIVE
        upstream_children = _children(gw.pid)
        assert len(upstream_children) >= 2  # the doomed task's SQL server and time server
        assert time.time() < deadline - 1, "the setup took longer than the task lives"

        os.killpg(gw.pid, signal.SIGKILL)
        for proc in procs:
            proc.wait(timeout=30)
        http.close()

        # the stdio upstreams die with their gateway: their stdin closes and they exit
        survivors = dict(upstream_children)
        _until("the upstream processes exit", lambda: not any(_alive(*x) for x in survivors.items()), 30)
        survivors.clear()

        _until("the task's deadline passes", lambda: time.time() > deadline + 1, DOOMED_TTL_S + 5)
        _pg_admin(server_url, f'ALTER ROLE "{broker}" LOGIN')  # the database is reachable again
        st = _open(ws)
        try:  # nothing has happened by itself
            task = st.get_task(TaskId(doomed))
            assert task is not None
            assert task.state is TaskState.ACTIVE
            assert _lease_of(st, doomed).state is LeaseState.ACTIVE
            assert _lease_of(st, str(ending.task.id)).pending
        finally:
            st.close()
        doomed_role = str(doomed_lease.revoke_handle["role"])
        pending_role = str(pending.revoke_handle["role"])
        assert _role_exists(server_url, doomed_role)
        assert _role_exists(server_url, pending_role)

        # ONE new process, and no manual step
        port = free_port()
        command = ["serve"] if next_process == "serve" else ["gateway", "--http"]
        again = subprocess.Popen(
            [str(BIN / "proctor"), *command, "--port", str(port), "--workspace", str(ws.root)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        procs.append(again)
        _wait_port(port, again)

        def done() -> bool:
            st = _open(ws)
            try:
                task = st.get_task(TaskId(doomed))
                ended = task is not None and task.state is TaskState.EXPIRED
                audited = bool(st.search_audit(AuditQuery(kind="task.expired", task=doomed)))
                leases = [_lease_of(st, doomed), _lease_of(st, str(ending.task.id))]
                settled = all(x.state is not LeaseState.ACTIVE and not x.pending for x in leases)
                return ended and audited and settled
            finally:
                st.close()

        _until("the new process ends the task and settles both leases", done)
        assert not _role_exists(server_url, doomed_role)
        assert not _role_exists(server_url, pending_role)
        again.send_signal(signal.SIGTERM)
        assert again.wait(timeout=60) == 0
        st = _open(ws)
        try:
            st_leases = {str(x.task_id): x for x in st.list_leases(None, None, None)}
            assert st_leases[doomed].state in (LeaseState.EXPIRED, LeaseState.REVOKED)
            assert st_leases[str(ending.task.id)].state is LeaseState.REVOKED
            kinds = [r.kind for r in st.iter_audit()]
            report = verify_audit_store(st, ws.keys_dir, deep=True)
        finally:
            st.close()
        assert "lease.revoked" in kinds
        assert report.ok, report.problems
        assert report.unsigned_tail == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
        for pid, started in survivors.items():
            if _alive(pid, started):
                os.kill(pid, signal.SIGKILL)
        drop_database(pg_url, db_url)
        if store_db is not None:
            drop_database(pg_url, store_db)
        with psycopg.connect(pg_url, autocommit=True) as c:
            rows = c.execute(
                "SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s) ORDER BY rolname = %s",
                (prefix, broker),
            ).fetchall()
            for (name,) in rows:
                c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
