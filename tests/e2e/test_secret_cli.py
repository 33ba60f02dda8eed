"""`proctor secret` as an operator runs it: values go in through stdin only and never come out."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from proctor.credentials.secrets import SecretStore, encode_key
from proctor.store.sqlite import SqliteStore
from proctor.workspace import Workspace

PROCTOR = [sys.executable, "-c", "from proctor.cli.main import main; main()"]
PLANTED = "pv-PLANTED-4b1e9d27c0f3a865"


def run(
    ws: Path, *args: str, input_: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "PROCTOR_SECRETS_KEY"}
    full.update(PROCTOR_WORKSPACE=str(ws), COLUMNS="200", **(env or {}))
    return subprocess.run(
        [*PROCTOR, *args], capture_output=True, text=True, env=full, timeout=120, input=input_, check=False
    )


def read_secret(ws: Path, name: str, key: bytes | None = None) -> bytes:
    store = SqliteStore(ws / "proctor.db")
    try:
        env = {} if key is None else {"PROCTOR_SECRETS_KEY": encode_key(key)}
        return SecretStore.open(Workspace(ws), store, now=time.time(), env=env).get(name)
    finally:
        store.close()


def leaked(result: subprocess.CompletedProcess[str], value: str = PLANTED) -> bool:
    """True if ``value`` (or its base64) shows in the command's output."""
    text = result.stdout + result.stderr
    b64 = base64.b64encode(value.encode()).decode()
    return value in text or b64 in text or value.encode().hex() in text


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    w = tmp_path / "ws"
    assert run(w, "init", str(w)).returncode == 0
    return w


def test_put_reads_the_value_from_stdin(ws: Path) -> None:
    """`secret put NAME` stores stdin (one final newline dropped); the key file is created 0600."""
    r = run(ws, "secret", "put", "db.admin", input_=PLANTED + "\n")
    assert r.returncode == 0, r.stderr
    assert "version 1" in r.stdout
    assert read_secret(ws, "db.admin") == PLANTED.encode()
    assert stat.S_IMODE((ws / "keys" / "secrets.key").stat().st_mode) == 0o600
    r = run(ws, "secret", "put", "db.admin", "--keep-newline", input_="v2\n")
    assert r.returncode == 0
    assert "version 2" in r.stdout
    assert read_secret(ws, "db.admin") == b"v2\n"
    assert run(ws, "secret", "put", "empty", input_="").returncode == 2
    assert run(ws, "secret", "put", "Bad Name", input_="x").returncode == 2


def test_value_on_the_command_line_is_impossible(ws: Path) -> None:
    """`secret put NAME VALUE` is a usage error (exit 2) and stores nothing; there is no value option."""
    r = run(ws, "secret", "put", "db.admin", PLANTED, input_="")
    assert r.returncode == 2
    assert "unexpected extra argument" in r.stderr.lower()
    assert run(ws, "secret", "put", "db.admin", "--value", PLANTED).returncode == 2
    r = run(ws, "secret", "list", "--json")
    assert r.returncode == 0
    assert r.stdout.strip() == "[]"


def test_no_secret_command_or_audit_export_shows_a_value(ws: Path) -> None:
    """Plant a value, run every secret command and the audit export: the value never appears, while
    the audit log records each change with name, version and key id."""
    results = [
        run(ws, "secret", "put", "db.admin", input_=PLANTED),
        run(ws, "secret", "put", "api.key", input_=PLANTED + "-2"),
        run(ws, "secret", "list"),
        run(ws, "secret", "list", "--json"),
        run(ws, "secret", "rotate-key"),
        run(ws, "secret", "delete", "api.key"),
        run(ws, "secret", "delete", "api.key"),  # unknown now: an error, still no value
    ]
    assert [r.returncode for r in results] == [0, 0, 0, 0, 0, 0, 2], [r.stderr for r in results]
    assert "db.admin" in results[2].stdout
    assert '"version": 1' in results[3].stdout
    export = run(ws, "audit", "export")
    assert export.returncode == 0
    for r in [*results, export]:
        assert not leaked(r), r.args
        assert not leaked(r, PLANTED + "-2")
    key = (ws / "keys" / "secrets.key").read_bytes()
    for r in [*results, export]:
        assert encode_key(key) not in r.stdout + r.stderr
        assert key.hex() not in r.stdout + r.stderr
    for kind in ('"secret.stored"', '"secret.key_rotated"', '"secret.deleted"'):
        assert kind in export.stdout
    assert '"name":"db.admin"' in export.stdout
    assert '"key_id":' in export.stdout
    assert run(ws, "audit", "verify").returncode == 0
    assert read_secret(ws, "db.admin") == PLANTED.encode()


def test_rotate_key_replaces_the_key_file(ws: Path) -> None:
    """`secret rotate-key` re-encrypts under a new 0600 key file; the old key no longer opens the store."""
    assert run(ws, "secret", "put", "db.admin", input_=PLANTED).returncode == 0
    path = ws / "keys" / "secrets.key"
    old = path.read_bytes()
    r = run(ws, "secret", "rotate-key")
    assert r.returncode == 0, r.stderr
    assert "1 secret(s) re-encrypted" in r.stdout
    new = path.read_bytes()
    assert new != old
    assert len(new) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not (ws / "keys" / "secrets.key.new").exists()
    assert read_secret(ws, "db.admin") == PLANTED.encode()
    r = run(ws, "secret", "list", env={"PROCTOR_SECRETS_KEY": encode_key(old)})
    assert r.returncode == 0  # listing needs no key
    r = run(ws, "secret", "put", "x", input_="v", env={"PROCTOR_SECRETS_KEY": encode_key(old)})
    assert r.returncode == 2
    assert "secret_key_invalid" in r.stderr
    assert "does not match this store" in r.stderr


def test_rotate_key_from_the_environment(ws: Path) -> None:
    """With PROCTOR_SECRETS_KEY, rotate-key refuses unless given --new-key-env, then rotates the store
    to that key without writing any file."""
    k1, k2 = os.urandom(32), os.urandom(32)
    env1 = {"PROCTOR_SECRETS_KEY": encode_key(k1)}
    assert run(ws, "secret", "put", "db.admin", input_=PLANTED, env=env1).returncode == 0
    assert not (ws / "keys" / "secrets.key").exists()
    r = run(ws, "secret", "rotate-key", env=env1)
    assert r.returncode == 2
    assert "--new-key-env" in r.stderr
    assert "PROCTOR_SECRETS_KEY" in r.stderr
    r = run(ws, "secret", "rotate-key", "--new-key-env", "NEXT_KEY", env=env1)
    assert r.returncode == 2
    assert "NEXT_KEY" in r.stderr
    r = run(ws, "secret", "rotate-key", "--new-key-env", "NEXT_KEY", env={**env1, "NEXT_KEY": encode_key(k2)})
    assert r.returncode == 0, r.stderr
    assert encode_key(k2) not in r.stdout + r.stderr
    assert not (ws / "keys" / "secrets.key").exists()
    assert read_secret(ws, "db.admin", k2) == PLANTED.encode()
    r = run(ws, "secret", "delete", "db.admin", env=env1)
    assert r.returncode == 2
    assert "secret_key_invalid" in r.stderr


def test_missing_key_file_is_a_clear_error(ws: Path) -> None:
    """With secrets stored and the key file gone, commands fail with one line and no traceback."""
    assert run(ws, "secret", "put", "db.admin", input_=PLANTED).returncode == 0
    (ws / "keys" / "secrets.key").unlink()
    r = run(ws, "secret", "put", "other", input_="v")
    assert r.returncode == 2
    assert "secret_key_invalid" in r.stderr
    assert "missing" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (ws / "keys" / "secrets.key").exists()
