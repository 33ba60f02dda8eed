"""The embedded default engine: SQLite in WAL mode, one writer connection, a reader per thread.

``synchronous=FULL`` makes every commit durable before it returns, which is what lets the audit
log promise that a decision is on disk before the caller hears it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from importlib import resources
from pathlib import Path

from proctor.errors import StoreCorrupt, StoreError, StoreFull, StoreLocked, StoreUnavailable
from proctor.store._sql import Cursor, SqlStore, apply_pending
from proctor.store.base import WriteWouldBlock

__all__ = [
    "CHECKPOINT_INTERVAL_S",
    "WAL_SIZE_LIMIT",
    "SqliteStore",
    "map_sqlite_errors",
]


@contextmanager
def map_sqlite_errors() -> Iterator[None]:
    """Convert ``sqlite3`` errors into Proctor's store errors with stable codes."""
    try:
        yield
    except sqlite3.Error as exc:
        msg = str(exc).lower()
        if "locked" in msg or "busy" in msg:
            raise StoreLocked("database is locked by another process; try again", cause=msg) from exc
        if "full" in msg:
            raise StoreFull("database or disk is full: nothing was written", cause=msg) from exc
        if "malformed" in msg or "not a database" in msg or "corrupt" in msg:
            raise StoreCorrupt("database file is corrupt; restore it from a backup", cause=msg) from exc
        if "unable to open" in msg or "readonly" in msg or "read-only" in msg:
            raise StoreUnavailable(f"cannot open the database: {msg}", cause=msg) from exc
        if isinstance(exc, sqlite3.IntegrityError):
            raise
        raise StoreError(f"database error: {msg}", cause=msg) from exc


#: how often the background thread folds the WAL back into the database file: often, so that the
#: WAL stays small and each commit overwrites blocks the file already has (an idle round is ~20 µs)
CHECKPOINT_INTERVAL_S = 0.05
#: how long a write that must not wait may wait for another thread of this process to finish
NOWAIT_LOCK_S = 0.005
#: bytes of WAL kept once it starts over (the file is written again from the top, not regrown)
WAL_SIZE_LIMIT = 64 << 20


def _create_private(path: Path) -> None:
    """Create the database file owner-only (0600) before SQLite does: SQLite gives its ``-wal`` and
    ``-shm`` files the database file's mode, so no other local user can read the log or lock the
    shared memory. An existing file is left as it is (``Workspace.make_private`` tightens it)."""
    if str(path) in ("", ":memory:") or path.exists():
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreUnavailable(f"cannot create the database file `{path}`: {exc.strerror}") from None


class SqliteStore(SqlStore):
    """SQLite engine. ``url`` is ``sqlite:///relative/or/absolute/path.db``."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self._busy_ms = busy_timeout_ms
        self._wlock = threading.Lock()
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        self._wal = False
        self._relaxed: sqlite3.Connection | None = None
        _create_private(self.path)
        with map_sqlite_errors():
            self._writer = self._connect()
            # Commits never copy the WAL back into the database themselves (that work would land
            # on whichever commit crossed the threshold); a background thread checkpoints instead.
            self._writer.execute("PRAGMA wal_autocheckpoint = 0")
            # when the WAL starts over, a file grown past this by a burst is cut back to it
            self._writer.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
        self._stop = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="proctor-sqlite-checkpoint", daemon=True
        )
        self._checkpointer.start()

    @property
    def reads_never_wait(self) -> bool:
        """In WAL mode a read never waits for another connection's write lock: the store guard
        (docs/adr/0019) lets reads run on the calling thread, and sends writes to its workers."""
        return self._wal

    def _checkpoint_loop(self, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        conn: sqlite3.Connection | None = None
        last = -1
        while not self._stop.wait(interval_s):
            try:
                if conn is None:
                    conn = self._connect()
                last = self._checkpoint_once(conn, last)
            except (sqlite3.Error, StoreError):  # the next round tries again; commits are unaffected
                continue

    def _checkpoint_once(self, conn: sqlite3.Connection, last: int = -1) -> int:
        """Fold the WAL back into the database so that the next commit starts the WAL over.

        SQLite restarts the WAL (writes it again from the top, over blocks the file already has)
        only when a write transaction begins after a checkpoint has copied *every* frame. Under a
        steady stream of commits a checkpoint running beside them never catches up, the WAL grows
        for ever and every commit's fsync also has to extend the file, which costs ext4 a journal
        commit: about half as much again. So the bulk is copied beside the writers, then a second
        pass copies the few frames they added meanwhile with this process's writers held for that
        moment. (Writers in other processes may still race it; the next round tries again.)

        Returns the WAL's frame count, passed back as ``last``: an unchanged WAL (idle) is left alone.
        """
        busy, log_frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if busy or log_frames <= 0 or copied < log_frames or log_frames == last:
            return int(log_frames)  # idle, or a reader holds an old snapshot: holding writers won't help
        with self._wlock:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(log_frames)

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreUnavailable("store is closed")
        conn = sqlite3.connect(
            self.path, timeout=self._busy_ms / 1000, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_ms)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        # NORMAL is only crash-safe for a committed row in WAL mode (a filesystem may refuse WAL)
        self._wal = bool(mode) and str(mode[0]).lower() == "wal"
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        with map_sqlite_errors():
            cur = self._reader().cursor()
            try:
                yield Cursor(cur)
            finally:
                cur.close()

    def _relaxed_writer(self) -> sqlite3.Connection:
        """A second writer connection with ``synchronous=NORMAL``, used under the same write lock:
        in WAL mode its commits reach the WAL without an fsync, and the next FULL commit on this file
        makes them durable. (A connection of its own spares two PRAGMAs per relaxed transaction.)"""
        conn = self._relaxed
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA synchronous = NORMAL")
            self._relaxed = conn
        return conn

    @contextmanager
    def writes_nowait(self) -> Iterator[None]:
        """Writes on this thread inside the block take the write lock at once or raise
        :class:`WriteWouldBlock` having written nothing: for a caller on an event loop, which must
        never wait on another process's transaction (issue 12.2)."""
        self._local.nowait = True
        try:
            yield
        finally:
            self._local.nowait = False

    def _begin_nowait(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            msg = str(exc).lower()
            if "locked" in msg or "busy" in msg:
                raise WriteWouldBlock("another connection holds the database's write lock") from exc
            raise
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_ms)}")

    @contextmanager
    def _write(self, *, relaxed: bool = False) -> Iterator[Cursor]:
        nowait = getattr(self._local, "nowait", False)
        if nowait and not self._wal:
            # with a rollback journal, COMMIT waits (busy timeout) for every reader to finish
            raise WriteWouldBlock("without WAL a commit may wait for readers")
        # nowait: the WAL checkpointer and the log's own checkpoint hold this lock for microseconds;
        # a few milliseconds' wait spares handing those commits over, and still bounds the loop
        if not self._wlock.acquire(timeout=NOWAIT_LOCK_S if nowait else -1):
            raise WriteWouldBlock("another thread of this process is writing")
        try:
            with map_sqlite_errors():
                conn = self._relaxed_writer() if relaxed and self._wal else self._writer
                if nowait:
                    self._begin_nowait(conn)
                else:
                    conn.execute("BEGIN IMMEDIATE")
                cur = conn.cursor()
                try:
                    yield Cursor(cur)
                    conn.execute("COMMIT")
                except BaseException:
                    # SQLite rolls back by itself on some errors (SQLITE_FULL, SQLITE_IOERR, ...): only
                    # roll back a transaction that is still open, and never let that hide the original
                    # error. A failed COMMIT is rolled back too, so the writer connection is never left
                    # inside a transaction.
                    if conn.in_transaction:
                        with suppress(sqlite3.Error):
                            conn.execute("ROLLBACK")
                    raise
                finally:
                    cur.close()
        finally:
            self._wlock.release()

    def _lock_audit_chain(self, cur: Cursor, writer: int) -> None:
        """``BEGIN IMMEDIATE`` already holds SQLite's single write lock across processes."""

    def _audit_seqs(self, cur: Cursor, n: int) -> list[int]:
        # under BEGIN IMMEDIATE: nobody else writes meanwhile, so max + 1 is free
        cur.execute("SELECT COALESCE(MAX(seq), 0) FROM audit_records")
        top = int(cur.fetchone()[0])
        return list(range(top + 1, top + 1 + n))

    def _is_unique_violation(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and "unique" in str(exc).lower()

    def migrate(self) -> None:
        from yoyo import get_backend

        src = resources.files("proctor.store") / "migrations" / "sqlite"
        with resources.as_file(src) as folder, map_sqlite_errors():
            backend = get_backend(f"sqlite:///{self.path.resolve()}")
            apply_pending(backend, str(folder))

    def close(self) -> None:
        self._stop.set()
        if self._checkpointer.is_alive() and self._checkpointer is not threading.current_thread():
            self._checkpointer.join(timeout=5)
        with suppress(sqlite3.Error):
            self._writer.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self._closed = True
        with self._all_lock:
            conns, self._all = self._all, []
        for c in conns:
            with suppress(sqlite3.Error):
                c.close()

    def epoch(self) -> int:
        """Read on every decision, so it skips the generic cursor wrapper."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        try:
            if conn is None:
                conn = self._reader()
            row = conn.execute("SELECT value FROM epoch WHERE id = 1").fetchone()
        except sqlite3.Error:
            with map_sqlite_errors():
                raise
        return int(row[0]) if row else 0
