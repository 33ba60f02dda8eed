"""Dynamic PostgreSQL roles against a real server: what a lease may do, that ending the task kills it,
and that no password reaches the audit log or the lease store.

Each test gets its own database (``orders``, ``payroll``, ``vault``), a non-superuser broker role
holding grant options on ``orders`` and ``payroll`` only (``vault``: SELECT without grant option),
and a Proctor workspace whose secret store holds the broker's DSN as ``pg.broker``. Roles are
cluster-wide, so every role a test makes starts with a random per-test prefix and is dropped after.
The test server's ``pg_hba.conf`` asks every role but the admin for its password over TCP.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import random
import secrets as _random
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2
import psycopg
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from psycopg import sql
from tests.pgserver import create_database, database_name, drop_database, free_port
from tests.planted import remember

from proctor.app import Proctor
from proctor.clock import FrozenClock
from proctor.credentials.leases import Lease, LeaseManager
from proctor.credentials.providers import Issued, IssueRequest, ProviderRegistry
from proctor.credentials.providers.base import RevocationUnrecoverable
from proctor.credentials.providers.postgres import (
    PostgresRoleProvider,
    role_name,
    scram_sha256_verifier,
)
from proctor.credentials.secrets import SecretStore
from proctor.errors import LeaseIssueFailed
from proctor.gateway.config import UpstreamConfig
from proctor.store.base import AgentRecord, AuditQuery, TaskRecord
from proctor.types import LeaseState
from proctor.workspace import Workspace

#: The broker's password: planted so that leak scans (here and elsewhere) can look for it.
BROKER_PASSWORD = "planted-pg-broker-3f9c1e"
BROKER_SECRET = "pg.broker"
SQL_SERVER = Path(__file__).resolve().parents[1] / "fixtures" / "sql_server.py"
CONFIG = """\
trust_domain: acme.test
store: sqlite:///proctor.db
tools:
  - {name: db.read, effect: read}
  - {name: db.write, effect: write}
  - {name: mail.send, effect: send}
"""
SCHEMA = """
CREATE TABLE public.orders (id serial PRIMARY KEY, item text NOT NULL, amount int NOT NULL);
CREATE TABLE public.payroll (id serial PRIMARY KEY, person text NOT NULL, salary int NOT NULL);
CREATE TABLE public.vault (id serial PRIMARY KEY, note text NOT NULL);
INSERT INTO public.orders (item, amount) VALUES ('pencil', 3), ('paper', 10);
INSERT INTO public.payroll (person, salary) VALUES ('alice', 100000);
INSERT INTO public.vault (note) VALUES ('the keys');
REVOKE CONNECT ON DATABASE {db} FROM PUBLIC;
"""


@dataclass
class PgEnv:
    admin_url: str  # the test database, as the (superuser) admin
    server_url: str
    db: str
    port: int
    prefix: str  # every role this test creates starts with it
    broker: str
    broker_dsn: str
    ws: Workspace
    p: Proctor
    clock: FrozenClock
    secrets: SecretStore
    provider: PostgresRoleProvider
    agent: AgentRecord

    def spec(self, tables: list[str] | None = None, **extra: Any) -> dict[str, Any]:
        return {
            "name": "orders-db",
            "admin_secret": BROKER_SECRET,
            "tables": ["public.orders"] if tables is None else tables,
            "role_prefix": self.prefix,
            **extra,
        }

    def task(self, allow: list[str], resources: tuple[str, ...] = ()) -> TaskRecord:
        return self.p.start_task(
            agent="bot",
            purpose="reconcile orders",
            allow=allow,
            resources=list(resources),
            requested_by="carol@acme.test",
            ttl_s=600,
        ).task

    def issue(self, task: TaskRecord, **spec: Any) -> tuple[Lease, dict[str, Any]]:
        return self.p.leases.issue(task, self.agent, "postgres", self.spec(**spec))

    def dsn_for(self, user: str, password: str, port: int | None = None) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{port or self.port}/{self.db}"

    def roles(self) -> list[str]:
        """Roles of this test besides the broker."""
        with psycopg.connect(self.server_url, autocommit=True) as c:
            rows = c.execute(
                "SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s) AND rolname <> %s ORDER BY 1",
                (self.prefix, self.broker),
            ).fetchall()
        return [r[0] for r in rows]

    def admin(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.admin_url, autocommit=True) as c:
            cur = c.execute(query.encode(), params)
            return cur.fetchall() if cur.description else []


@pytest.fixture
def pg(pg_url: str, tmp_path: Path) -> Iterator[PgEnv]:
    """A database with tables, a broker role, and a Proctor workspace that can lease roles."""
    db_url = create_database(pg_url, "proctor_pgrole")
    db = database_name(db_url)
    port = int(urlsplit(pg_url).port or 5432)
    prefix = f"pt{_random.token_hex(3)}_"
    broker = f"{prefix}broker"
    p: Proctor | None = None
    try:
        with psycopg.connect(db_url, autocommit=True) as c:
            c.execute(sql.SQL(SCHEMA).format(db=sql.Identifier(db)))
            b = sql.Identifier(broker)
            c.execute(
                sql.SQL("CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}").format(b, sql.Literal(BROKER_PASSWORD))
            )
            for stmt in (
                "GRANT pg_signal_backend TO {b}",
                "GRANT CONNECT ON DATABASE {db} TO {b} WITH GRANT OPTION",
                "GRANT USAGE ON SCHEMA public TO {b} WITH GRANT OPTION",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON public.orders, public.payroll TO {b} WITH GRANT OPTION",
                "GRANT SELECT ON public.vault TO {b}",
                "GRANT USAGE ON SEQUENCE public.orders_id_seq, public.payroll_id_seq TO {b} WITH GRANT OPTION",
            ):
                c.execute(sql.SQL(stmt).format(b=b, db=sql.Identifier(db)))
        ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
        clock = FrozenClock(time.time())  # PostgreSQL checks VALID UNTIL against its own clock
        p = Proctor.open(ws, clock=clock)
        store = SecretStore.open(ws, p.store, now=clock.now(), env={})
        broker_dsn = f"postgresql://{broker}:{BROKER_PASSWORD}@127.0.0.1:{port}/{db}"
        store.put(BROKER_SECRET, broker_dsn, clock.now())
        provider = PostgresRoleProvider(lambda n: store.get(n).decode())
        p.register_provider(provider, replace=True)  # the built-in one reads Proctor's own store
        agent = p.add_agent("bot", "owner@acme.test")
        yield PgEnv(
            db_url, pg_url, db, port, prefix, broker, broker_dsn, ws, p, clock, store, provider, agent
        )
    finally:
        if p is not None:
            p.close()
        drop_database(pg_url, db_url)  # its privileges go with it, so the roles can be dropped
        with psycopg.connect(pg_url, autocommit=True) as c:
            rows = c.execute(
                "SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s) ORDER BY rolname = %s",
                (prefix, broker),
            ).fetchall()
            for (name,) in rows:
                c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


# helpers --------------------------------------------------------------------------------------
def kinds(p: Proctor, prefix: str = "lease.") -> list[str]:
    p.audit.flush()
    return [r.kind for r in p.store.iter_audit() if r.kind.startswith(prefix)]


def audit_bodies(p: Proctor) -> list[str]:
    p.audit.flush()
    return [r.body.decode() for r in p.store.iter_audit()]


def issue_failures(p: Proctor) -> list[dict[str, Any]]:
    p.audit.flush()
    return [json.loads(r.body) for r in p.store.search_audit(AuditQuery(kind="lease.issue_failed"))]


def stored_text(env: PgEnv) -> str:
    """Everything Proctor keeps: audit bodies, lease records, and the raw bytes of its database files."""
    env.p.audit.flush()
    leases = [json.dumps(dataclasses.asdict(x), default=str) for x in env.p.store.list_leases()]
    raw = b"".join(f.read_bytes() for f in sorted(env.ws.root.glob("proctor.db*")))
    return "\n".join([*audit_bodies(env.p), *leases, repr(env.p.store.list_leases())]) + raw.decode("latin-1")


def assert_never_stored(env: PgEnv, *values: str) -> None:
    text = stored_text(env)
    for v in (BROKER_PASSWORD, *values):
        assert v not in text


def run_sql(dsn: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as c:
        cur = c.execute(query.encode())
        return cur.fetchall() if cur.description else []


# what a lease may do ----------------------------------------------------------------------------
def test_a_read_task_gets_select_on_its_tables_only(pg: PgEnv) -> None:
    """A task whose tools only read gets a login role that can SELECT orders, cannot write it, cannot
    read payroll, expires with the task, and whose password is stored nowhere in Proctor."""
    task = pg.task(["db.read"])
    lease, data = pg.issue(task)
    role = role_name(pg.prefix, lease.id)
    assert set(data) == {"dsn", "user", "password", "host", "port", "dbname"}
    assert data["user"] == role
    assert (data["host"], data["port"], data["dbname"]) == ("127.0.0.1", pg.port, pg.db)
    assert lease.state is LeaseState.ACTIVE
    assert lease.expires_at == task.deadline
    assert lease.revoke_handle == {
        "admin_secret": BROKER_SECRET,
        "role": role,
        "database": pg.db,
        "tables": ["public.orders"],
        "schemas": ["public"],
        "privileges": ["SELECT"],
    }

    assert run_sql(data["dsn"], "SELECT item FROM public.orders ORDER BY id") == [("pencil",), ("paper",)]
    assert run_sql(pg.dsn_for(data["user"], data["password"]), "SELECT current_user") == [(role,)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for table orders"):
        run_sql(data["dsn"], "INSERT INTO public.orders (item, amount) VALUES ('ink', 1)")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for table payroll"):
        run_sql(data["dsn"], "SELECT * FROM public.payroll")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        run_sql(pg.dsn_for(role, "not-the-password"), "SELECT 1")

    [(valid_until, conn_limit, inherit, super_, createrole, verifier)] = pg.admin(
        "SELECT rolvaliduntil, rolconnlimit, rolinherit, rolsuper, rolcreaterole, rolpassword"
        " FROM pg_authid WHERE rolname = %s",
        (role,),
    )
    assert valid_until == datetime.fromtimestamp(task.deadline, UTC)
    assert (conn_limit, inherit, super_, createrole) == (5, False, False, False)
    assert verifier.startswith("SCRAM-SHA-256$4096:")
    assert data["password"] not in verifier
    assert_never_stored(pg, data["password"], verifier, data["dsn"])


def test_a_write_task_gets_insert_update_delete(pg: PgEnv) -> None:
    """A task that may call a write tool gets SELECT, INSERT, UPDATE and DELETE, on its tables only,
    with the spec's connection limit; DDL stays out of reach."""
    lease, data = pg.issue(pg.task(["db.read", "db.write"]), connection_limit=2)
    dsn = data["dsn"]
    run_sql(dsn, "INSERT INTO public.orders (item, amount) VALUES ('ink', 1)")
    run_sql(dsn, "UPDATE public.orders SET amount = 4 WHERE item = 'pencil'")
    run_sql(dsn, "DELETE FROM public.orders WHERE item = 'paper'")
    assert pg.admin("SELECT item, amount FROM public.orders ORDER BY id") == [("pencil", 4), ("ink", 1)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run_sql(dsn, "UPDATE public.payroll SET salary = 1")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run_sql(dsn, "CREATE TABLE public.mine (x int)")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run_sql(dsn, "DROP TABLE public.orders")
    assert lease.revoke_handle["privileges"] == ["SELECT", "INSERT", "UPDATE", "DELETE"]
    assert lease.revoke_handle["sequences"] == [["public", "orders_id_seq"]]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run_sql(dsn, "SELECT setval('public.payroll_id_seq', 1)")
    assert pg.admin("SELECT rolconnlimit FROM pg_roles WHERE rolname = %s", (data["user"],)) == [(2,)]


def test_task_table_resources_narrow_the_grant(pg: PgEnv) -> None:
    """A task that declares `table:public.orders` gets orders only, though the spec lists payroll too;
    a task whose `table:` resources match none of the spec's tables gets nothing."""
    spec_tables = ["public.orders", "public.payroll"]
    lease, data = pg.issue(pg.task(["db.read"], ("table:public.ord*", "/data/*")), tables=spec_tables)
    assert lease.revoke_handle["tables"] == ["public.orders"]
    assert run_sql(data["dsn"], "SELECT count(*) FROM public.orders") == [(2,)]
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="payroll"):
        run_sql(data["dsn"], "SELECT * FROM public.payroll")

    _, wide = pg.issue(pg.task(["db.read"], ("/data/*",)), tables=spec_tables)  # no table: resources
    assert run_sql(wide["dsn"], "SELECT count(*) FROM public.payroll") == [(1,)]

    with pytest.raises(LeaseIssueFailed):
        pg.issue(pg.task(["db.read"], ("table:public.invoices",)), tables=spec_tables)
    assert issue_failures(pg.p)[-1]["error"] == "invalid_input"
    assert len(pg.roles()) == 2


# ending the task -------------------------------------------------------------------------------
def test_ending_the_task_kills_the_session_and_drops_the_role(pg: PgEnv) -> None:
    """end_task terminates an open session of the role at once, a new login fails, the role is gone,
    and the audit log tells the story; revoking again is a no-op."""
    task = pg.task(["db.read"])
    lease, data = pg.issue(task)
    role = data["user"]
    conn = psycopg.connect(data["dsn"], autocommit=True)
    try:
        assert conn.execute("SELECT count(*) FROM public.orders").fetchone() == (2,)
        pg.p.end_task(task.id)
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT count(*) FROM public.orders")
    finally:
        conn.close()
    with pytest.raises(psycopg.OperationalError):
        run_sql(data["dsn"], "SELECT 1")
    assert pg.admin("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)) == []
    assert pg.admin("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (role,)) == [(0,)]
    got = pg.p.leases.get(lease.id)
    assert got.state is LeaseState.REVOKED
    assert not got.pending
    assert got.attempts == 1
    assert kinds(pg.p) == ["lease.issued", "lease.ended", "lease.revoked"]
    pg.provider.revoke(lease.revoke_handle)  # idempotent: the role is already gone
    assert pg.roles() == []
    assert_never_stored(pg, data["password"])


def test_what_a_read_role_makes_without_a_grant_goes_with_it(pg: PgEnv) -> None:
    """A read-only role can still create a large object and alter its default privileges, which
    no grant covers: that kept data past the task and made DROP ROLE fail (the lease went
    `irrevocable` and the role stayed). Revocation now drops what the role owns first."""
    task = pg.task(["db.read"])
    lease, data = pg.issue(task)
    with psycopg.connect(data["dsn"], autocommit=True) as c:
        oid = c.execute("SELECT lo_from_bytea(0, 'kept past the task')").fetchone()[0]  # type: ignore[index]
        c.execute("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC")
    pg.p.end_task(task.id)
    assert pg.p.leases.get(lease.id).state is LeaseState.REVOKED
    assert pg.roles() == []
    assert pg.admin("SELECT count(*) FROM pg_largeobject_metadata WHERE oid = %s", (oid,)) == [(0,)]


def test_a_handle_naming_a_role_proctor_did_not_create_is_refused(pg: PgEnv) -> None:
    """The revoke handle is read from the store. One rewritten to name the application's own role
    must not make the broker disable it, end its sessions or drop it."""
    victim = f"{pg.prefix}app_user"
    pg.admin(f"CREATE ROLE \"{victim}\" LOGIN PASSWORD 'app'")
    task = pg.task(["db.read"])
    lease, _data = pg.issue(task)
    with pytest.raises(RevocationUnrecoverable, match="not created by Proctor"):
        pg.provider.revoke({**dict(lease.revoke_handle), "role": victim})
    assert pg.admin("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (victim,)) == [(True,)]
    pg.p.end_task(task.id)  # the real handle still revokes the real role
    assert pg.roles() == [victim]


def test_the_sql_fixture_server_sees_refusals_and_the_revocation(pg: PgEnv) -> None:
    """tests/fixtures/sql_server.py (used by the gateway's end-to-end test) with a leased DSN: rows
    come back, PostgreSQL's refusal comes back as a tool error, and once the task ends the open
    session is terminated and a reconnect fails; no error text carries the DSN or the password."""
    task = pg.task(["db.read"])
    _, data = pg.issue(task)
    params = StdioServerParameters(
        command=sys.executable, args=[str(SQL_SERVER)], env={"DATABASE_URL": data["dsn"]}
    )

    async def main() -> list[tuple[bool, str]]:
        out: list[tuple[bool, str]] = []

        async def q(text: str) -> None:
            r = await c.call_tool("query", {"sql": text})
            out.append((bool(r.is_error), r.content[0].text))  # type: ignore[union-attr]  # text content

        async with Client(params, mode="legacy", cache=None) as c:
            await q("SELECT item, amount FROM public.orders ORDER BY id")
            await q("INSERT INTO public.orders (item, amount) VALUES ('ink', 1)")
            await q("SELECT 1 AS one")
            await anyio.to_thread.run_sync(pg.p.end_task, task.id)
            await q("SELECT 1 AS one")  # the session was terminated
            await q("SELECT 1 AS one")  # a new login: the role is gone
        return out

    out = anyio.run(main)
    assert out[0] == (False, json.dumps([{"item": "pencil", "amount": 3}, {"item": "paper", "amount": 10}]))
    assert out[1][0]
    assert "permission denied for table orders" in out[1][1]
    assert out[2] == (False, '[{"one": 1}]')
    assert out[3][0]
    assert out[4][0]
    assert "password authentication failed" in out[4][1]
    for _, text in out:
        assert data["password"] not in text
        assert data["dsn"] not in text


def test_the_sql_fixture_server_needs_database_url() -> None:
    """Without DATABASE_URL the fixture's tool says so instead of guessing a database."""
    params = StdioServerParameters(command=sys.executable, args=[str(SQL_SERVER)], env={})

    async def main() -> tuple[bool, str]:
        async with Client(params, mode="legacy", cache=None) as c:
            r = await c.call_tool("query", {"sql": "SELECT 1"})
            return bool(r.is_error), r.content[0].text  # type: ignore[union-attr]  # text content

    is_error, text = anyio.run(main)
    assert is_error
    assert "DATABASE_URL is not set" in text


# failures ----------------------------------------------------------------------------------------
def test_unknown_admin_secret_at_issue(pg: PgEnv) -> None:
    """An admin secret that does not exist: lease_issue_failed, audited by code, nothing stored."""
    with pytest.raises(LeaseIssueFailed) as exc:
        pg.issue(pg.task(["db.read"]), admin_secret="pg.nope")
    assert exc.value.code == "lease_issue_failed"
    [failure] = issue_failures(pg.p)
    assert failure["error"] == "unknown_secret"
    assert failure["provider"] == "postgres"
    assert pg.p.store.list_leases() == []
    assert pg.roles() == []


def test_postgres_down_at_issue(pg: PgEnv) -> None:
    """An admin DSN pointing at a closed port: refused, audited without the driver's words, no lease."""
    pg.secrets.put("pg.down", pg.dsn_for(pg.broker, BROKER_PASSWORD, free_port()), pg.clock.now())
    with pytest.raises(LeaseIssueFailed) as exc:
        pg.issue(pg.task(["db.read"]), admin_secret="pg.down")
    assert BROKER_PASSWORD not in exc.value.message
    [failure] = issue_failures(pg.p)
    assert failure["error"] == "OperationalError"
    assert pg.p.store.list_leases() == []
    assert pg.roles() == []
    assert_never_stored(pg)


def test_a_grant_the_broker_cannot_give_leaves_no_role(pg: PgEnv) -> None:
    """PostgreSQL only warns when the broker lacks the grant option (vault: SELECT without it) or
    refuses outright (no privilege at all): either way no lease is issued and no role is left."""
    pg.admin("CREATE TABLE public.hidden (x int)")
    for tables in (["public.orders", "public.vault"], ["public.hidden"], ["public.missing"]):
        with pytest.raises(LeaseIssueFailed):
            pg.issue(pg.task(["db.read"]), tables=tables)
    assert [f["error"] for f in issue_failures(pg.p)] == [
        "InsufficientPrivilege",
        "InsufficientPrivilege",
        "UndefinedTable",
    ]
    assert pg.p.store.list_leases() == []
    assert pg.roles() == []


def test_postgres_down_at_revoke_retries_then_goes_irrevocable(pg: PgEnv) -> None:
    """The admin DSN starts pointing at a closed port after issue: revocation fails, is retried with
    backoff on the clock, then the lease is irrevocable and listed; the role is still there for a
    person to deal with, and a later revoke with the right DSN drops it."""
    mgr = LeaseManager(
        pg.p.store,
        ProviderRegistry([pg.provider]),
        pg.clock,
        pg.p.audit,
        max_attempts=3,
        jitter=random.Random(7),
    )
    task = pg.task(["db.read"])
    lease, data = mgr.issue(task, pg.agent, "postgres", pg.spec())
    pg.secrets.put(BROKER_SECRET, pg.dsn_for(pg.broker, BROKER_PASSWORD, free_port()), pg.clock.now())

    first = mgr.revoke_task(task.id)
    assert first.pending == (lease.id,)
    assert mgr.get(lease.id).last_error == "OperationalError"
    assert mgr.retry_pending().pending == ()  # not due yet
    for _ in range(2):
        pg.clock.advance(60)
        mgr.retry_pending()
    gone = mgr.get(lease.id)
    assert gone.state is LeaseState.IRREVOCABLE
    assert gone.attempts == 3
    assert mgr.list(irrevocable=True) == [gone]
    assert kinds(pg.p) == [
        "lease.issued",
        "lease.ended",
        "lease.revoke_failed",
        "lease.revoke_failed",
        "lease.irrevocable",
    ]
    assert pg.roles() == [data["user"]]  # really not revoked: that is why it is listed

    assert gone.next_attempt_at is not None  # irrevocable, and still retried (issue 12.3)

    pg.secrets.put(BROKER_SECRET, pg.broker_dsn, pg.clock.now())  # the database is reachable again
    pg.clock.advance(600)
    mgr.retry_pending()  # what the sweeper of any Proctor process runs
    back = mgr.get(lease.id)
    assert back.state is LeaseState.REVOKED
    assert pg.roles() == []
    assert_never_stored(pg, data["password"])


def test_unknown_admin_secret_at_revoke_is_irrevocable_at_once(pg: PgEnv) -> None:
    """A deleted admin secret cannot come back by retrying: irrevocable on the first attempt."""
    task = pg.task(["db.read"])
    lease, _ = pg.issue(task)
    pg.secrets.delete(BROKER_SECRET)
    summary = pg.p.leases.revoke_task(task.id)
    assert summary.irrevocable == (lease.id,)
    assert pg.p.leases.get(lease.id).last_error == "revocation_unrecoverable"


def test_revoke_skips_what_was_dropped_and_works_from_another_database(pg: PgEnv) -> None:
    """Revocation from an admin DSN on another database: the grants are revoked in the lease's own
    database (a table dropped since is skipped); once that database is gone, the role is still dropped."""
    task = pg.task(["db.write"])
    a, _ = pg.issue(task, tables=["public.orders", "public.payroll"])
    b, _ = pg.issue(task)
    pg.secrets.put(BROKER_SECRET, pg.broker_dsn.rsplit("/", 1)[0] + "/postgres", pg.clock.now())
    pg.admin("DROP TABLE public.payroll")
    pg.provider.revoke(a.revoke_handle)
    assert pg.roles() == [b.revoke_handle["role"]]
    drop_database(pg.server_url, pg.admin_url)
    pg.provider.revoke(b.revoke_handle)
    assert pg.roles() == []


def test_a_role_holding_foreign_grants_is_irrevocable_but_cannot_log_in(pg: PgEnv) -> None:
    """Someone else granted the role more: it cannot be dropped (no DROP OWNED for the broker), so
    the lease is irrevocable at once, and the role is left NOLOGIN with no session."""
    task = pg.task(["db.read"])
    lease, data = pg.issue(task)
    conn = psycopg.connect(data["dsn"], autocommit=True)
    pg.admin(f'GRANT SELECT ON public.vault TO "{data["user"]}"')
    try:
        summary = pg.p.leases.revoke_task(task.id)
    finally:
        conn.close()
    assert summary.irrevocable == (lease.id,)
    assert pg.p.leases.get(lease.id).last_error == "revocation_unrecoverable"
    assert pg.admin("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (data["user"],)) == [(False,)]
    assert pg.admin("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (data["user"],)) == [(0,)]
    with pytest.raises(psycopg.OperationalError):
        run_sql(data["dsn"], "SELECT 1")
    # its own grants were not revoked either: the revokes and the drop are one transaction
    assert pg.admin("SELECT has_table_privilege(%s, 'public.orders', 'SELECT')", (data["user"],)) == [(True,)]


BAD_SPECS: list[tuple[str, dict[str, Any]]] = [
    ("missing admin_secret", {"admin_secret": None}),
    ("admin_secret not a name", {"admin_secret": "Pg Broker"}),
    ("admin_secret not a string", {"admin_secret": 42}),
    ("no tables", {"tables": []}),
    ("tables not a list", {"tables": "public.orders"}),
    ("no schema", {"tables": ["orders"]}),
    ("three parts", {"tables": ["db.public.orders"]}),
    ("injection", {"tables": ["public.orders; DROP TABLE public.payroll"]}),
    ("quoted", {"tables": ['public."orders"']}),
    ("leading digit", {"tables": ["public.1orders"]}),
    ("too long", {"tables": ["public." + "o" * 64]}),
    ("not a string", {"tables": [["public", "orders"]]}),
    ("unknown key", {"superuser": True}),
    ("limit zero", {"connection_limit": 0}),
    ("limit too high", {"connection_limit": 101}),
    ("limit bool", {"connection_limit": True}),
    ("limit string", {"connection_limit": "5"}),
    ("prefix upper", {"role_prefix": "Proctor_"}),
    ("prefix too long", {"role_prefix": "p" * 17}),
    ("prefix quote", {"role_prefix": 'p"; --'}),
]


@pytest.mark.parametrize(("why", "change"), BAD_SPECS, ids=[b[0] for b in BAD_SPECS])
def test_bad_specs_are_refused_before_touching_postgres(pg: PgEnv, why: str, change: dict[str, Any]) -> None:
    """Every malformed spec is a validation error raised before the admin DSN is even looked up."""
    looked_up: list[str] = []
    pg.p.register_provider(PostgresRoleProvider(_recording(looked_up, pg)), replace=True)
    spec = {**pg.spec(), **change}
    spec = {k: v for k, v in spec.items() if v is not None}
    with pytest.raises(LeaseIssueFailed):
        pg.p.leases.issue(pg.task(["db.read"]), pg.agent, "postgres", spec)
    assert looked_up == [], why
    assert issue_failures(pg.p)[0]["error"] == "invalid_input"
    assert pg.roles() == []


def test_a_task_without_read_or_write_effect_is_refused(pg: PgEnv) -> None:
    """A task that may only send mail gets no database role at all."""
    looked_up: list[str] = []
    pg.p.register_provider(PostgresRoleProvider(_recording(looked_up, pg)), replace=True)
    with pytest.raises(LeaseIssueFailed):
        pg.issue(pg.task(["mail.send"]))
    assert looked_up == []
    assert issue_failures(pg.p)[0]["error"] == "invalid_input"
    assert pg.roles() == []


def test_pass_through_keys_are_accepted(pg: PgEnv) -> None:
    """The keys the gateway uses to inject a credential (`provider`, `env`, `header`) are not refused."""
    _, data = pg.issue(pg.task(["db.read"]), provider="postgres", env="DATABASE_URL", header="X-Db")
    assert run_sql(data["dsn"], "SELECT count(*) FROM public.orders") == [(2,)]


def _recording(calls: list[str], env: PgEnv) -> Callable[[str], str]:
    def admin_dsn(name: str) -> str:
        calls.append(name)
        return env.secrets.get(name).decode()

    return admin_dsn


# secrets -----------------------------------------------------------------------------------------
def test_no_password_is_stored_or_logged(pg: PgEnv) -> None:
    """After issuing, failing and revoking, neither the broker's password nor any role's password (nor
    its SCRAM verifier) is in an audit record, a lease record or Proctor's database files; and
    PostgreSQL's statement log, where the test can read it, saw the role created without it."""
    pg.admin(f"ALTER DATABASE \"{pg.db}\" SET log_statement = 'all'")
    read_task, write_task = pg.task(["db.read"]), pg.task(["db.write"])
    _, a = pg.issue(read_task)
    _, b = pg.issue(write_task)
    pg.secrets.put("pg.down", pg.dsn_for(pg.broker, BROKER_PASSWORD, free_port()), pg.clock.now())
    with pytest.raises(LeaseIssueFailed):
        pg.issue(read_task, admin_secret="pg.down")
    verifiers = [
        r[0]
        for r in pg.admin(
            "SELECT rolpassword FROM pg_authid WHERE rolname IN (%s, %s)", (a["user"], b["user"])
        )
    ]
    assert len(verifiers) == 2
    pg.p.end_task(read_task.id)
    pg.p.end_task(write_task.id)
    assert pg.roles() == []
    assert_never_stored(pg, a["password"], b["password"], *verifiers)

    [(data_dir,)] = pg.admin("SHOW data_directory")
    log = Path(data_dir).parent / "postgres.log"
    if log.is_file():  # the private test server's log (not for a PROCTOR_TEST_PG_URL server)
        text = log.read_text(errors="replace")
        assert f'CREATE ROLE "{a["user"]}"' in text
        assert a["password"] not in text
        assert b["password"] not in text


def test_scram_verifier_is_the_rfc7677_computation() -> None:
    """The client-side verifier, recomputed independently with ``cryptography``'s PBKDF2 and HMAC;
    PostgreSQL accepting the password (test 1's login) is the end-to-end proof."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import hmac as chmac
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    def mac(key: bytes, msg: bytes) -> bytes:
        h = chmac.HMAC(key, hashes.SHA256())
        h.update(msg)
        return h.finalize()

    salt = bytes(range(16))
    salted = PBKDF2HMAC(hashes.SHA256(), 32, salt, 4096).derive(b"pencil")
    digest = hashes.Hash(hashes.SHA256())
    digest.update(mac(salted, b"Client Key"))
    stored, server = digest.finalize(), mac(salted, b"Server Key")
    b64 = base64.b64encode
    expected = f"SCRAM-SHA-256$4096:{b64(salt).decode()}${b64(stored).decode()}:{b64(server).decode()}"
    assert scram_sha256_verifier("pencil", salt=salt) == expected
    assert scram_sha256_verifier("pencil") != scram_sha256_verifier("pencil")  # fresh salt each time


# through the gateway ----------------------------------------------------------------------------
class RecordingProvider:
    """The real provider, remembering what it issued so the test can try the role itself (and the
    leak scan can look for the password). The agent never sees any of it."""

    kind = "postgres"

    def __init__(self, inner: PostgresRoleProvider) -> None:
        self.inner = inner
        self.issued: list[dict[str, Any]] = []

    def issue(self, req: IssueRequest) -> Issued:
        out = self.inner.issue(req)
        self.issued.append(dict(out.data))
        remember(str(out.data["password"]))
        remember(str(out.data["dsn"]))
        return out

    def revoke(self, handle: Mapping[str, Any]) -> None:
        self.inner.revoke(handle)


def sql_upstream(admin_secret: str, tables: list[str], *, prefix: str | None = None) -> UpstreamConfig:
    """The SQL fixture server over stdio, with a leased role's DSN as its `DATABASE_URL`."""
    from proctor.gateway.config import upstream_from_mapping

    cred: dict[str, Any] = {
        "name": "orders-db",
        "provider": "postgres",
        "admin_secret": admin_secret,
        "tables": tables,
        "env": {"DATABASE_URL": "{dsn}"},
    }
    if prefix is not None:
        cred["role_prefix"] = prefix
    return upstream_from_mapping(
        {
            "namespace": "db",
            "command": sys.executable,
            "args": [str(SQL_SERVER)],
            "default": {"effect": "read"},
            # the tables a query touches are in its SQL, not in an argument: the leased role,
            # narrowed to the task's `table:` resources, is what scopes it (docs/adr/0010)
            "tools": {"query": {"resource_arg": "-"}},
            "credentials": [cred],
        }
    )


def test_gateway_task_reads_through_a_leased_role_and_postgres_refuses_the_write(pg: PgEnv) -> None:
    """The whole path: an agent calls `db.query` through the HTTP gateway; the gateway obtains a role
    for its read-only task (policy allows, the provider creates it) and starts the task's own SQL
    server with the role's DSN. The read succeeds. A write smuggled through the read tool is allowed
    by Cedar (the tool is a read) and refused by PostgreSQL itself. At task end the open session is
    terminated, a new login fails and the role is gone; the agent never saw the DSN."""
    from tests.e2e.gateway_harness import GatewayThread

    rec = RecordingProvider(pg.provider)
    pg.p.register_provider(rec, replace=True)
    upstream = sql_upstream(BROKER_SECRET, ["public.orders", "public.payroll"], prefix=pg.prefix)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    svid = pg.p.issue_svid(pg.agent, url)
    started = pg.p.start_task(
        agent="bot",
        purpose="count orders",
        allow=["db.query"],
        resources=["table:public.orders"],
        requested_by="carol@acme.test",
        ttl_s=600,
    )
    gateway = GatewayThread.start(pg.p, [upstream], port)
    h = {"Authorization": f"Bearer {svid}", "Proctor-Task": started.token}
    # a session of the role opened outside the gateway (as a tool process that outlives its
    # gateway session would hold one): ending the task must terminate it too
    other: list[psycopg.Connection[Any]] = []

    async def main() -> list[Any]:
        out: list[Any] = []
        transport = streamable_http_client(url, http_client=httpx2.AsyncClient(headers=h, timeout=60))
        async with Client(transport, mode="legacy", cache=None) as c:
            for q in (
                "SELECT item FROM public.orders ORDER BY id",
                "INSERT INTO public.orders (item, amount) VALUES ('ink', 1)",
                "SELECT person FROM public.payroll",
            ):
                out.append(await c.call_tool("db__query", {"sql": q}))
            other.append(psycopg.connect(str(rec.issued[0]["dsn"]), autocommit=True))
            assert other[0].execute("SELECT count(*) FROM public.orders").fetchone() == (2,)
            await anyio.to_thread.run_sync(pg.p.end_task, started.task.id)
            out.append(await c.call_tool("db__query", {"sql": "SELECT 1"}))
        return out

    try:
        read, write, payroll, after = anyio.run(main)
        with pytest.raises(psycopg.OperationalError):  # terminated by the revocation
            other[0].execute("SELECT 1")
    finally:
        gateway.stop()
        for conn in other:
            conn.close()
    assert not read.is_error, read
    assert json.loads(read.content[0].text) == [{"item": "pencil"}, {"item": "paper"}]
    assert write.is_error
    assert "permission denied for table orders" in write.content[0].text
    # `table:public.orders` narrowed the grant: payroll is refused by PostgreSQL too
    assert payroll.is_error
    assert "permission denied for table payroll" in payroll.content[0].text
    assert after.is_error
    assert "Proctor denied this call" in after.content[0].text
    pg.p.audit.flush()
    decisions = [
        json.loads(r.body)
        for r in pg.p.store.search_audit(AuditQuery(kind="decision"))
        if b"db.query" in r.body
    ]
    assert [d["decision"] for d in decisions] == ["allow", "allow", "allow", "deny"]  # PostgreSQL said no
    assert len(rec.issued) == 1
    data = rec.issued[0]
    for r in (read, write, payroll, after):
        assert data["password"] not in r.model_dump_json()
    role = str(data["user"])
    assert pg.admin("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)) == []
    assert pg.admin("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (role,)) == [(0,)]
    with pytest.raises(psycopg.OperationalError):
        run_sql(str(data["dsn"]), "SELECT 1")
    lease = pg.p.leases.list()[0]
    assert lease.state is LeaseState.REVOKED
    assert lease.kind == "postgres"
    used = [json.loads(r.body) for r in pg.p.store.search_audit(AuditQuery(kind="lease.used"))]
    assert len(used) == 3
    assert {u["lease_id"] for u in used} == {str(lease.id)}
    assert_never_stored(pg, str(data["password"]))


def test_gateway_call_is_denied_and_audited_when_postgres_is_down_at_issue(pg: PgEnv) -> None:
    """The broker's PostgreSQL cannot be reached when the task first needs its role: the call is a
    tool error naming the credential and `lease_issue_failed`, `lease.issue_failed` is audited with
    the error class only, and no lease exists."""
    from tests.e2e.gateway_harness import GatewayThread

    pg.secrets.put(
        "pg.down", f"postgresql://nobody:{BROKER_PASSWORD}@127.0.0.1:{free_port()}/x", pg.clock.now()
    )
    upstream = sql_upstream("pg.down", ["public.orders"])
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    svid = pg.p.issue_svid(pg.agent, url)
    started = pg.p.start_task(
        agent="bot", purpose="count orders", allow=["db.query"], requested_by="carol@acme.test", ttl_s=600
    )
    gateway = GatewayThread.start(pg.p, [upstream], port)
    h = {"Authorization": f"Bearer {svid}", "Proctor-Task": started.token}

    async def main() -> Any:
        transport = streamable_http_client(url, http_client=httpx2.AsyncClient(headers=h, timeout=60))
        async with Client(transport, mode="legacy", cache=None) as c:
            return await c.call_tool("db__query", {"sql": "SELECT 1"})

    try:
        result = anyio.run(main)
    finally:
        gateway.stop()
    assert result.is_error
    text = result.content[0].text
    assert "orders-db" in text
    assert "lease_issue_failed" in text
    assert BROKER_PASSWORD not in text
    failed = issue_failures(pg.p)
    assert len(failed) == 1
    assert failed[0]["provider"] == "postgres"
    assert BROKER_PASSWORD not in json.dumps(failed)
    assert pg.p.leases.list() == []
    assert_never_stored(pg)


def test_a_role_that_could_create_objects_is_refused(pg: PgEnv) -> None:
    """Where PUBLIC may create in a schema (the default before PostgreSQL 15), a leased role could
    plant objects for others and could not be dropped cleanly: issuance is refused and no role is
    left behind."""
    pg.admin("GRANT CREATE ON SCHEMA public TO PUBLIC")
    try:
        with pytest.raises(LeaseIssueFailed):
            pg.issue(pg.task(["db.read"]))
    finally:
        pg.admin("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    assert pg.roles() == []
    assert issue_failures(pg.p)[-1]["error"] == "InsufficientPrivilege"


def test_a_role_lives_a_short_lease_renewed_while_its_task_lives(pg: PgEnv) -> None:
    """Issue 12.3: a role's `VALID UNTIL` is at most the provider's lease TTL ahead (not the task's
    deadline), the sweeper renews it while the task lives, and a renewal the database cannot take
    leaves the lease to expire at its own time: a role nobody could revoke stops logging in soon."""
    short = PostgresRoleProvider(pg.provider._admin_dsn, lease_ttl_s=60, connect_timeout_s=2)
    pg.p.register_provider(short, replace=True)
    task = pg.task(["db.read"])  # 600 s
    t0 = pg.clock.now()
    lease, data = pg.issue(task)
    assert lease.expires_at == t0 + 60

    def valid_until() -> datetime:
        [(until,)] = pg.admin("SELECT rolvaliduntil FROM pg_roles WHERE rolname = %s", (data["user"],))
        return until  # type: ignore[no-any-return]

    assert valid_until() == datetime.fromtimestamp(t0 + 60, UTC)
    pg.clock.advance(30)  # inside the last third: not yet due
    assert pg.p.leases.renew_due() == []
    pg.clock.advance(15)
    assert pg.p.leases.renew_due() == [lease.id]
    assert pg.p.leases.get(lease.id).expires_at == t0 + 45 + 60
    assert valid_until() == datetime.fromtimestamp(t0 + 45 + 60, UTC)
    assert "lease.renewed" in kinds(pg.p)
    # the database cannot be reached: no renewal, the lease expires at its own time
    pg.secrets.put(BROKER_SECRET, pg.dsn_for(pg.broker, BROKER_PASSWORD, free_port()), pg.clock.now())
    pg.clock.advance(50)
    assert pg.p.leases.renew_due() == []
    pg.clock.advance(20)
    pg.p.leases.sweep()
    assert pg.p.leases.get(lease.id).state is not LeaseState.ACTIVE
    assert valid_until() == datetime.fromtimestamp(t0 + 45 + 60, UTC)  # the role's own end stands
