"""`proctor user` as an operator runs it: passwords go in through stdin (or a prompt) only, are
stored as argon2id hashes and never printed; groups, disabling and a new password take effect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from proctor.errors import AuthError
from proctor.store.sqlite import SqliteStore
from proctor.types import Email
from proctor.workspace import Workspace

PROCTOR = [sys.executable, "-c", "from proctor.cli.main import main; main()"]
PW = "pv-PLANTED-passphrase-91c3"


def run(ws: Path, *args: str, input_: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROCTOR_WORKSPACE": str(ws), "COLUMNS": "200"}
    return subprocess.run(
        [*PROCTOR, *args], capture_output=True, text=True, env=env, timeout=120, input=input_, check=False
    )


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    w, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    return w.root


def test_user_lifecycle(ws: Path) -> None:
    """add (password on stdin, two groups), list, groups --add/--remove, passwd, disable: each
    changes the account as it says, and the password never shows in any output."""
    outputs = []
    r = run(
        ws,
        "user",
        "add",
        "ann@acme.test",
        "--name",
        "Ann",
        "-g",
        "payments-team",
        "-g",
        "ops",
        "--password-stdin",
        input_=PW + "\n",
    )
    assert r.returncode == 0, r.stderr
    outputs.append(r)
    r = run(ws, "user", "list", "--json")
    outputs.append(r)
    [row] = json.loads(r.stdout)
    assert row["email"] == "ann@acme.test"
    assert row["groups"] == ["ops", "payments-team"]
    assert row["password"] is True
    assert "password_hash" not in row
    r = run(ws, "user", "groups", "ann@acme.test", "--add", "finance", "--remove", "ops", "--json")
    outputs.append(r)
    assert json.loads(r.stdout)["groups"] == ["finance", "payments-team"]
    r = run(ws, "user", "passwd", "ann@acme.test", "--password-stdin", input_="another long passphrase\n")
    outputs.append(r)
    assert r.returncode == 0, r.stderr
    r = run(ws, "user", "disable", "ann@acme.test")
    outputs.append(r)
    assert r.returncode == 0
    for o in outputs:
        assert PW not in o.stdout + o.stderr
    store = SqliteStore(ws / "proctor.db")
    try:
        rec = store.get_user(Email("ann@acme.test"))
    finally:
        store.close()
    assert rec is not None
    assert rec.disabled
    assert rec.password_hash is not None
    assert rec.password_hash.startswith("$argon2id$")
    assert PW not in rec.password_hash


def test_new_password_replaces_the_old_one(ws: Path) -> None:
    """After `user passwd` the old password is refused and the new one signs in."""
    assert run(ws, "user", "add", "bob@acme.test", "--password-stdin", input_=PW + "\n").returncode == 0
    r = run(ws, "user", "passwd", "bob@acme.test", "--password-stdin", input_="a second passphrase\n")
    assert r.returncode == 0
    from proctor.app import Proctor

    with Proctor.open(Workspace(ws)) as p:
        with pytest.raises(AuthError):
            p.accounts.authenticate("bob@acme.test", PW)
        assert p.accounts.authenticate("bob@acme.test", "a second passphrase").email == "bob@acme.test"


def test_bad_input_is_refused(ws: Path) -> None:
    """A short password, a duplicate account and an unknown account exit 2 with a stable code."""
    r = run(ws, "user", "add", "c@acme.test", "--password-stdin", input_="short\n")
    assert r.returncode == 2
    assert "invalid_input" in r.stderr
    assert run(ws, "user", "add", "c@acme.test", "--password-stdin", input_=PW + "\n").returncode == 0
    r = run(ws, "user", "add", "c@acme.test", "--password-stdin", input_=PW + "\n")
    assert r.returncode == 2
    assert "conflict" in r.stderr
    r = run(ws, "user", "disable", "nobody@acme.test")
    assert r.returncode == 2
    assert "not_found" in r.stderr
