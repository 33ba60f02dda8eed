"""The PostgreSQL engine: for several Proctor processes sharing one store.

A small connection pool serves every thread. Reads run on autocommit connections; each write is one
transaction that commits before the call returns (durable as long as the server keeps its default
``synchronous_commit = on``). Each audit writer (one per process) appends to a chain of its own,
serialised by a lock on its own ``audit_writers`` row: writers never wait for each other, and a
stalled one holds up only itself (docs/adr/0036). Every connection is bounded: ``lock_timeout``,
``idle_in_transaction_session_timeout`` (the server ends the transaction of a holder that stopped
or lost its network), TCP keepalives and ``tcp_user_timeout``.

The password never appears in messages or in :attr:`PostgresStore.url`, which is redacted.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

import psycopg
import psycopg.errors as pge
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from proctor.errors import (
    ConfigError,
    StoreCorrupt,
    StoreError,
    StoreFull,
    StoreLocked,
    StoreUnavailable,
)
from proctor.redact import redact_url
from proctor.store._sql import _AUDIT_COLS, Cursor, SqlStore, apply_pending

__all__ = [
    "PgErrorMapper",
    "PostgresStore",
]

#: during a kill switch, how long a store call waits for a free pooled connection before it opens
#: one of its own (see :meth:`PostgresStore.urgent`)
URGENT_POOL_WAIT_S = 0.05

_SQL_CACHE: dict[str, str] = {}

#: libpq's TCP settings against a dead connection (a network partition, a host gone without a
#: FIN): keepalive probes after 5 s idle, every 2 s, 3 unanswered ones end it; and data sent but
#: unacknowledged for 10 s ends it (``tcp_user_timeout``, ms). Without them a call on a dead
#: connection waits for the kernel's retransmission timeout (minutes), holding a store worker
#: thread (proctor.store.guard) all that time. Values given in the URL win.
TCP_SETTINGS: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
}


def _pg_sql(sql: str) -> str:
    """Rewrite the shared SQL's ``?`` placeholders to psycopg's ``%s`` (the shared SQL has no literal ``?``)."""
    out = _SQL_CACHE.get(sql)
    if out is None:
        out = sql.replace("?", "%s")
        if len(_SQL_CACHE) < 1024:  # the shared SQL is a fixed set; IN (?, ?, …) lists vary in length
            _SQL_CACHE[sql] = out
    return out


def _where(info: dict[str, Any]) -> str:
    host = str(info.get("host") or info.get("hostaddr") or "localhost")
    port = str(info.get("port") or "5432")
    return f"{host}:{port}"


class PgErrorMapper:
    """Converts psycopg and pool errors to Proctor's store errors; scrubs the password from messages."""

    def __init__(self, where: str, password: str | None) -> None:
        self.where = where
        self._password = password

    def scrub(self, text: str) -> str:
        if self._password:
            text = text.replace(self._password, "***")
        return text

    def convert(self, exc: BaseException) -> BaseException:
        """The Proctor error for ``exc``; integrity errors pass through (the shared code handles them)."""
        msg = self.scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        if isinstance(exc, psycopg.IntegrityError):
            return exc
        if isinstance(exc, PoolClosed):
            return StoreUnavailable("store is closed", cause=msg)
        if isinstance(exc, PoolTimeout):
            return StoreUnavailable(f"cannot reach PostgreSQL at {self.where}: {msg}", cause=msg)
        state = getattr(exc, "sqlstate", None) or ""
        if state == "53100":  # disk_full
            return StoreFull("PostgreSQL is out of disk space: nothing was written", cause=msg)
        if state in ("XX001", "XX002"):  # data_corrupted, index_corrupted
            return StoreCorrupt("PostgreSQL reports corrupt data; restore it from a backup", cause=msg)
        if state in ("55P03", "40001", "40P01"):  # lock_not_available, serialization_failure, deadlock
            return StoreLocked("the database is locked by another transaction; try again", cause=msg)
        if (
            state.startswith(("08", "28", "57P"))  # connection, authentication, shutdown / dropped
            or state in ("3D000", "53300")  # no such database, too many connections
            or (isinstance(exc, psycopg.OperationalError) and not state)  # libpq: refused, timeout, DNS
        ):
            return StoreUnavailable(f"cannot reach PostgreSQL at {self.where}: {msg}", cause=msg)
        if isinstance(exc, psycopg.Error):
            return StoreError(f"PostgreSQL error: {msg}", cause=msg)
        return exc

    @contextmanager
    def mapping(self) -> Iterator[None]:
        try:
            yield
        except (psycopg.Error, PoolTimeout, PoolClosed) as exc:
            converted = self.convert(exc)
            if converted is exc:
                raise
            raise converted from None


class _PgCursor(Cursor):
    __slots__ = ()

    def _sql(self, sql: str) -> str:
        return _pg_sql(sql)


_AUDIT_TYPES = [
    "int8",
    "float8",
    "text",
    "text",
    "text",
    "text",
    "text",
    "text",
    "bytea",
    "bytea",
    "bytea",
    "int8",
    "int8",
]


class PostgresStore(SqlStore):
    """PostgreSQL engine. ``url`` is ``postgresql://user:password@host:port/dbname[?params]``.

    ``url`` (the attribute) is the redacted form, safe to print. ``lock_timeout_ms`` bounds how long a
    write waits for a row or table lock held elsewhere before failing with :class:`StoreLocked`;
    ``idle_in_transaction_ms`` how long the server lets a transaction sit idle (its process stopped,
    paused or cut off) before it ends the session and releases its locks (0: never);
    ``pool_timeout_s`` how long a call waits for a working connection before :class:`StoreUnavailable`.
    A pooled connection that sat idle longer than ``check_idle_s`` is pinged before use, so a server
    restart costs no failed call; busy connections skip the ping.
    """

    def __init__(
        self,
        url: str,
        *,
        max_connections: int = 8,
        min_connections: int = 1,
        connect_timeout_s: int = 2,
        pool_timeout_s: float = 2.0,
        lock_timeout_ms: int = 5000,
        idle_in_transaction_ms: int = 30_000,
        check_idle_s: float = 1.0,
    ) -> None:
        if url.startswith("postgres://"):
            url = "postgresql://" + url.removeprefix("postgres://")
        self._conninfo = url
        self.url = redact_url(url)
        try:
            info = conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise ConfigError(f"invalid PostgreSQL URL `{self.url}`") from exc
        password = info.get("password")
        self._errors = PgErrorMapper(_where(info), None if password is None else str(password))
        self._check_idle = check_idle_s
        self._last_used: weakref.WeakKeyDictionary[psycopg.Connection[Any], float] = (
            weakref.WeakKeyDictionary()
        )
        self._used_lock = threading.Lock()
        #: kill switches in progress in this process (see :meth:`urgent`)
        self._urgent = 0
        # what the URL's options say comes last and wins
        options = (
            f"-c lock_timeout={int(lock_timeout_ms)}"
            f" -c idle_in_transaction_session_timeout={int(idle_in_transaction_ms)}"
            f" {info.get('options', '')}"
        ).strip()
        kwargs: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": info.get("connect_timeout", connect_timeout_s),
            "application_name": info.get("application_name", "proctor"),
            "options": options,
            **{name: info.get(name, value) for name, value in TCP_SETTINGS.items()},
        }
        # Fail fast, with libpq's own reason, when the server cannot be reached at all.
        with self._errors.mapping():
            psycopg.connect(url, **kwargs).close()
        self._pool_args: dict[str, Any] = {
            "kwargs": kwargs,
            "min_size": min(min_connections, max_connections),
            "max_size": max_connections,
            "open": False,
            "timeout": pool_timeout_s,
            "check": self._check,
            "reset": self._returned,
            "name": "proctor",
        }
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(url, **self._pool_args)
        try:
            with self._errors.mapping():
                self._pool.open(wait=True, timeout=pool_timeout_s)
        except BaseException:
            self._pool.close()
            raise

    # pool callbacks ----------------------------------------------------------------
    def _returned(self, conn: psycopg.Connection[Any]) -> None:
        with self._used_lock:
            self._last_used[conn] = time.monotonic()

    def _check(self, conn: psycopg.Connection[Any]) -> None:
        if conn.broken or conn.closed:
            raise psycopg.OperationalError("connection is broken")
        with self._used_lock:
            last = self._last_used.get(conn)
        if last is None or time.monotonic() - last >= self._check_idle:
            ConnectionPool.check_connection(conn)

    # the kill switch's connection ------------------------------------------------------
    @contextmanager
    def urgent(self) -> Iterator[None]:
        """While a kill switch (an agent's suspension, a task's end) runs in this process, a store
        call that finds no free pooled connection at once does not wait for one: it opens a
        connection of its own for the call and closes it after (its audit record, written by the
        audit writer thread, included). When PostgreSQL refuses that connection too (the role's
        ``CONNECTION LIMIT``, ``max_connections``), the call fails with :class:`StoreUnavailable`
        saying so, and the caller falls back to the kill file (proctor.killswitch). docs/adr/0034."""
        with self._used_lock:
            self._urgent += 1
        try:
            yield
        finally:
            with self._used_lock:
                self._urgent -= 1

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if not self._urgent:
            pool = self._pool
            try:
                conn = pool.getconn()
            except PoolTimeout as exc:
                raise self._pool_timeout(pool, exc) from None
            try:
                yield conn
            finally:
                pool.putconn(conn)
            return
        try:
            pooled: psycopg.Connection[Any] | None = self._pool.getconn(timeout=URGENT_POOL_WAIT_S)
        except PoolTimeout:
            pooled = None
        if pooled is not None:
            try:
                yield pooled
            finally:
                self._pool.putconn(pooled)
            return
        try:
            own = psycopg.connect(self._conninfo, **self._pool_args["kwargs"])
        except psycopg.Error as exc:
            raise StoreUnavailable(
                f"PostgreSQL at {self._errors.where} refused the kill switch a connection"
                f" ({self._errors.scrub(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)}):"
                " every connection the role may open is taken; lower store_pool_size on the"
                " Proctor processes or raise the role's CONNECTION LIMIT (docs/adr/0034)",
                cause=getattr(exc, "sqlstate", None) or type(exc).__name__,
            ) from None
        with own:
            yield own

    def _pool_timeout(self, pool: ConnectionPool[psycopg.Connection[Any]], exc: PoolTimeout) -> BaseException:
        """A wait for a pooled connection that ran out: a pool whose every connection is open and
        in use is busy (PostgreSQL is up: ``store_pool_size``), anything else unreachable."""
        stats = pool.get_stats()
        if stats.get("pool_size", 0) >= pool.max_size and stats.get("pool_available", 0) == 0:
            return StoreUnavailable(
                f"all {pool.max_size} connections of this process's PostgreSQL pool stayed busy for"
                f" {pool.timeout:g}s: raise store_pool_size (within the role's CONNECTION LIMIT)"
                " or find what holds them",
                cause="pool_busy",
            )
        return self._errors.convert(exc)

    # engine hooks ------------------------------------------------------------------
    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        with self._errors.mapping(), self._connection() as conn, conn.cursor() as cur:
            yield _PgCursor(cur)

    @contextmanager
    def _write(self, *, relaxed: bool = False) -> Iterator[Cursor]:
        with (
            self._errors.mapping(),
            self._connection() as conn,
            conn.transaction(),
            conn.cursor() as cur,
        ):
            yield _PgCursor(cur)

    _ROW_LOCK = " FOR SHARE"
    # conflicts with itself (and FOR SHARE), not with the key-share locks of foreign-key checks
    _FILING_LOCK = " FOR NO KEY UPDATE"

    def _lock_audit_chain(self, cur: Cursor, writer: int) -> None:
        # the writer's own row: two appends of one writer never race for the same wseq, and no
        # other writer ever waits on it (no lock shared by all writers, docs/adr/0036)
        cur.execute("SELECT id FROM audit_writers WHERE id = ? FOR UPDATE", (writer,))

    def _insert_audit(self, cur: Cursor, rows: list[tuple[Any, ...]]) -> None:
        # COPY, binary: one statement for the whole batch, rows encoded by psycopg's C code (an
        # INSERT per row cost the server ~3x, and a text-array unnest the client as much, issue 19)
        raw = cur._cur
        with raw.copy(f"COPY audit_records ({_AUDIT_COLS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_AUDIT_TYPES)
            for r in rows:
                copy.write_row(r)

    def _audit_seqs(self, cur: Cursor, n: int) -> list[int]:
        # a sequence: never blocks, never hands a value out twice (a rolled-back append leaves a gap)
        cur.execute("SELECT nextval('audit_records_seq') FROM generate_series(1, ?)", (n,))
        return sorted(int(r[0]) for r in cur.fetchall())

    def _is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, pge.UniqueViolation)

    def epoch(self) -> int:
        """Read on every decision: one round trip on a pooled connection, no wrapper."""
        with self._errors.mapping(), self._connection() as conn:
            row = conn.execute("SELECT value FROM epoch WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    # lifecycle -------------------------------------------------------------------
    def migrate(self) -> None:
        from yoyo import get_backend

        yoyo_url = "postgresql+psycopg://" + self._conninfo.split("://", 1)[1]
        src = resources.files("proctor.store") / "migrations" / "postgres"
        with resources.as_file(src) as folder, self._errors.mapping():
            backend = get_backend(yoyo_url)
            apply_pending(backend, str(folder))

    def reconnect(self) -> None:
        """Replace the pool after an outage (see proctor.store.guard): a pool whose reconnection
        attempts failed backs off for seconds, while the server may answer again now. The old
        pool is closed in the background once the connections in use come back."""
        if self._pool.closed:  # the store was closed meanwhile: it stays closed
            return
        new: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(self._conninfo, **self._pool_args)
        new.open(wait=False)
        old, self._pool = self._pool, new
        threading.Thread(target=old.close, kwargs={"timeout": 1.0}, daemon=True).start()

    def close(self) -> None:
        self._pool.close()
