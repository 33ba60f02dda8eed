"""A process that stopped signing after a rollback resumes only after a recovery signed by the audit
key (``proctor audit recover``), never because the database holds an ``audit.recovered`` record:
whoever rolled the database back can write one too (red team of issue 12.4)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from proctor.app import Proctor
from proctor.audit.log import AuditLog
from proctor.clock import SystemClock
from proctor.store import open_store
from proctor.workspace import Workspace

CONFIG = "trust_domain: acme.test\naudit:\n  checkpoint_every: 5\n"


def _rolled_back(tmp_path: Path) -> tuple[Workspace, Proctor]:
    """A running process whose database went back under it (a restored backup): it halted."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    p = Proctor.open(ws)
    for i in range(6):
        p.add_agent(f"a{i}", "o@acme.test")
    db, old = ws.root / "proctor.db", tmp_path / "old.db"
    with sqlite3.connect(db) as live, sqlite3.connect(old) as copy:
        live.backup(copy)
    for i in range(12):
        p.add_agent(f"b{i}", "o@acme.test")
    p.audit.flush()
    with sqlite3.connect(old) as copy, sqlite3.connect(db) as live:
        copy.backup(live)
    for i in range(12):
        p.add_agent(f"c{i}", "o@acme.test")
    p.audit.flush()
    assert p.audit.rollback is not None
    return ws, p


def _wait_idle_passes(p: Proctor, seconds: float = 3.5) -> None:
    deadline = time.monotonic() + seconds  # the halted writer looks for a recovery once a second
    while time.monotonic() < deadline and p.audit.rollback is not None:
        time.sleep(0.1)


def test_an_audit_recovered_record_written_into_the_database_does_not_resume_signing(
    tmp_path: Path,
) -> None:
    ws, p = _rolled_back(tmp_path)
    try:
        # the attacker can write the database (they rolled it back) but has no audit key
        store = open_store(f"sqlite:///{ws.root / 'proctor.db'}", migrate=False)
        forger = AuditLog(store, SystemClock(), None)
        try:
            forger.append("audit.recovered", {"reason": "nothing to see", "by": "root"})
        finally:
            forger.close()
            store.close()
        _wait_idle_passes(p)
        assert p.audit.rollback is not None, "a forged recovery record silenced the rollback"
        assert "audit_rollback" in p.audit_health()["reasons"]
    finally:
        p.close()


def test_a_recovery_signed_with_the_audit_key_resumes_signing(tmp_path: Path) -> None:
    ws, p = _rolled_back(tmp_path)
    try:
        with Proctor.open(ws) as admin:  # `proctor audit recover` in another process
            admin.recover_audit("restored a backup", "ops")
        _wait_idle_passes(p)
        assert p.audit.rollback is None
    finally:
        p.close()
