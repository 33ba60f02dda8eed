"""Lease benchmark: a dynamic PostgreSQL role, issued and revoked through ``p.leases``.

Run ``python -m bench.bench_lease_pg`` from the repository root. ``bench_postgres_roundtrip`` returns
``{"name", "p50_us", "p99_us", "ops_per_s"}`` like every other bench row. It starts a private
PostgreSQL server (``tests/pgserver.py``; ``PROCTOR_TEST_PG_URL`` points it at an existing one),
creates a database with one table and a non-superuser broker role, and times ``issue`` then
``revoke`` of one role: two admin connections, the SCRAM verifier, ``CREATE ROLE`` and its grants in
one transaction, then ``NOLOGIN``, session termination, the revokes and ``DROP ROLE``, plus
Proctor's store writes and audit records. Everything it created is dropped afterwards.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from bench.stats import row
from proctor.app import Proctor
from proctor.credentials.providers.postgres import PostgresRoleProvider
from proctor.credentials.secrets import SecretStore
from proctor.types import LeaseState
from proctor.workspace import Workspace

ROUNDS = 50
WARMUP = 3
CONFIG = """\
trust_domain: acme.test
tools:
  - {name: db.read, effect: read}
"""


def _roundtrips(url: str, tmpdir: Path, rounds: int) -> list[float]:
    from tests.pgserver import create_database, database_name, drop_database

    db_url = create_database(url, "proctor_bench_lease")
    db = database_name(db_url)
    prefix = f"pb{secrets.token_hex(3)}_"
    broker, password = f"{prefix}broker", secrets.token_urlsafe(24)
    parts = urlsplit(db_url)
    host_port = f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
    samples: list[float] = []
    try:
        with psycopg.connect(db_url, autocommit=True) as c:
            b = sql.Identifier(broker)
            c.execute("CREATE TABLE public.orders (id int PRIMARY KEY, item text)")
            c.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEROLE PASSWORD {}").format(b, sql.Literal(password)))
            for stmt in (
                "GRANT pg_signal_backend TO {b}",
                "GRANT CONNECT ON DATABASE {db} TO {b} WITH GRANT OPTION",
                "GRANT USAGE ON SCHEMA public TO {b} WITH GRANT OPTION",
                "GRANT SELECT ON public.orders TO {b} WITH GRANT OPTION",
            ):
                c.execute(sql.SQL(stmt).format(b=b, db=sql.Identifier(db)))
        ws, _ = Workspace.init(tmpdir / "ws-lease-pg", config_text=CONFIG)
        with Proctor.open(ws) as p:
            store = SecretStore.open(ws, p.store, now=p.clock.now(), env={})
            store.put("pg.broker", f"postgresql://{broker}:{password}@{host_port}/{db}", p.clock.now())
            p.register_provider(PostgresRoleProvider(lambda n: store.get(n).decode()), replace=True)
            agent = p.add_agent("bot", "o@acme.test")
            task = p.start_task(
                agent="bot", purpose="bench", allow=["db.*"], requested_by="r@acme.test", ttl_s=3600
            ).task
            spec = {
                "name": "orders",
                "admin_secret": "pg.broker",
                "tables": ["public.orders"],
                "role_prefix": prefix,
            }
            for i in range(WARMUP + rounds):
                t0 = time.perf_counter_ns()
                lease, _ = p.leases.issue(task, agent, "postgres", spec)
                done = p.leases.revoke(lease.id, "bench")
                if i >= WARMUP:
                    samples.append((time.perf_counter_ns() - t0) / 1000)
                assert done.state is LeaseState.REVOKED, done
                assert not done.pending, done.last_error
    finally:
        drop_database(url, db_url)
        with psycopg.connect(url, autocommit=True) as c:
            rows = c.execute(
                "SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s) ORDER BY rolname = %s",
                (prefix, broker),
            ).fetchall()
            for (name,) in rows:
                c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
    return samples


def bench_postgres_roundtrip(tmpdir: Path, rounds: int = ROUNDS) -> dict[str, Any]:
    """``lease.postgres.roundtrip``: issue + revoke of one dynamic role against a private server."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.pgserver import temporary_postgres

    with temporary_postgres() as url:
        samples = _roundtrips(url, Path(tmpdir), rounds)
    return row("lease.postgres.roundtrip", samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print(bench_postgres_roundtrip(Path(tmp)))


if __name__ == "__main__":
    main()
