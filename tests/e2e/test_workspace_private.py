"""The workspace is private to Proctor's user: another local Unix user can neither read the
database (audit records, task purposes, secret ciphertexts) nor take a lock on its `-shm` file to
freeze every write. Runs as a real second user, created here when the tests run as root."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from proctor.app import Proctor
from proctor.workspace import Workspace

OTHER = "proctor-other"
#: a Python the second user may run (the suite's own is under /root, which it cannot reach)
SYSTEM_PYTHON = "/usr/bin/python3"

PROBE = r"""
import fcntl, os, sys
ws = sys.argv[1]
results = {}
for name in ("proctor.db", "proctor.db-wal", "proctor.db-shm", "proctor.yaml", "upstreams.yaml",
             "policies/00-baseline.cedar", "keys"):
    path = os.path.join(ws, name)
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            with open(path, "r+b") as f:
                f.read(16)
                fcntl.lockf(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        results[name] = "OPEN"
    except PermissionError:
        results[name] = "denied"
    except FileNotFoundError:
        results[name] = "missing"
try:
    os.listdir(ws)
    results["<listing>"] = "OPEN"
except PermissionError:
    results["<listing>"] = "denied"
print(results)
sys.exit(1 if "OPEN" in results.values() else 0)
"""


@pytest.fixture
def other_user() -> str:
    if os.geteuid() != 0:
        pytest.skip("needs root to run a probe as a second Unix user (the CI runs as root)")
    if shutil.which("runuser") is None or shutil.which("useradd") is None:
        pytest.skip("runuser/useradd are not installed")
    if not Path(SYSTEM_PYTHON).is_file():
        pytest.skip(f"the probe runs under {SYSTEM_PYTHON} (the test's own Python lives under /root)")
    if subprocess.run(["id", OTHER], capture_output=True, check=False).returncode != 0:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", OTHER], check=True)
    return OTHER


def test_another_local_user_can_neither_read_nor_lock_the_workspace(other_user: str) -> None:
    """A workspace served by Proctor (database in WAL mode, with `-wal` and `-shm`) under a
    directory every user may traverse: the second user is refused every file and the listing."""
    parent = Path(tempfile.mkdtemp(prefix="proctor-private-", dir="/tmp"))
    try:
        os.chmod(parent, 0o755)
        ws, _ = Workspace.init(parent / "ws", config_text="trust_domain: acme.test\n")
        (ws.root / "upstreams.yaml").write_text("upstreams: []\n")  # as an operator's editor would
        with Proctor.open(ws) as p:
            p.agents.add("bot", "owner@acme.test")
            assert (ws.root / "proctor.db-shm").exists()
            probe = subprocess.run(
                ["runuser", "-u", other_user, "--", SYSTEM_PYTHON, "-c", PROBE, str(ws.root)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert probe.returncode == 0, probe.stdout + probe.stderr
            assert "denied" in probe.stdout
            # and Proctor still works with its own user
            assert p.agents.get("bot").owner == "owner@acme.test"
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def test_an_old_workspace_is_made_private_when_opened(tmp_path: Path) -> None:
    """A workspace created before (files 0644, directories 0755) is tightened on open."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    with Proctor.open(ws):
        pass
    for path in (ws.root, ws.policies_dir, ws.run_dir):
        os.chmod(path, 0o755)
    for path in (ws.root / "proctor.db", ws.config_path, ws.policies_dir / "00-baseline.cedar"):
        os.chmod(path, 0o644)
    with Proctor.open(ws):
        pass
    assert ws.root.stat().st_mode & 0o777 == 0o711
    assert ws.run_dir.stat().st_mode & 0o777 == 0o711
    assert ws.policies_dir.stat().st_mode & 0o777 == 0o700
    for path in (ws.root / "proctor.db", ws.config_path, ws.policies_dir / "00-baseline.cedar"):
        assert path.stat().st_mode & 0o777 == 0o600, path


def test_opening_never_loosens_what_the_operator_made_stricter(tmp_path: Path) -> None:
    """An operator who closed the workspace further (root or run/ 0700, a file 0400) keeps it so:
    opening only ever removes permission bits, it never grants traversal or write access."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    with Proctor.open(ws):
        pass
    os.chmod(ws.root, 0o700)
    os.chmod(ws.run_dir, 0o700)
    os.chmod(ws.config_path, 0o400)
    with Proctor.open(ws):
        pass
    assert ws.root.stat().st_mode & 0o777 == 0o700
    assert ws.run_dir.stat().st_mode & 0o777 == 0o700
    assert ws.config_path.stat().st_mode & 0o777 == 0o400


def test_an_audit_export_file_is_owner_only(tmp_path: Path) -> None:
    """`proctor audit export -o FILE` writes the private log: a new file is created 0600 whatever
    the umask, so an export next to the workspace is no more readable than the log itself."""
    import sys

    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test")
    out = tmp_path / "audit.jsonl"
    old = os.umask(0o022)
    try:
        done = subprocess.run(
            [str(Path(sys.executable).parent / "proctor"), "audit", "export", "-o", str(out)],
            env={**os.environ, "PROCTOR_WORKSPACE": str(ws.root)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr
    assert out.read_text().count("\n") >= 1
    assert out.stat().st_mode & 0o777 == 0o600


def test_init_in_an_existing_private_directory_keeps_it_private(tmp_path: Path) -> None:
    """`proctor init` in a directory the operator already closed (0700) does not open it to
    traversal by every user (0711); a directory it creates is 0711 as usual."""
    existing = tmp_path / "mine"
    existing.mkdir()
    os.chmod(existing, 0o700)
    Workspace.init(existing, config_text="trust_domain: acme.test\n")
    assert existing.stat().st_mode & 0o777 == 0o700
    fresh, _ = Workspace.init(tmp_path / "new", config_text="trust_domain: acme.test\n")
    assert fresh.root.stat().st_mode & 0o777 == 0o711
