"""A PostgreSQL role whose database is down when its task ends still dies at its lease's end
(issue 12.3), against a real PostgreSQL server that is really stopped: Proctor cannot revoke the
role, but the role's ``VALID UNTIL`` is the lease's end (``lease_ttl``, renewed while the task
lives), not the task's deadline. When the server is back, the role no longer logs in, before any
Proctor process has reached it; the next retry then drops it.

The test waits out a real minute (the shortest lease a PostgreSQL provider allows): PostgreSQL
checks ``VALID UNTIL`` against its own clock."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
from psycopg import sql
from tests.pgserver import PgServer, _run

from proctor.app import Proctor
from proctor.clock import FrozenClock
from proctor.credentials.providers.postgres import PostgresRoleProvider
from proctor.credentials.secrets import SecretStore
from proctor.types import LeaseState
from proctor.workspace import Workspace

BROKER_PASSWORD = "planted-lease-broker-5e1f"
LEASE_TTL_S = 60.0


def _pg_ctl(server: PgServer, action: str) -> None:
    opts = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {server.base / 'sock'}"
    cmd = [str(server.bin / "pg_ctl"), "-D", str(server.data), "-l", str(server.log), "-w", "-t", "60"]
    if action == "start":
        cmd += ["-o", opts]
    done = _run([*cmd, "-m", "fast", action] if action == "stop" else [*cmd, action], timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr


def _login(server: PgServer, user: str, password: str) -> str:
    """'ok', or why PostgreSQL refused the login."""
    try:
        with psycopg.connect(
            host="127.0.0.1",
            port=server.port,
            dbname=server.db,
            user=user,
            password=password,
            connect_timeout=5,
        ) as c:
            c.execute("SELECT 1")
        return "ok"
    except psycopg.OperationalError as exc:
        return str(exc)


def test_a_role_its_database_could_not_revoke_dies_at_its_lease_end(
    tmp_path: Path, pg_server: PgServer
) -> None:
    server = pg_server
    broker = "lease_broker"
    with psycopg.connect(server.url, autocommit=True) as c:
        b = sql.Identifier(broker)
        c.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}").format(b, sql.Literal(BROKER_PASSWORD))
        )
        c.execute("CREATE TABLE public.orders (id serial PRIMARY KEY, item text NOT NULL)")
        c.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {} WITH GRANT OPTION").format(
                sql.Identifier(server.db), b
            )
        )
        c.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {} WITH GRANT OPTION").format(b))
        c.execute(sql.SQL("GRANT SELECT ON public.orders TO {} WITH GRANT OPTION").format(b))
    ws, _ = Workspace.init(
        tmp_path / "ws", config_text="trust_domain: acme.test\ntools:\n  - {name: db.read, effect: read}\n"
    )
    clock = FrozenClock(time.time())  # the lease's end is in PostgreSQL's own (real) time
    p = Proctor.open(ws, clock=clock)
    try:
        secrets = SecretStore.open(ws, p.store, now=clock.now(), env={})
        secrets.put(
            "pg.broker",
            f"postgresql://{broker}:{BROKER_PASSWORD}@127.0.0.1:{server.port}/{server.db}",
            clock.now(),
        )
        provider = PostgresRoleProvider(
            lambda n: secrets.get(n).decode(), connect_timeout_s=2.0, lease_ttl_s=LEASE_TTL_S
        )
        p.credentials.register_provider(provider, replace=True)
        agent = p.agents.add("bot", "owner@acme.test")
        task = p.tasks.start(
            agent="bot", purpose="orders", allow=["db.read"], requested_by="r@acme.test", ttl_s=3600
        ).task
        lease, data = p.credentials.leases.issue(
            task,
            agent,
            "postgres",
            {
                "name": "orders-db",
                "admin_secret": "pg.broker",
                "tables": ["public.orders"],
                "role_prefix": "ls_",
            },
        )
        issued_at = time.time()
        assert _login(server, data["user"], data["password"]) == "ok"

        _pg_ctl(server, "stop")  # the database is gone when the task ends
        ended = p.credentials.leases.revoke_task(task.id)
        assert ended.pending == (lease.id,), ended
        assert p.credentials.leases.get(lease.id).pending  # the provider has not confirmed: the role lives

        # nobody reaches the database until the lease's end has passed (not the task's: an hour)
        time.sleep(max(0.0, issued_at + LEASE_TTL_S + 2 - time.time()))
        _pg_ctl(server, "start")
        with psycopg.connect(server.url, autocommit=True) as c:
            still = c.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (data["user"],)).fetchall()
        assert still, "the role is still there: nobody could revoke it"
        refused = _login(server, data["user"], data["password"])
        assert refused != "ok"
        assert "password authentication failed" in refused, refused  # how PostgreSQL says: expired

        # the next retry (any Proctor process's sweeper) drops it
        clock.set(time.time() + 3600)
        p.credentials.leases.retry_pending()
        done = p.credentials.leases.get(lease.id)
        assert done.state is LeaseState.REVOKED
        assert not done.pending
        with psycopg.connect(server.url, autocommit=True) as c:
            assert not c.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (data["user"],)).fetchall()
    finally:
        p.close()
