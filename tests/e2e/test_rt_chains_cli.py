"""Red team of the per-writer audit chains through the CLI (docs/adr/0036): rows no Proctor writes
in the workspace database make `proctor audit verify --deep` report tampering (exit 1, the record
named), and `proctor audit tail` still read the log, instead of either dying with a traceback."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from proctor.app import Proctor
from proctor.audit.chain import GENESIS
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent


def _proctor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "proctor"), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_hostile_rows_are_reported_by_verify_and_tail_still_reads(tmp_path: Path) -> None:
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    with Proctor.open(ws) as p:
        for i in range(4):
            p.agents.add(f"bot{i}", "o@acme.test")
        p.audit.flush()
        head = p.audit.head_seq
    assert _proctor("audit", "verify", "--deep", "--workspace", str(ws.root)).returncode == 0
    with sqlite3.connect(ws.root / "proctor.db") as db:
        # a record of a writer no chain can have (negative), and one whose writer is an infinite REAL
        db.execute(
            "INSERT INTO audit_records (seq, ts, kind, body, prev_hash, hash, writer, wseq)"
            " VALUES (?, 5, 'x', ?, ?, ?, -5, 1)",
            (head + 10, b'{"v":1}', GENESIS, b"h" * 32),
        )
        db.execute(
            "INSERT INTO audit_records (seq, ts, kind, body, prev_hash, hash, writer, wseq)"
            " VALUES (?, 5, 'x', ?, ?, ?, ?, 1)",
            (head + 11, b'{"v":1}', GENESIS, b"h" * 32, float("inf")),
        )
    r = _proctor("audit", "verify", "--deep", "--workspace", str(ws.root))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert "TAMPERED" in r.stderr
    assert f"record {head + 10}" in r.stderr
    assert "[record_unexpected]" in r.stderr
    t = _proctor("audit", "tail", "-n", "5", "--workspace", str(ws.root))
    assert t.returncode == 0, t.stderr
    assert "Traceback" not in t.stderr
    assert str(head + 11) in t.stdout


def test_tail_follow_reads_a_log_with_a_place_that_is_no_integer(tmp_path: Path) -> None:
    """`audit tail -f` follows each writer by its newest place (wseq): one stored as an infinite
    REAL by hand made it die at once (OverflowError) instead of printing the log."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    with Proctor.open(ws) as p:
        for i in range(3):
            p.agents.add(f"bot{i}", "o@acme.test")
        p.audit.flush()
        head = p.audit.head_seq
    with sqlite3.connect(ws.root / "proctor.db") as db:
        db.execute("DROP TRIGGER audit_records_no_update")
        db.execute("UPDATE audit_records SET wseq = ? WHERE seq = ?", (float("inf"), head))
    proc = subprocess.Popen(
        [
            str(BIN / "proctor"),
            "audit",
            "tail",
            "-f",
            "-n",
            "3",
            "--interval",
            "0.1",
            "--workspace",
            str(ws.root),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=8)
    except subprocess.TimeoutExpired:  # still following, as it should: stop it
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert "Traceback" not in err, err[-2000:]
    assert str(head) in out
