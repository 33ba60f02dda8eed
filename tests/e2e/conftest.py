"""Fixtures the end-to-end tests share.

* ``pg_server`` (function): a private PostgreSQL server for this test alone, which it may stop,
  hang or restart (the session's server, ``tests/conftest.py``, is shared and must stay up);
  skipped when ``PROCTOR_SKIP_POSTGRES`` is set or no server can be started;
* ``sqlite_write_lock`` (function): ``with sqlite_write_lock(path):`` holds the write lock of the
  SQLite database at ``path`` from another process (``BEGIN IMMEDIATE``) for the block.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from tests.pgserver import PgServer, PostgresUnavailable, start_postgres


@pytest.fixture
def pg_server() -> Iterator[PgServer]:
    if os.environ.get("PROCTOR_SKIP_POSTGRES"):
        pytest.skip("PROCTOR_SKIP_POSTGRES is set")
    try:
        server = start_postgres()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


#: holds the write lock of the database named on its command line until its stdin closes
LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
db.execute("ROLLBACK")
"""


@contextmanager
def _hold_write_lock(db: Path) -> Iterator[None]:
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert locker.stdout is not None
        assert locker.stdout.readline().strip() == b"locked"
        yield
    finally:
        assert locker.stdin is not None
        locker.stdin.close()
        locker.wait(timeout=10)


@pytest.fixture
def sqlite_write_lock() -> Callable[[Path], AbstractContextManager[None]]:
    return _hold_write_lock
