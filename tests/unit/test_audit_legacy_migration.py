"""A log written before per-writer chains (one chain, docs/adr/0005) still verifies after the
migration that adds writers (issue 19, docs/adr/0036): its records become writer 0's chain, its
checkpoint and anchor still match, and new writers' chains are checked beside it."""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from proctor.audit import AuditLog, chain_hash, checkpoint_payload, verify_log
from proctor.audit.chain import GENESIS
from proctor.canonical import canonical_json
from proctor.clock import FrozenClock
from proctor.store.base import Checkpoint
from proctor.store.sqlite import SqliteStore


class Signer:
    kid = "legacy-test"

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data)


def _schema_before_writers(path: Path) -> None:
    from yoyo import get_backend, read_migrations

    src = resources.files("proctor.store") / "migrations" / "sqlite"
    with resources.as_file(src) as folder:
        backend = get_backend(f"sqlite:///{path}")
        migrations = read_migrations(str(folder)).filter(lambda m: not m.id.startswith("0013"))
        with backend.lock():
            backend.apply_migrations(backend.to_apply(migrations))
        backend.connection.close()


def test_a_single_chain_log_verifies_after_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _schema_before_writers(path)
    signer = Signer()
    con = sqlite3.connect(path, isolation_level=None)
    assert "writer" not in [r[1] for r in con.execute("PRAGMA table_info(audit_records)")]
    prev = GENESIS
    for seq in range(1, 6):  # as the single-chain writer stored them
        body = canonical_json({"v": 1, "kind": "x", "ts": seq * 1_000_000, "n": seq})
        h = chain_hash(seq, prev, body)
        con.execute(
            "INSERT INTO audit_records (seq, ts, kind, body, prev_hash, hash) VALUES (?, ?, 'x', ?, ?, ?)",
            (seq, float(seq), body, prev, h),
        )
        prev = h
    sig = signer.sign(checkpoint_payload(5, prev, 6_000_000))
    con.execute(
        "INSERT INTO audit_checkpoints (seq, head_hash, ts, kid, signature) VALUES (5, ?, 6.0, ?, ?)",
        (prev, signer.kid, sig),
    )
    con.close()

    store = SqliteStore(path)
    try:
        store.migrate()
        keys = {signer.kid: signer.key.public_key()}
        rows = list(store.iter_audit())
        assert [(r.writer, r.wseq) for r in rows] == [(0, s) for s in range(1, 6)]
        report = verify_log(store, keys, anchors=[Checkpoint(5, prev, 6.0, signer.kid, sig)])
        assert report.ok, report.problems
        assert report.checkpoints_checked == 1
        with AuditLog(store, FrozenClock(), signer) as audit:
            row = audit.append("call", {"after": True})
        assert (row.seq, row.wseq) == (6, 1)
        assert row.writer >= 1
        report = verify_log(store, keys, deep=True)
        assert report.ok, report.problems
        assert [(w["writer"], w["records"]) for w in report.writers] == [(0, 5), (row.writer, 1)]
        # the legacy chain is still protected: an edit in it is found
        con = sqlite3.connect(path, isolation_level=None)
        con.execute("DROP TRIGGER audit_records_no_update")
        con.execute("UPDATE audit_records SET body = ? WHERE seq = 3", (b'{"v":1}',))
        con.close()
        assert [p.code for p in verify_log(store, keys).problems] == ["record_modified"]
    finally:
        store.close()


def test_an_anchor_from_before_reads_as_writer_zero(tmp_path: Path) -> None:
    from proctor.audit.anchor import ANCHOR_FILE, read_anchors, write_anchor

    cp = Checkpoint(5, b"\1" * 32, 6.0, "kid", b"\2" * 64)
    write_anchor(tmp_path, cp)
    assert b'"writer"' not in (tmp_path / ANCHOR_FILE).read_bytes()  # the old format, unchanged
    assert read_anchors(tmp_path) == [cp]
    mine = Checkpoint(9, b"\3" * 32, 7.0, "kid", b"\4" * 64, 3)
    write_anchor(tmp_path, mine)
    write_anchor(tmp_path, Checkpoint(8, b"\5" * 32, 8.0, "kid", b"\6" * 64, 3))  # older: kept out
    assert read_anchors(tmp_path) == [cp, mine]
    write_anchor(tmp_path, mine, force=True)  # a recovery: the anchor is that checkpoint alone
    assert read_anchors(tmp_path) == [mine]


@pytest.mark.parametrize("doc", [b'{"v":2,"heads":[]}', b'{"v":2,"heads":[{"seq":1}]}'])
def test_a_damaged_per_writer_anchor_is_refused(tmp_path: Path, doc: bytes) -> None:
    from proctor.audit.anchor import ANCHOR_FILE, read_anchors
    from proctor.errors import AuditError

    (tmp_path / ANCHOR_FILE).write_bytes(doc)
    with pytest.raises(AuditError):
        read_anchors(tmp_path)
