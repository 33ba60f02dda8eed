"""A throwaway PostgreSQL server for tests and benchmarks. Standard library and psycopg only.

Used three ways:

* by ``tests/conftest.py`` (fixtures ``pg_url``, ``pg_fresh_url``, ``pg_migrated_url``, ``pg_store``);
* from Python, e.g. the benchmark runner (run from the repository root, as pytest does with
  ``pythonpath = ["."]``)::

      from tests.pgserver import temporary_postgres
      with temporary_postgres() as url:
          ...

* from the shell::

      python tests/pgserver.py run -- python bench/run.py   # PROCTOR_TEST_PG_URL is set for the command
      python tests/pgserver.py start                        # prints URL and data dir, leaves it running
      python tests/pgserver.py stop /tmp/proctor-pgtest-xxxx

The server is a private cluster: ``initdb`` into ``/tmp/proctor-pgtest-<random>``, listening
on 127.0.0.1 only on a free port, its unix socket inside the temp dir. ``pg_hba.conf`` trusts the unix
socket and the admin user (``postgres``) over TCP; every other role needs its password over TCP
(SCRAM-SHA-256), so a dynamic role's password matters and a dropped role cannot log in. ``fsync`` stays on (benchmarks
measure durable commits). ``initdb`` refuses to run as root, so under root every PostgreSQL binary runs as
the ``postgres`` system user. When no binaries are found, ``scripts/ensure-postgres.sh`` installs them.

``PROCTOR_TEST_PG_URL`` points everything at an existing server instead (it needs CREATEDB rights).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
ENSURE_SCRIPT = ROOT / "scripts" / "ensure-postgres.sh"
ENV_URL = "PROCTOR_TEST_PG_URL"
ENV_SKIP = "PROCTOR_SKIP_POSTGRES"
DB_NAME = "proctor_test"
PG_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """The harness could not find, install or start a PostgreSQL server."""


# finding and installing ---------------------------------------------------------------
def _version_key(path: Path) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in path.parent.parent.name.split("."))
    except ValueError:
        return (0,)


def find_pg_bin() -> Path | None:
    """The newest ``bin`` dir holding ``initdb`` and ``pg_ctl``: ``$PG_BIN``, Debian's layout, then ``PATH``."""
    candidates: list[Path] = []
    if env := os.environ.get("PG_BIN"):
        candidates.append(Path(env))
    candidates += [
        p.parent
        for p in sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_version_key, reverse=True)
    ]
    candidates += [p.parent for p in sorted(Path("/usr/local/pgsql").glob("bin/initdb"))]
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).parent)
    for c in candidates:
        if (c / "initdb").is_file() and (c / "pg_ctl").is_file():
            return c
    return None


def ensure_pg_bin() -> Path:
    """Find the PostgreSQL binaries, running ``scripts/ensure-postgres.sh`` to install them if missing."""
    found = find_pg_bin()
    if found is not None:
        return found
    if not ENSURE_SCRIPT.is_file():
        raise PostgresUnavailable(f"no PostgreSQL binaries found and {ENSURE_SCRIPT} is missing")
    proc = subprocess.run(["bash", str(ENSURE_SCRIPT)], capture_output=True, text=True, check=False)
    found = find_pg_bin()
    if proc.returncode != 0 or found is None:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
        raise PostgresUnavailable(
            f"no PostgreSQL binaries found and {ENSURE_SCRIPT.name} could not install them "
            f"(exit {proc.returncode}):\n" + "\n".join(tail)
        )
    return found


# running as the postgres user ------------------------------------------------------------
def _as_pg_user() -> bool:
    return os.geteuid() == 0


def _ensure_system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(PG_USER)


def _run(cmd: Sequence[str], *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full = ["runuser", "-u", PG_USER, "--", *cmd] if _as_pg_user() else list(cmd)
    return subprocess.run(full, capture_output=True, text=True, check=False, timeout=timeout, cwd="/")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


HBA = f"""\
# written by tests/pgserver.py: the admin user is trusted, every other role must prove its password
local   all   all                  trust
host    all   {PG_USER}   127.0.0.1/32   trust
host    all   all         127.0.0.1/32   scram-sha-256
"""


def _write_hba(data: Path) -> None:
    """Replace initdb's all-trust ``pg_hba.conf`` (keeping its owner and mode)."""
    with open(data / "pg_hba.conf", "w", encoding="utf-8") as f:
        f.write(HBA)


# the server ----------------------------------------------------------------------------
@dataclass
class PgServer:
    """A running private cluster."""

    base: Path
    bin: Path
    port: int
    db: str = DB_NAME

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def log(self) -> Path:
        return self.base / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{self.db}"

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its directory."""
        try:
            if (self.data / "postmaster.pid").exists():
                _run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"], timeout=60)
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def start_postgres(*, shared_buffers: str = "128MB", attempts: int = 3) -> PgServer:
    """initdb a private cluster in a fresh temp dir, start it and create ``proctor_test``.

    Raises :class:`PostgresUnavailable` with the reason (and the server log's tail) on any failure.
    """
    pg_bin = ensure_pg_bin()
    base = Path(tempfile.mkdtemp(prefix="proctor-pgtest-"))
    server: PgServer | None = None
    try:
        if _as_pg_user():
            user = _ensure_system_user()
            os.chown(base, user.pw_uid, user.pw_gid)
        base.chmod(0o700)
        server = PgServer(base=base, bin=pg_bin, port=0)
        # --no-sync only skips flushing initdb's own template files: the server itself runs with fsync on.
        init = _run(
            [
                str(pg_bin / "initdb"),
                "-D",
                str(server.data),
                "-U",
                PG_USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ]
        )
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed (exit {init.returncode}):\n{init.stdout}{init.stderr}")
        _write_hba(server.data)
        (base / "sock").mkdir()
        if _as_pg_user():
            os.chown(base / "sock", user.pw_uid, user.pw_gid)
        for attempt in range(attempts):
            server.port = free_port()
            opts = (
                f"-c listen_addresses=127.0.0.1 -p {server.port} -k {base / 'sock'} "
                f"-c shared_buffers={shared_buffers} -c fsync=on -c max_connections=200"
            )
            started = _run(
                [
                    str(pg_bin / "pg_ctl"),
                    "-D",
                    str(server.data),
                    "-l",
                    str(server.log),
                    "-o",
                    opts,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
                timeout=90,
            )
            if started.returncode == 0:
                break
            if attempt == attempts - 1 or "already in use" not in server.log_tail():
                raise PostgresUnavailable(
                    f"pg_ctl start failed (exit {started.returncode}): {started.stdout}{started.stderr}\n"
                    f"server log:\n{server.log_tail()}"
                )
        with psycopg.connect(
            server.url.rsplit("/", 1)[0] + "/postgres", autocommit=True, connect_timeout=10
        ) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(server.db)))
        return server
    except BaseException:
        if server is not None:
            server.stop()
        else:
            shutil.rmtree(base, ignore_errors=True)
        raise


@contextlib.contextmanager
def temporary_postgres() -> Iterator[str]:
    """Yield the URL of a PostgreSQL database for the duration of the block.

    ``PROCTOR_TEST_PG_URL`` if set (left running), otherwise a private server started and then stopped
    and deleted on exit.
    """
    if existing := os.environ.get(ENV_URL):
        yield existing
        return
    server = start_postgres()
    try:
        yield server.url
    finally:
        server.stop()


# databases ----------------------------------------------------------------------------
def _with_db(url: str, db: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + db))


def create_database(url: str, prefix: str = "proctor_t", *, template: str = "template0") -> str:
    """Create a database next to ``url``'s, a copy of ``template`` (empty by default); return its URL."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        )
    return _with_db(url, name)


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def drop_database(url: str, db_url: str) -> None:
    """Drop the database ``db_url`` names, disconnecting whoever still uses it."""
    name = database_name(db_url)
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# command line --------------------------------------------------------------------------
def _main(argv: list[str]) -> int:
    usage = "usage: pgserver.py start | stop DIR | run -- COMMAND..."
    if not argv:
        print(usage, file=sys.stderr)
        return 2
    if argv[0] == "start":
        server = start_postgres()
        print(f"PROCTOR_TEST_PG_URL={server.url}")
        print(f"PGSERVER_DIR={server.base}")
        return 0
    if argv[0] == "stop" and len(argv) == 2:
        base = Path(argv[1])
        if not base.name.startswith("proctor-pgtest-"):
            print(f"refusing to stop {base}: not a proctor-pgtest directory", file=sys.stderr)
            return 2
        bin_dir = find_pg_bin()
        if bin_dir is None:
            print("no PostgreSQL binaries found", file=sys.stderr)
            return 1
        PgServer(base=base, bin=bin_dir, port=0).stop()
        return 0
    if argv[0] == "run":
        cmd = argv[2:] if argv[1:2] == ["--"] else argv[1:]
        if not cmd:
            print(usage, file=sys.stderr)
            return 2
        # A SIGTERM (e.g. from make or CI cancelling) still stops the server and deletes its files.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        t0 = time.monotonic()
        with temporary_postgres() as url:
            print(f"pgserver: PostgreSQL ready at {url} in {time.monotonic() - t0:.1f}s", file=sys.stderr)
            return subprocess.run(cmd, env={**os.environ, ENV_URL: url}, check=False).returncode
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
