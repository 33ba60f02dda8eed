"""What an attacker who can write the database cannot do to a workspace's audit log.

The chain and its checkpoints live in the database; the workspace's audit key file and its anchor
(a copy of the latest checkpoint, ``keys/audit-anchor.json``) do not. Each test builds a log through
a real workspace, edits the SQLite file as an attacker with plain ``sqlite3`` and checks that
``audit verify`` notices, and that a Proctor process does not sign a checkpoint over the forgery.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sqlite3
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from proctor.app import Proctor, verify_audit_store
from proctor.audit.anchor import ANCHOR_FILE, read_anchor
from proctor.audit.chain import GENESIS, checkpoint_payload, writer_chain_hash
from proctor.audit.export import export_jsonl
from proctor.errors import AuditError
from proctor.store import open_store
from proctor.store.base import AuditQuery
from proctor.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A workspace whose log holds a few records and a final checkpoint (and so an anchor)."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    with Proctor.open(ws) as p:
        for i in range(5):
            p.agents.add(f"bot-{i}", "owner@acme.test")
    assert (ws.keys_dir / ANCHOR_FILE).exists()
    return ws


def _verify(ws: Workspace) -> list[str]:
    store = open_store(f"sqlite:///{ws.root / 'proctor.db'}", migrate=False)
    try:
        report = verify_audit_store(store, ws.keys_dir)
    finally:
        store.close()
    return [p.code for p in report.problems]


def _attacker(ws: Workspace) -> sqlite3.Connection:
    con = sqlite3.connect(ws.root / "proctor.db", isolation_level=None)
    con.execute("DROP TRIGGER IF EXISTS audit_records_no_update")
    con.execute("DROP TRIGGER IF EXISTS audit_records_no_delete")
    return con


def _rewrite_and_rechain(con: sqlite3.Connection, seq: int = 3) -> None:
    body = json.loads(con.execute("SELECT body FROM audit_records WHERE seq = ?", (seq,)).fetchone()[0])
    body["owner"] = "attacker@evil.test"
    raw = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    con.execute("UPDATE audit_records SET body = ? WHERE seq = ?", (raw, seq))
    prev: dict[int, bytes] = {}  # each writer's chain (docs/adr/0036)
    for s, b, w, ws in con.execute(
        "SELECT seq, body, writer, wseq FROM audit_records ORDER BY seq"
    ).fetchall():
        h = writer_chain_hash(w, ws, s, prev.get(w, GENESIS), bytes(b))
        con.execute(
            "UPDATE audit_records SET prev_hash = ?, hash = ? WHERE seq = ?", (prev.get(w, GENESIS), h, s)
        )
        prev[w] = h


def test_a_clean_log_verifies(ws: Workspace) -> None:
    assert _verify(ws) == []


def test_a_key_the_attacker_registers_in_the_store_is_not_trusted(ws: Workspace) -> None:
    """Rewrite a record, recompute the chain, add an audit key of one's own to the store and
    re-sign every checkpoint with it: verify trusted the store's keys, and said ok."""
    con = _attacker(ws)
    _rewrite_and_rechain(con)
    key = Ed25519PrivateKey.generate()
    x = base64.urlsafe_b64encode(
        key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x.rstrip(b"=").decode()}, sort_keys=True)
    kid = base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()
    jwk = {**json.loads(members), "kid": kid}
    con.execute(
        "INSERT INTO signing_keys (kid, use, public_jwk, created_at) VALUES (?, 'audit', ?, 0)",
        (kid, json.dumps(jwk)),
    )
    for seq, ts in con.execute("SELECT seq, ts FROM audit_checkpoints").fetchall():
        head = bytes(con.execute("SELECT hash FROM audit_records WHERE seq = ?", (seq,)).fetchone()[0])
        sig = key.sign(checkpoint_payload(seq, head, round(ts * 1_000_000)))
        con.execute(
            "UPDATE audit_checkpoints SET head_hash = ?, kid = ?, signature = ? WHERE seq = ?",
            (head, kid, sig, seq),
        )
    con.close()
    codes = _verify(ws)
    assert "checkpoint_unknown_kid" in codes
    assert "checkpoint_mismatch" in codes  # the anchor still names the true head


def test_deleting_every_checkpoint_does_not_hide_a_rewrite(ws: Workspace) -> None:
    con = _attacker(ws)
    con.execute("DELETE FROM audit_checkpoints")
    _rewrite_and_rechain(con)
    con.close()
    assert _verify(ws) == ["checkpoint_mismatch"]


def test_a_proctor_process_signs_no_checkpoint_over_a_rewritten_chain(ws: Workspace) -> None:
    """The next Proctor process used to sign the forged head, and verify then said ok."""
    con = _attacker(ws)
    con.execute("DELETE FROM audit_checkpoints")
    _rewrite_and_rechain(con)
    con.close()
    with Proctor.open(ws) as p:
        assert p.audit.refusing is not None
        assert "rewritten" in p.audit.refusing
        p.agents.add("after", "owner@acme.test")
    with Proctor.open(ws) as p:
        assert p.store.list_checkpoints() == []
    assert _verify(ws) == ["checkpoint_mismatch"]


def test_cutting_the_log_below_the_anchor_is_caught(ws: Workspace) -> None:
    anchor = read_anchor(ws.keys_dir)
    assert anchor is not None
    con = _attacker(ws)
    con.execute("DELETE FROM audit_checkpoints")
    con.execute("DELETE FROM audit_records WHERE seq >= ?", (anchor.seq,))
    con.close()
    assert _verify(ws) == ["log_truncated"]
    with Proctor.open(ws) as p:
        assert p.audit.refusing is not None


def test_a_damaged_anchor_is_reported_not_ignored(ws: Workspace) -> None:
    (ws.keys_dir / ANCHOR_FILE).write_text('{"seq": "x"}')
    assert _verify(ws) == ["anchor_invalid"]
    with pytest.raises(AuditError):
        read_anchor(ws.keys_dir)
    with Proctor.open(ws) as p:
        assert p.audit.refusing is not None


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("UPDATE audit_records SET body = CAST(body AS TEXT) WHERE seq = 2", "record_modified"),
        ("UPDATE audit_records SET body = X'FFFE' WHERE seq = 2", "record_modified"),
        ("UPDATE audit_checkpoints SET head_hash = 100000000000", "checkpoint_bad_signature"),
        ("UPDATE audit_checkpoints SET ts = 'soon', signature = 'x'", "checkpoint_bad_signature"),
    ],
)
def test_hand_edited_values_of_the_wrong_type_are_named_not_crashed_on(
    ws: Workspace, sql: str, code: str
) -> None:
    """SQLite stores any type in any column: verify, search and export name or carry such a row
    (they raised TypeError or MemoryError, or allocated 100 GB for an integer `head_hash`)."""
    con = _attacker(ws)
    con.execute(sql)
    con.close()
    assert code in _verify(ws)
    store = open_store(f"sqlite:///{ws.root / 'proctor.db'}", migrate=False)
    try:
        assert store.search_audit(AuditQuery(limit=100))
        buf = io.StringIO()
        assert export_jsonl(store, buf) >= 5
    finally:
        store.close()
    for line in buf.getvalue().splitlines():
        row = json.loads(line)
        assert row["record"] is not None or "body_b64" in row


def test_the_anchor_never_goes_back(ws: Workspace) -> None:
    """Two processes on one log: an idle one whose head is older anchors after a newer one did.
    The anchor went back, and records only the newer checkpoint covered could be cut unnoticed."""
    from proctor.audit.anchor import write_anchor
    from proctor.store.base import Checkpoint

    newest = read_anchor(ws.keys_dir)
    assert newest is not None
    older = Checkpoint(newest.seq - 1, b"\0" * 32, newest.ts, newest.kid, b"\0" * 64)
    write_anchor(ws.keys_dir, older)
    assert read_anchor(ws.keys_dir) == newest


def test_an_anchor_that_cannot_be_written_does_not_make_every_batch_sign_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint is stored, then anchoring it fails (say `keys/` is read-only): the log used to
    treat the checkpoint as not made and sign another after every batch."""
    import proctor.app as app_module

    def unwritable(*_a: object) -> None:
        raise PermissionError("read-only")

    monkeypatch.setattr(app_module, "write_anchor", unwritable)
    ws, _ = Workspace.init(
        tmp_path / "w", config_text="trust_domain: acme.test\naudit: {checkpoint_every: 5}\n"
    )
    with Proctor.open(ws) as p:
        for i in range(20):
            p.agents.add(f"more-{i}", "owner@acme.test")
        assert isinstance(p.audit.checkpoint_error, PermissionError)
        seqs = [c.seq for c in p.store.list_checkpoints()]
    assert len(seqs) <= 6, seqs  # one every 5 records, not one per batch
