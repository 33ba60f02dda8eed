"""Red team of "heads left behind are signed by the next process" (docs/adr/0036), with real
processes: a record hash needs no key, so someone who can write the database can register a writer
(this host, a pid that no longer runs) with a well-formed chain of made-up records. Before, the next
Proctor signed its head with the workspace key like that of a process killed before its first
checkpoint, and `audit verify` then reported the made-up records as signed. Now only writers that a
process of this workspace registered (noted in `keys/audit-writers`, outside the database) are
vouched for that way: the killed process's head is signed, the made-up one stays unsigned."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

from proctor.app import Proctor, verify_audit_store
from proctor.audit.chain import GENESIS, writer_chain_hash
from proctor.canonical import canonical_json
from proctor.store import open_store
from proctor.workspace import Workspace

GONE_PID = 2**22 + 12345  # above Linux's pid_max: no process has it

CHILD = """
import sys, time
from proctor.app import Proctor
from proctor.workspace import Workspace
p = Proctor.open(Workspace.find(sys.argv[1]))
for i in range(3):
    p.agents.add(f"victim{i}", "o@acme.test")
p.audit.flush()
print(p.audit.writer, p.audit.head_seq, flush=True)
time.sleep(600)
"""


def test_a_made_up_writer_is_not_signed_a_killed_one_is(tmp_path: Path) -> None:
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    with Proctor.open(ws) as p:
        p.agents.add("bot", "o@acme.test")
        p.audit.flush()
    # a process killed (-9) before its first checkpoint
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ws.root)], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        assert child.stdout is not None
        killed, killed_head = (int(x) for x in child.stdout.readline().split())
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    # a writer and its chain made up in the database: valid hashes, no key needed
    with sqlite3.connect(ws.root / "proctor.db") as db:
        (top,) = db.execute("SELECT max(seq) FROM audit_records").fetchone()
        (forged,) = db.execute(
            "INSERT INTO audit_writers (started_at, host, pid, info, first_seq) VALUES (1, ?, ?, 'proctor', ?)"
            " RETURNING id",
            (socket.gethostname(), GONE_PID, top + 1),
        ).fetchone()
        prev = GENESIS
        for wseq, seq in ((1, top + 1), (2, top + 2)):
            body = canonical_json({"v": 1, "kind": "approval.granted", "ts": 1_000_000 * wseq, "by": "x"})
            h = writer_chain_hash(forged, wseq, seq, prev, body)
            db.execute(
                "INSERT INTO audit_records (seq, ts, kind, body, prev_hash, hash, writer, wseq)"
                " VALUES (?, ?, 'approval.granted', ?, ?, ?, ?, ?)",
                (seq, float(wseq), body, prev, h, forged, wseq),
            )
            prev = h
    with Proctor.open(ws) as p:  # the next process: signs the heads left behind on close
        p.agents.add("next", "o@acme.test")
        p.audit.flush()
    store = open_store(f"sqlite:///{ws.root / 'proctor.db'}", migrate=False)
    try:
        signed = {cp.writer: cp.seq for cp in store.list_checkpoints()}
        report = verify_audit_store(store, ws.keys_dir, deep=True)
    finally:
        store.close()
    assert signed.get(killed) == killed_head  # the killed process's records are vouched for
    assert forged not in signed  # the made-up ones are not
    assert report.ok, report.problems
    tails = {w["writer"]: w["unsigned_tail"] for w in report.writers}
    assert tails[killed] == 0
    assert tails[forged] == 2  # still reported as covered by no signed checkpoint
