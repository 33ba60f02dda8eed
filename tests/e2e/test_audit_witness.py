"""The audit trail's edges (issue 12.4): a witness outside the workspace catches a truncated log
whose anchor was deleted with it and a workspace restored from an old copy; a log with checkpoints
refuses to verify without its anchor; a missing audit key is reported as missing, once."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from proctor.app import Proctor
from proctor.errors import ConfigError
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent


def _workspace(tmp_path: Path, witness: Path | None) -> Workspace:
    extra = f"audit: {{witness: {witness}}}\n" if witness is not None else ""
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n" + extra)
    return ws


def _work(ws: Workspace, agents: range) -> int:
    """Some records, then a clean close (a checkpoint at the head); returns the head's seq."""
    with Proctor.open(ws) as p:
        for i in agents:
            p.add_agent(f"bot{i}", "o@acme.test")
        p.audit.flush()
        head = p.audit.head_seq
    return head


def _verify(ws: Workspace) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "proctor"), "audit", "verify", "--workspace", str(ws.root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _truncate_everything(ws: Workspace, keep: int) -> None:
    """What someone who can write the database and the anchor does to hide the tail: drop the
    guards, delete the records after `keep` and every checkpoint, and delete the anchor."""
    with sqlite3.connect(ws.root / "proctor.db") as db:
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            db.execute(f'DROP TRIGGER "{name}"')
        db.execute("DELETE FROM audit_records WHERE seq > ?", (keep,))
        db.execute("DELETE FROM audit_checkpoints")
    (ws.keys_dir / "audit-anchor.json").unlink()


def test_a_truncated_log_with_its_anchor_deleted_fails_against_the_witness(tmp_path: Path) -> None:
    witness = tmp_path / "witness" / "acme.jsonl"
    witness.parent.mkdir()
    ws = _workspace(tmp_path, witness)
    head = _work(ws, range(10))
    assert _verify(ws).returncode == 0
    assert witness.read_text().count("\n") >= 1
    _truncate_everything(ws, keep=head - 8)
    r = _verify(ws)
    assert r.returncode == 1, r.stdout
    assert "TAMPERED" in r.stderr


def test_without_a_witness_the_same_attack_is_the_documented_gap(tmp_path: Path) -> None:
    """The control: with no witness, deleting records, checkpoints and anchor together leaves a log
    that verifies (README: whoever can write `keys/` is Proctor) — so the witness test above can fail."""
    ws = _workspace(tmp_path, None)
    head = _work(ws, range(10))
    _truncate_everything(ws, keep=head - 8)
    assert _verify(ws).returncode == 0


def test_a_workspace_restored_from_an_old_copy_fails_against_the_witness(tmp_path: Path) -> None:
    witness = tmp_path / "witness.jsonl"
    ws = _workspace(tmp_path, witness)
    _work(ws, range(5))
    backup = tmp_path / "backup"
    shutil.copytree(ws.root, backup)
    _work(ws, range(5, 15))  # later work: more records, a later checkpoint witnessed
    shutil.rmtree(ws.root)
    shutil.copytree(backup, ws.root)  # the whole workspace rolled back, anchor and all
    r = _verify(ws)
    assert r.returncode == 1, r.stdout
    assert "TAMPERED" in r.stderr


def test_a_log_with_checkpoints_refuses_to_verify_without_its_anchor(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, None)
    _work(ws, range(3))
    (ws.keys_dir / "audit-anchor.json").unlink()
    r = _verify(ws)
    assert r.returncode == 1
    assert "anchor_missing" in r.stderr


def test_a_missing_audit_key_is_reported_once_as_missing(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, None)
    _work(ws, range(3))
    _work(ws, range(3, 6))  # two checkpoints at least
    os.rename(ws.keys_dir / "audit-ed25519.pem", tmp_path / "elsewhere.pem")
    r = _verify(ws)
    assert r.returncode == 1
    assert r.stderr.count("audit_key_missing") == 1
    assert "checkpoint_unknown_kid" not in r.stderr


def test_the_witness_must_lie_outside_the_workspace(tmp_path: Path) -> None:
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    ws.config_path.write_text(f"trust_domain: acme.test\naudit: {{witness: {ws.root / 'w.jsonl'}}}\n")
    with pytest.raises(ConfigError, match="outside the workspace"):
        ws.settings()
    ws.config_path.write_text("trust_domain: acme.test\naudit: {witness: relative.jsonl}\n")
    with pytest.raises(ConfigError, match="absolute path"):
        ws.settings()


def _replace_audit_key(ws: Workspace) -> None:
    """The red team's key swap (on a restored copy): the audit key file, its `signing_keys` row, the
    anchor and the stored checkpoints deleted, so that Proctor makes a new key = a new log."""
    (ws.keys_dir / "audit-ed25519.pem").unlink()
    (ws.keys_dir / "audit-anchor.json").unlink()
    with sqlite3.connect(ws.root / "proctor.db") as db:
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            db.execute(f'DROP TRIGGER "{name}"')
        db.execute("DELETE FROM signing_keys WHERE use = 'audit'")
        db.execute("DELETE FROM audit_checkpoints")


def test_a_replaced_audit_key_is_refused_by_the_witness_file(tmp_path: Path) -> None:
    """A witness file keeps one log, the first key's: a process with a new audit key does not
    append to it (it halts signing, loudly), and `audit verify` refuses the file's other log id."""
    witness = tmp_path / "witness.jsonl"
    ws = _workspace(tmp_path, witness)
    _work(ws, range(6))
    _replace_audit_key(ws)
    with Proctor.open(ws) as p:
        for i in range(10, 20):
            p.add_agent(f"bot{i}", "o@acme.test")
        p.audit.flush()
        assert "audit_rollback" in p.audit_health()["reasons"]
        assert "holds the log" in str(p.audit.rollback)
    kids = {json.loads(line)["kid"] for line in witness.read_text().splitlines()}
    assert len(kids) == 1  # nothing of the new key was appended
    r = _verify(ws)
    assert r.returncode == 1, r.stdout
    assert "witness_log_mismatch" in r.stderr
