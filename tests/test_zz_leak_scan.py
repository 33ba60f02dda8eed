"""No secret value the suite planted appears in any log line or audit record the suite produced.

Runs after every other test (``tests/conftest.py`` sorts it last). It searches:

* every log record of the session, Proctor's at DEBUG (``tests/conftest.py`` captures them);
* every file the tests wrote under pytest's base temp directory: audit exports, gateway and
  upstream logs, and the SQLite stores themselves (audit rows, leases, secrets' ciphertext);
* a fresh JSONL audit export (``proctor audit export``) of every SQLite store the tests left;
* the session PostgreSQL server's log and every row of every table in every database still on it
  (audit records, leases, secrets).

The values are ``tests.planted`` (API keys injected by the gateway, plus values generated at run
time such as role passwords and signed tokens) and the planted passwords of the provider tests.
"""

from __future__ import annotations

import importlib
import io
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from tests import planted
from tests.conftest import SESSION_LOG, SESSION_PG

from proctor.audit.export import export_jsonl
from proctor.store import open_store

pytestmark = pytest.mark.leak_scan

#: other modules' planted constants (module, attribute): imported if the module exists
_MORE = [
    ("tests.e2e.test_postgres_role", "BROKER_PASSWORD"),
    ("tests.e2e.test_jwt_downstream", "CLIENT_SECRET"),
    ("tests.e2e.test_token_exchange", "CLIENT_SECRET"),
]
MAX_FILE_BYTES = 256 * 1024 * 1024


def values() -> set[str]:
    found = set(planted.planted())
    for mod, attr in _MORE:
        try:
            v = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError):
            continue
        if isinstance(v, str) and len(v) >= 12:
            found.add(v)
    return found


def scan_bytes(label: str, data: bytes, needles: Iterable[bytes], hits: list[str]) -> None:
    for n in needles:
        if n in data:
            hits.append(f"{label}: contains a planted value starting {n[:6]!r}")


def scan_tree(root: Path, needles: list[bytes], hits: list[str]) -> int:
    """Scan every regular file under ``root``; returns how many were read."""
    count = 0
    for path in sorted(root.rglob("*")):
        try:
            if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_FILE_BYTES:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        count += 1
        scan_bytes(str(path), data, needles, hits)
    return count


def scan_postgres(url: str, needles: list[bytes], hits: list[str]) -> int:
    """Scan every row of every public table in every database of the server; returns rows read."""
    rows = 0
    base = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=10) as conn:
        dbs = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datallowconn")]
    for db in dbs:
        try:
            conn = psycopg.connect(f"{base}/{db}", autocommit=True, connect_timeout=10)
        except psycopg.Error:
            continue  # dropped since it was listed
        with conn:
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT table_name FROM information_schema.tables"
                    " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                )
            ]
            for table in tables:
                q = sql.SQL("SELECT t::text FROM public.{} AS t").format(sql.Identifier(table))
                for (text,) in conn.execute(q):
                    rows += 1
                    scan_bytes(f"postgres {db}.{table}", str(text).encode(), needles, hits)
    return rows


def scan_exports(root: Path, needles: list[bytes], hits: list[str]) -> int:
    """Export the audit log of every SQLite store under ``root`` as ``proctor audit export`` does,
    and scan the export; returns how many stores were exported."""
    count = 0
    for path in sorted(root.rglob("*.db")):
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as probe:
                has_log = probe.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_records'"
                ).fetchone()
        except sqlite3.Error:
            continue  # not a database, or one a test corrupted on purpose
        if not has_log:
            continue
        try:
            store = open_store(f"sqlite:///{path}", migrate=False)
        except Exception:
            continue
        try:
            buf = io.StringIO()
            export_jsonl(store, buf)
        except Exception:
            continue
        finally:
            store.close()
        count += 1
        scan_bytes(f"audit export of {path}", buf.getvalue().encode(), needles, hits)
    return count


def test_scanner_finds_a_planted_value(tmp_path: Path) -> None:
    """The scan is not blind: a canary written to a file is found."""
    canary = b"canary-value-1f2e3d4c5b"
    (tmp_path / "a.log").write_bytes(b"x" * 100 + canary + b"y")
    hits: list[str] = []
    assert scan_tree(tmp_path, [canary], hits) == 1
    assert len(hits) == 1
    assert "a.log" in hits[0]


def test_no_planted_secret_in_any_log_or_audit_record(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if request.session.testscollected < 100:
        pytest.skip("the leak scan checks what the whole suite produced: run it with the suite")
    needles = sorted(v.encode() for v in values())
    assert planted.API_KEY.encode() in needles
    hits: list[str] = []
    handler = SESSION_LOG.get("handler")
    assert handler is not None, "tests/conftest.py did not capture the session's log"
    assert handler.lines > 0, "no log line was captured: the scan would prove nothing"
    scan_bytes("session log", handler.path.read_bytes(), needles, hits)
    exports = scan_exports(tmp_path_factory.getbasetemp(), needles, hits)
    assert exports > 20, f"only {exports} audit logs could be exported: the scan would prove little"
    files = scan_tree(tmp_path_factory.getbasetemp(), needles, hits)
    assert files > 50, f"only {files} files under the base temp directory: the scan would prove little"
    server = SESSION_PG.get("server")
    if server is not None:
        scan_bytes("postgres server log", server.log.read_bytes(), needles, hits)
        scan_postgres(server.url, needles, hits)
    assert not hits, "\n".join(hits)
