"""Shared fixtures. The PostgreSQL part starts one private server per test session, on first use.

Fixtures:

* ``pg_url`` (session): URL of the ``proctor_test`` database on the session's server;
* ``pg_fresh_url`` (function): URL of a new, empty database for this test alone, dropped afterwards;
* ``pg_migrated_url`` (function): URL of a new database already migrated to Proctor's schema (a copy of a
  template migrated once per session: much faster than migrating each time), dropped afterwards;
* ``pg_store`` (function): a :class:`proctor.store.postgres.PostgresStore` on ``pg_migrated_url``.

The server comes from ``tests/pgserver.py`` (which the benchmarks use too), or from ``PROCTOR_TEST_PG_URL``.
PostgreSQL is never skipped silently: if no server can be started, every test that needs one *fails*
with the reason, unless ``PROCTOR_SKIP_POSTGRES=1`` asks explicitly to skip them.
Tests that need PostgreSQL get the ``postgres`` marker, so ``-m "not postgres"`` deselects them.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from tests.pgserver import (
    ENV_SKIP,
    ENV_URL,
    PgServer,
    create_database,
    database_name,
    drop_database,
    start_postgres,
)

_PG_FIXTURES = {"pg_url", "pg_fresh_url", "pg_migrated_url", "pg_store"}
_started: dict[str, float] = {}
#: the session's PostgreSQL server (for the leak scan: its log and its databases' audit rows)
SESSION_PG: dict[str, PgServer] = {}
LEAK_SCAN_MARK = "leak_scan"


class SessionLog(logging.Handler):
    """Every log record of the session, formatted with its arguments, appended to one file that
    ``tests/test_zz_leak_scan.py`` searches for planted secrets."""

    def __init__(self, path: Path) -> None:
        super().__init__(logging.DEBUG)
        self.path = path
        self.lines = 0
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        self._f = path.open("a", encoding="utf-8", errors="replace")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record that cannot be formatted still gets its raw message scanned
            text = f"{record.name} {record.msg!r} {record.args!r}"
        if self._f.closed:  # never lose a line: reopen if something closed the file
            self._f = self.path.open("a", encoding="utf-8", errors="replace")
        self._f.write(text + "\n")
        self._f.flush()
        self.lines += 1

    def close(self) -> None:
        """Ignored: ``logging.config.dictConfig`` (uvicorn's, in several tests) closes every handler
        it finds, and this one must keep recording until the session ends (:meth:`finish`)."""

    def finish(self) -> None:
        self._f.close()
        super().close()


SESSION_LOG: dict[str, SessionLog] = {}


def pytest_sessionstart(session: pytest.Session) -> None:
    """Capture every log line of the session (Proctor's at DEBUG) for the leak scan."""
    path = Path(tempfile.mkdtemp(prefix="proctor-test-logs-")) / "session.log"
    handler = SessionLog(path)
    logging.getLogger().addHandler(handler)
    logging.getLogger("proctor").setLevel(logging.DEBUG)
    SESSION_LOG["handler"] = handler


@pytest.fixture(autouse=True)
def _keep_session_log() -> Iterator[None]:
    """Re-attach the session log if a test's logging configuration (uvicorn's) detached it."""
    yield
    handler = SESSION_LOG.get("handler")
    root = logging.getLogger()
    if handler is not None and handler not in root.handlers:
        root.addHandler(handler)
    if logging.getLogger("proctor").level != logging.DEBUG:
        logging.getLogger("proctor").setLevel(logging.DEBUG)


def pytest_sessionfinish(session: pytest.Session) -> None:
    handler = SESSION_LOG.pop("handler", None)
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        handler.finish()
        shutil.rmtree(handler.path.parent, ignore_errors=True)


def _skip_postgres() -> bool:
    return os.environ.get(ENV_SKIP, "") not in ("", "0")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a PostgreSQL database for the session: ``PROCTOR_TEST_PG_URL`` or a private server."""
    if _skip_postgres():
        pytest.skip(f"PostgreSQL tests skipped on request ({ENV_SKIP}=1)")
    hint = (
        f"fix the cause, point {ENV_URL} at a server, or set {ENV_SKIP}=1 to skip PostgreSQL tests explicitly"
    )
    problem = ""
    if existing := os.environ.get(ENV_URL):
        try:
            psycopg.connect(existing, connect_timeout=10).close()
        except psycopg.Error as exc:
            problem = f"{ENV_URL} is set but unusable: {exc}"
        if problem:
            pytest.fail(f"{problem}\n{hint}", pytrace=False)
        yield existing
        return
    t0 = time.monotonic()
    server: PgServer | None = None
    try:
        server = start_postgres()
    except Exception as exc:
        problem = f"could not start a PostgreSQL test server: {exc}"
    if server is None:
        pytest.fail(f"{problem}\n{hint}", pytrace=False)
    _started["seconds"] = time.monotonic() - t0
    SESSION_PG["server"] = server
    try:
        yield server.url
    finally:
        SESSION_PG.pop("server", None)
        server.stop()


@pytest.fixture
def pg_fresh_url(pg_url: str) -> Iterator[str]:
    """URL of a new empty database on the session's server; dropped (with its connections) afterwards."""
    url = create_database(pg_url)
    try:
        yield url
    finally:
        drop_database(pg_url, url)


@pytest.fixture(scope="session")
def _pg_template(pg_url: str) -> Iterator[str]:
    """Name of a database migrated once per session, copied by ``pg_migrated_url``."""
    from proctor.store.postgres import PostgresStore

    url = create_database(pg_url, "proctor_template")
    store = PostgresStore(url)
    try:
        store.migrate()
    finally:
        store.close()
    try:
        yield database_name(url)
    finally:
        drop_database(pg_url, url)


@pytest.fixture
def pg_migrated_url(pg_url: str, _pg_template: str) -> Iterator[str]:
    """URL of a new database with Proctor's schema already applied; dropped afterwards."""
    url = create_database(pg_url, template=_pg_template)
    try:
        yield url
    finally:
        drop_database(pg_url, url)


@pytest.fixture
def pg_store(pg_migrated_url: str) -> Iterator[Any]:
    """A migrated PostgresStore on a database of its own."""
    from proctor.store.postgres import PostgresStore

    store = PostgresStore(pg_migrated_url)
    try:
        yield store
    finally:
        store.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs PostgreSQL (by fixture or by a ``"postgres"`` parameter), and run
    the leak scan after everything else."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if _PG_FIXTURES & set(getattr(item, "fixturenames", ())) or "postgres" in params.values():
            item.add_marker(pytest.mark.postgres)
    items.sort(key=lambda item: item.get_closest_marker(LEAK_SCAN_MARK) is not None)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if "seconds" in _started:
        terminalreporter.write_line(f"PostgreSQL test server started in {_started['seconds']:.2f}s")
