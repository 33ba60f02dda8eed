"""Store failures surface as Proctor's store errors with stable codes, and never lose committed data.

SQLite: locked, corrupt, full. PostgreSQL: unreachable (the password never leaks), missing database,
lock timeouts, killed connections, and the mapping of every error class the server can report.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import psycopg.errors as pge
import pytest
from psycopg_pool import PoolClosed, PoolTimeout
from tests.pgserver import free_port

from proctor.errors import (
    StoreCorrupt,
    StoreError,
    StoreFull,
    StoreLocked,
    StoreUnavailable,
)
from proctor.redact import redact_url
from proctor.store import open_store
from proctor.store._sql import GENESIS
from proctor.store.base import AgentRecord, PendingAudit
from proctor.store.postgres import PgErrorMapper, PostgresStore
from proctor.store.sqlite import SqliteStore
from proctor.types import AgentName, AgentStatus, Email, SpiffeId

T0 = 1_767_225_600.0
PASSWORD = "Sup3r-s3cret-pw"


def sha_chain(seq: int, prev_hash: bytes, body: bytes) -> bytes:
    return hashlib.sha256(seq.to_bytes(8, "big") + prev_hash + body).digest()


def agent(name: str) -> AgentRecord:
    return AgentRecord(
        AgentName(name),
        SpiffeId(f"spiffe://acme.test/agent/{name}"),
        Email("alice@example.com"),
        AgentStatus.ACTIVE,
        (),
        T0,
        T0,
    )


def pending(i: int, body: bytes | None = None) -> PendingAudit:
    return PendingAudit(ts=T0 + i, kind="decision", body=body if body is not None else b'{"i":%d}' % i)


def assert_chain_intact(store: SqliteStore | PostgresStore, n: int) -> None:
    rows = list(store.iter_audit())
    assert [r.seq for r in rows] == list(range(1, n + 1))
    prev = GENESIS
    for r in rows:
        assert r.prev_hash == prev
        assert r.hash == sha_chain(r.seq, r.prev_hash, r.body)
        prev = r.hash


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    """A migrated SQLite store holding one agent and three audit records, with a short busy timeout."""
    store = SqliteStore(tmp_path / "proctor.db", busy_timeout_ms=100)
    try:
        store.migrate()
        store.add_agent(agent("bot"))
        store.append_audit([pending(1), pending(2), pending(3)], sha_chain)
        yield store
    finally:
        store.close()


# SQLite --------------------------------------------------------------------------------
def test_sqlite_locked_raises_store_locked_and_loses_nothing(sqlite_store: SqliteStore) -> None:
    """While another connection holds the write lock, writes fail with StoreLocked; nothing committed is lost."""
    blocker = sqlite3.connect(sqlite_store.path, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreLocked) as info:
            sqlite_store.add_agent(agent("other"))
        assert info.value.code == "store_locked"
        with pytest.raises(StoreLocked):
            sqlite_store.append_audit([pending(4)], sha_chain)
        assert sqlite_store.get_agent(AgentName("bot")) is not None  # WAL: reads still work
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    sqlite_store.add_agent(agent("other"))
    sqlite_store.append_audit([pending(4)], sha_chain)
    assert [a.name for a in sqlite_store.list_agents()] == ["bot", "other"]
    assert_chain_intact(sqlite_store, 4)


def test_sqlite_garbage_file_raises_store_corrupt_and_is_left_untouched(tmp_path: Path) -> None:
    """A file that is not a database fails with StoreCorrupt on open, and Proctor does not modify it."""
    path = tmp_path / "proctor.db"
    garbage = bytes(range(256)) * 64
    path.write_bytes(garbage)
    with pytest.raises(StoreCorrupt) as info:
        open_store(f"sqlite:///{path}")
    assert info.value.code == "store_corrupt"
    with pytest.raises(StoreCorrupt):
        SqliteStore(path)
    assert path.read_bytes() == garbage


def test_sqlite_damaged_pages_raise_store_corrupt(tmp_path: Path) -> None:
    """A database whose pages were overwritten fails with StoreCorrupt (open or query)."""
    path = tmp_path / "proctor.db"
    store = SqliteStore(path)
    store.migrate()
    for i in range(300):
        store.add_agent(agent(f"bot-{i}"))
    store.close()
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    assert len(data) > 4 * page
    data[page:] = b"\xa5" * (len(data) - page)  # keep the header page, wreck every other page
    path.write_bytes(bytes(data))

    def use() -> None:
        s = SqliteStore(path)
        try:
            s.list_agents()
        finally:
            s.close()

    with pytest.raises(StoreCorrupt):
        use()


def test_sqlite_full_raises_store_full_and_loses_nothing(sqlite_store: SqliteStore) -> None:
    """When the database cannot grow, a write fails with StoreFull, rolls back whole, and keeps what was there."""
    head = sqlite_store.audit_head()
    writer = sqlite_store._writer  # the one write connection; max_page_count is per connection
    pages = writer.execute("PRAGMA page_count").fetchone()[0]
    writer.execute(f"PRAGMA max_page_count = {pages}")
    big = b"x" * 256_000
    with pytest.raises(StoreFull) as info:
        sqlite_store.append_audit([pending(4), pending(5, body=big)], sha_chain)
    assert info.value.code == "store_full"
    assert sqlite_store.audit_head() == head
    writer.execute("PRAGMA max_page_count = 1073741823")
    sqlite_store.append_audit([pending(4), pending(5, body=big)], sha_chain)
    reopened = SqliteStore(sqlite_store.path)
    try:
        assert [a.name for a in reopened.list_agents()] == ["bot"]
        assert_chain_intact(reopened, 5)
    finally:
        reopened.close()


def test_sqlite_closed_store_raises_store_error(sqlite_store: SqliteStore) -> None:
    """Using a closed store raises a StoreError, not a raw sqlite3 error."""
    sqlite_store.close()
    with pytest.raises(StoreError):
        sqlite_store.add_agent(agent("late"))


# PostgreSQL: no server needed ------------------------------------------------------------------
def test_postgres_unreachable_raises_store_unavailable_without_the_password() -> None:
    """Nothing listening: StoreUnavailable naming host:port, with the password nowhere in the error."""
    port = free_port()
    url = f"postgresql://proctor:{PASSWORD}@127.0.0.1:{port}/proctor"
    with pytest.raises(StoreUnavailable) as info:
        PostgresStore(url, connect_timeout_s=2)
    err = info.value
    assert err.code == "store_unavailable"
    assert f"cannot reach PostgreSQL at 127.0.0.1:{port}" in err.message
    assert err.__cause__ is None
    assert err.__suppress_context__ is True
    for text in (str(err), repr(err), err.message, repr(err.details), repr(err.to_dict())):
        assert PASSWORD not in text
    with pytest.raises(StoreUnavailable) as via_open:
        open_store(url)
    assert PASSWORD not in str(via_open.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://app:pw@db:5432/p", "postgresql://app:***@db:5432/p"),
        ("postgresql://app@db/p?sslmode=require", "postgresql://app@db/p?sslmode=require"),
        (
            "postgresql://db/p?user=app&password=pw&sslmode=verify-full",
            "postgresql://db/p?user=app&password=***&sslmode=verify-full",
        ),
        ("postgresql://app:p%40ss@[::1]:5433/p", "postgresql://app:***@[::1]:5433/p"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    """Passwords are redacted in the user-info part and in the query string; everything else stays."""
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (pge.DiskFull("could not extend file"), StoreFull),
        (pge.DataCorrupted("invalid page in block 7"), StoreCorrupt),
        (pge.IndexCorrupted("index is corrupt"), StoreCorrupt),
        (pge.LockNotAvailable("canceling statement due to lock timeout"), StoreLocked),
        (pge.SerializationFailure("could not serialize access"), StoreLocked),
        (pge.DeadlockDetected("deadlock detected"), StoreLocked),
        (pge.AdminShutdown("terminating connection due to administrator command"), StoreUnavailable),
        (pge.CannotConnectNow("the database system is starting up"), StoreUnavailable),
        (pge.ConnectionFailure("connection failure"), StoreUnavailable),
        (pge.InvalidPassword("password authentication failed"), StoreUnavailable),
        (pge.InvalidCatalogName('database "x" does not exist'), StoreUnavailable),
        (pge.TooManyConnections("too many clients"), StoreUnavailable),
        (psycopg.OperationalError("connection refused"), StoreUnavailable),
        (PoolTimeout("couldn't get a connection after 10.00 sec"), StoreUnavailable),
        (PoolClosed("the pool is closed"), StoreUnavailable),
        (pge.QueryCanceled("canceling statement due to statement timeout"), StoreError),
        (pge.UndefinedTable('relation "agents" does not exist'), StoreError),
    ],
)
def test_postgres_error_mapping(exc: Exception, expected: type[StoreError]) -> None:
    """Each PostgreSQL error class maps to the Proctor store error with the matching stable code."""
    mapped = PgErrorMapper("db:5432", PASSWORD).convert(exc)
    assert type(mapped) is expected


def test_postgres_error_mapping_passes_integrity_errors_and_scrubs_passwords() -> None:
    """Integrity errors pass through for the shared code; a password in a server message is scrubbed."""
    mapper = PgErrorMapper("db:5432", PASSWORD)
    dup = pge.UniqueViolation("duplicate key")
    assert mapper.convert(dup) is dup
    mapped = mapper.convert(psycopg.OperationalError(f"bad things near {PASSWORD}"))
    assert isinstance(mapped, StoreUnavailable)
    assert PASSWORD not in str(mapped)
    assert PASSWORD not in repr(mapped.details)


# PostgreSQL: against the test server ------------------------------------------------------------
def test_open_store_migrates_an_empty_postgres_database(pg_fresh_url: str) -> None:
    """open_store on an empty database applies every migration once; opening it again is a no-op."""
    for _ in range(2):
        store = open_store(pg_fresh_url)
        try:
            assert isinstance(store, PostgresStore)
            assert store.epoch() == 0
            assert store.list_agents() == []
        finally:
            store.close()
    with psycopg.connect(pg_fresh_url) as conn:
        rows = conn.execute("SELECT migration_id FROM _yoyo_migration ORDER BY migration_id").fetchall()
    from importlib import resources

    folder = resources.files("proctor.store") / "migrations" / "postgres"
    expected = sorted(f.name.removesuffix(".sql") for f in folder.iterdir() if f.name.endswith(".sql"))
    assert expected[:3] == ["0001.initial", "0002.tool-pins", "0003.secrets"]
    assert [r[0] for r in rows] == expected


def test_postgres_url_attribute_is_redacted(pg_migrated_url: str) -> None:
    """A store opened with a password (postgres:// scheme too) works and never shows it in ``url``."""
    with_pw = pg_migrated_url.replace("postgresql://postgres@", f"postgres://postgres:{PASSWORD}@")
    store = PostgresStore(with_pw)
    try:
        assert PASSWORD not in store.url
        assert store.url.startswith("postgresql://postgres:***@127.0.0.1:")
        store.add_agent(agent("bot"))
        assert store.get_agent(AgentName("bot")) is not None
    finally:
        store.close()


def test_postgres_missing_database_raises_store_unavailable(pg_url: str) -> None:
    """A database that does not exist is StoreUnavailable, naming where it looked."""
    missing = pg_url.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(StoreUnavailable, match=r"cannot reach PostgreSQL at 127\.0\.0\.1:\d+.*no_such_db"):
        PostgresStore(missing)


def test_postgres_lock_timeout_raises_store_locked_and_loses_nothing(pg_migrated_url: str) -> None:
    """A table locked by another session makes writes fail with StoreLocked after lock_timeout; data survives."""
    store = PostgresStore(pg_migrated_url, lock_timeout_ms=200)
    try:
        store.add_agent(agent("bot"))
        with psycopg.connect(pg_migrated_url) as blocker:
            blocker.execute("LOCK TABLE agents IN ACCESS EXCLUSIVE MODE")
            t0 = time.monotonic()
            with pytest.raises(StoreLocked) as info:
                store.add_agent(agent("other"))
            assert time.monotonic() - t0 < 5
            assert info.value.code == "store_locked"
            blocker.rollback()
        store.add_agent(agent("other"))
        assert [a.name for a in store.list_agents()] == ["bot", "other"]
        assert store.epoch() == 2
    finally:
        store.close()


def test_postgres_audit_appends_lock_only_their_own_writer(pg_migrated_url: str) -> None:
    """Another session holding one writer's lock (a process stopped mid-append) blocks that writer's
    appends only: other writers commit, and nothing database-wide is taken (docs/adr/0036)."""
    store = PostgresStore(pg_migrated_url, lock_timeout_ms=200)
    try:
        one = store.register_audit_writer(T0, "host", 1, "one")
        two = store.register_audit_writer(T0, "host", 2, "two")
        store.append_audit([pending(1)], sha_chain, writer=one)
        with psycopg.connect(pg_migrated_url) as other:
            other.execute("SELECT id FROM audit_writers WHERE id = %s FOR UPDATE", (one,))
            with pytest.raises(StoreLocked):
                store.append_audit([pending(2)], sha_chain, writer=one)
            rows = store.append_audit([pending(3), pending(4)], sha_chain, writer=two)
            assert [(r.writer, r.wseq) for r in rows] == [(two, 1), (two, 2)]
            store.add_agent(agent("bot"))
            other.rollback()
        row = store.append_audit([pending(2)], sha_chain, writer=one)[0]
        assert (row.writer, row.wseq) == (one, 2)
        got = list(store.iter_audit())
        assert [(r.writer, r.wseq) for r in got] == [(one, 1), (two, 1), (two, 2), (one, 2)]
        assert [r.seq for r in got] == sorted({r.seq for r in got})  # the global order, no repeats
    finally:
        store.close()


def test_postgres_connections_are_bounded(pg_migrated_url: str) -> None:
    """Every pooled connection carries lock_timeout and idle_in_transaction_session_timeout, so a
    holder that stopped or lost its network cannot hold a lock for good; the URL's options win."""
    store = PostgresStore(pg_migrated_url, lock_timeout_ms=1234, idle_in_transaction_ms=4321)
    try:
        with store._read() as cur:
            cur.execute("SHOW lock_timeout")
            assert cur.fetchone()[0] == "1234ms"
            cur.execute("SHOW idle_in_transaction_session_timeout")
            assert cur.fetchone()[0] == "4321ms"
    finally:
        store.close()
    sep = "&" if "?" in pg_migrated_url else "?"
    store = PostgresStore(pg_migrated_url + sep + "options=-c%20idle_in_transaction_session_timeout%3D777")
    try:
        with store._read() as cur:
            cur.execute("SHOW idle_in_transaction_session_timeout")
            assert cur.fetchone()[0] == "777ms"
    finally:
        store.close()


def _kill_store_connections(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'proctor'"
        ).fetchone()
    return int(row[0]) if row else 0


def test_postgres_reconnects_when_idle_connections_were_killed(pg_migrated_url: str) -> None:
    """Connections killed while idle (server restart, failover) are replaced before use: no call fails."""
    store = PostgresStore(pg_migrated_url, check_idle_s=0)
    try:
        store.add_agent(agent("bot"))
        assert _kill_store_connections(pg_migrated_url) >= 1
        assert store.get_agent(AgentName("bot")) is not None
        store.add_agent(agent("other"))
        assert store.epoch() == 2
    finally:
        store.close()


def test_postgres_killed_busy_connection_fails_one_call_then_recovers(pg_migrated_url: str) -> None:
    """Without the idle ping, a killed connection fails one call with StoreUnavailable; the next call works."""
    store = PostgresStore(pg_migrated_url, check_idle_s=3600)
    try:
        store.add_agent(agent("bot"))
        assert _kill_store_connections(pg_migrated_url) >= 1
        with pytest.raises(StoreUnavailable):
            store.epoch()
        assert store.get_agent(AgentName("bot")) is not None
    finally:
        store.close()


def test_postgres_truncate_of_audit_records_is_refused(pg_store: PostgresStore, pg_migrated_url: str) -> None:
    """TRUNCATE skips row triggers, so a statement trigger refuses it: the audit log stays append-only."""
    pg_store.append_audit([pending(1)], sha_chain)
    with psycopg.connect(pg_migrated_url) as conn, pytest.raises(psycopg.Error, match="append-only"):
        conn.execute("TRUNCATE audit_records")
    assert_chain_intact(pg_store, 1)


def test_postgres_closed_store_raises_store_unavailable(pg_store: PostgresStore) -> None:
    """Using a closed store raises StoreUnavailable, not a raw pool error."""
    pg_store.close()
    with pytest.raises(StoreUnavailable, match="closed"):
        pg_store.epoch()
    with pytest.raises(StoreUnavailable, match="closed"):
        pg_store.add_agent(agent("late"))


def _wal_frames(db: Path) -> int:
    """``mxFrame`` of the WAL index header in the ``-shm`` file: frames since the WAL last started
    over (read without running a checkpoint, which would change what is measured)."""
    header = (db.parent / (db.name + "-shm")).read_bytes()[:48]
    return int.from_bytes(header[16:20], sys.byteorder)


def test_sqlite_wal_starts_over_under_a_steady_stream_of_commits(tmp_path: Path) -> None:
    """A checkpoint beside busy writers never catches up by itself, so the WAL would grow for ever;
    the second, writer-held pass lets the next commit start the WAL over while writes go on."""
    store = SqliteStore(tmp_path / "proctor.db")
    try:
        store.migrate()
        store._stop.set()  # this test drives the checkpoints itself
        store._checkpointer.join(timeout=5)
        ckpt = sqlite3.connect(store.path, isolation_level=None)
        stop = threading.Event()
        n = 0

        def writer() -> None:
            nonlocal n
            while not stop.is_set():
                n += 1
                store.append_audit([pending(n)], sha_chain)

        t = threading.Thread(target=writer)
        t.start()
        try:
            for _ in range(20):
                time.sleep(0.02)
                store._checkpoint_once(ckpt)
        finally:
            stop.set()
            t.join()
        ckpt.close()
        # Every commit adds at least one frame: a WAL never started over holds more frames than
        # there were commits; one started over each round holds about a round's worth (~n/20 commits).
        frames = _wal_frames(store.path)
        assert frames < n, f"{frames} frames in the WAL after {n} commits: it never started over"
        assert_chain_intact(store, n)
    finally:
        store.close()


def test_postgres_connections_carry_keepalive_and_tcp_user_timeout(pg_migrated_url: str) -> None:
    """libpq gets TCP keepalives and ``tcp_user_timeout``, so a connection dead after a network
    partition errs within seconds instead of holding a store worker for minutes; a URL's own
    value wins over the default."""
    sep = "&" if "?" in pg_migrated_url else "?"
    for url, user_timeout in (
        (pg_migrated_url, "10000"),
        (f"{pg_migrated_url}{sep}tcp_user_timeout=30000", "30000"),
    ):
        store = PostgresStore(url)
        try:
            with store._pool.connection() as conn:
                params = conn.info.get_parameters()
        finally:
            store.close()
        assert params.get("keepalives") == "1"
        assert params.get("keepalives_idle") == "5"
        assert params.get("keepalives_interval") == "2"
        assert params.get("keepalives_count") == "3"
        assert params.get("tcp_user_timeout") == user_timeout


def test_postgres_follower_prints_a_slow_writers_record_below_a_seq_already_read(
    pg_migrated_url: str,
) -> None:
    """A writer that took its seq and then stalled (before its commit) while another writer committed
    later seqs: `audit tail -f` paging by seq would skip its record for good; the follower, which
    reads each writer's chain past its own mark, prints it once it commits (docs/adr/0036)."""
    from proctor.audit.query import AuditFollower

    store = PostgresStore(pg_migrated_url)
    try:
        slow = store.register_audit_writer(T0, "host", 1, "slow")
        fast = store.register_audit_writer(T0, "host", 2, "fast")
        _, follower = AuditFollower.start(store, 0)
        in_tx, release = threading.Event(), threading.Event()

        def stalling(seq: int, prev_hash: bytes, body: bytes) -> bytes:
            in_tx.set()  # the seqs are taken: the transaction is open until released
            assert release.wait(10)
            return sha_chain(seq, prev_hash, body)

        got: list[Any] = []
        t = threading.Thread(
            target=lambda: got.extend(store.append_audit([pending(1)], stalling, writer=slow))
        )
        t.start()
        assert in_tx.wait(10)
        later = store.append_audit([pending(2), pending(3)], sha_chain, writer=fast)
        assert [(r.writer, r.wseq) for r in follower.poll()] == [(fast, 1), (fast, 2)]
        release.set()
        t.join(10)
        assert got
        assert got[0].seq < later[0].seq  # committed below what was already read
        assert [(r.seq, r.writer) for r in follower.poll()] == [(got[0].seq, slow)]
        assert follower.poll() == []
    finally:
        store.close()
