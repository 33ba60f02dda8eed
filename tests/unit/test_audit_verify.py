"""verify_log against an attacker with write access to the SQLite file.

Each test builds a signed log through ``AuditLog``, closes it, edits the file with plain ``sqlite3``
(dropping the append-only triggers first, as an attacker would) and checks that ``verify_log``
names the broken record or checkpoint by seq.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from proctor.audit import AuditLog, VerifyReport, chain_hash, checkpoint_payload, verify_log
from proctor.audit.chain import GENESIS, writer_chain_hash
from proctor.canonical import canonical_json
from proctor.clock import FrozenClock
from proctor.store import Store, open_store
from proctor.store.base import Checkpoint, PendingAudit

KID = "audit-test-1"
N = 35
EVERY = 10  # checkpoints at 10, 20, 30 and (on close) 35


class Signer:
    """A test checkpoint signer backed by an Ed25519 key."""

    def __init__(self, kid: str = KID) -> None:
        self._key = Ed25519PrivateKey.generate()
        self.kid = kid

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def public(self) -> Ed25519PublicKey:
        return self._key.public_key()


@pytest.fixture
def signer() -> Signer:
    return Signer()


@pytest.fixture
def db(tmp_path: Path, signer: Signer) -> Path:
    """A closed store file holding N records and checkpoints at 10, 20, 30, 35."""
    path = tmp_path / "proctor.db"
    store = open_store(f"sqlite:///{path}")
    clock = FrozenClock()
    with AuditLog(store, clock, signer, checkpoint_every=EVERY, checkpoint_interval_s=3600) as audit:
        for i in range(N):
            clock.advance(1)
            audit.append(
                "decision",
                {"i": i, "reasons": ["policy:starter"]},
                agent=f"agent-{i % 3}",
                tool="payments.transfer",
                decision="allow" if i % 2 else "deny",
                decision_id=f"dec_{i:020d}",
            )
    store.close()
    return path


def _verify(db: Path, signer: Signer, *, deep: bool = False) -> VerifyReport:
    store = open_store(f"sqlite:///{db}", migrate=False)
    try:
        return verify_log(store, {signer.kid: signer.public()}, deep=deep)
    finally:
        store.close()


@pytest.fixture
def attacker(db: Path) -> Iterator[sqlite3.Connection]:
    """A raw connection to the file with the append-only triggers dropped."""
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("DROP TRIGGER audit_records_no_update")
    con.execute("DROP TRIGGER audit_records_no_delete")
    yield con
    con.close()


def _row(con: sqlite3.Connection, seq: int) -> tuple[bytes, bytes, bytes]:
    body, prev, h = con.execute(
        "SELECT body, prev_hash, hash FROM audit_records WHERE seq = ?", (seq,)
    ).fetchone()
    return bytes(body), bytes(prev), bytes(h)


def _rechain(con: sqlite3.Connection, start: int) -> None:
    """Recompute every hash from ``start`` on, as an attacker covering an edit would."""
    prev = GENESIS if start == 1 else _row(con, start - 1)[2]
    for seq, body, writer, wseq in con.execute(
        "SELECT seq, body, writer, wseq FROM audit_records WHERE seq >= ? ORDER BY seq", (start,)
    ).fetchall():
        h = writer_chain_hash(writer, wseq, seq, prev, bytes(body))
        con.execute("UPDATE audit_records SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, seq))
        prev = h


def _only(report: VerifyReport) -> tuple[int, str]:
    assert not report.ok
    assert len(report.problems) == 1, report.problems
    p = report.problems[0]
    return p.seq, p.code


def test_intact_log_verifies(db: Path, signer: Signer) -> None:
    """An untouched log passes, shallow and deep, with every record and checkpoint checked."""
    for deep in (False, True):
        report = _verify(db, signer, deep=deep)
        assert report.ok, report.problems
        assert report.records_checked == N
        assert report.head_seq == N
        assert report.checkpoints_checked == 4
        assert report.problems == []


def test_empty_log_verifies(tmp_path: Path) -> None:
    """A store with no records and no checkpoints is a valid (empty) log."""
    store = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        report = verify_log(store, {})
    finally:
        store.close()
    assert report.ok
    assert report.records_checked == 0


def test_modified_body(db: Path, signer: Signer, attacker: sqlite3.Connection) -> None:
    """Changing a record's body (deny → allow) breaks its hash: reported as ``record_modified`` at its seq."""
    body = _row(attacker, 13)[0].replace(b'"decision":"deny"', b'"decision":"allow"')
    assert body != _row(attacker, 13)[0]
    attacker.execute("UPDATE audit_records SET body = ? WHERE seq = 13", (body,))
    report = _verify(db, signer)
    assert _only(report) == (13, "record_modified")
    assert report.records_checked == 12
    assert "record 13" in report.problems[0].message


def test_modified_indexed_column_needs_deep(db: Path, signer: Signer, attacker: sqlite3.Connection) -> None:
    """An edited index column (not hashed) is caught by ``deep=True`` as ``index_mismatch`` at its seq."""
    attacker.execute("UPDATE audit_records SET decision = 'allow' WHERE seq = 7 AND decision = 'deny'")
    attacker.execute("UPDATE audit_records SET agent = 'someone-else' WHERE seq = 9")
    assert _verify(db, signer).ok
    report = _verify(db, signer, deep=True)
    assert _only(report) == (7, "index_mismatch")
    assert "`decision`" in report.problems[0].message


@pytest.mark.parametrize(
    ("column", "value"),
    [("kind", "note"), ("ts", 1.0), ("task", "tsk_0123456789abcdefghij"), ("decision_id", "dec_x")],
)
def test_deep_checks_every_indexed_column(
    db: Path, signer: Signer, attacker: sqlite3.Connection, column: str, value: object
) -> None:
    """Each indexed column (kind, ts, task, decision_id, …) is compared with the body."""
    attacker.execute(f"UPDATE audit_records SET {column} = ? WHERE seq = 3", (value,))
    assert _only(_verify(db, signer, deep=True)) == (3, "index_mismatch")


def test_deleted_record(db: Path, signer: Signer, attacker: sqlite3.Connection) -> None:
    """Deleting a record leaves a gap: ``record_missing`` names the deleted seq."""
    attacker.execute("DELETE FROM audit_records WHERE seq = 17")
    report = _verify(db, signer)
    assert _only(report) == (17, "record_missing")
    assert report.records_checked == 16


def test_deleted_records_range(db: Path, signer: Signer, attacker: sqlite3.Connection) -> None:
    """Deleting several records names the first and the message gives the whole range."""
    attacker.execute("DELETE FROM audit_records WHERE seq BETWEEN 4 AND 6")
    report = _verify(db, signer)
    assert _only(report) == (4, "record_missing")
    assert "4..6" in report.problems[0].message


def test_deleted_and_renumbered(db: Path, signer: Signer, attacker: sqlite3.Connection) -> None:
    """Deleting a record and renumbering the rest (global seq and the place in the writer's chain)
    closes the gap, but the place is hashed: the link breaks."""
    attacker.execute("DELETE FROM audit_records WHERE seq = 5")
    attacker.execute("UPDATE audit_records SET seq = -(seq - 1), wseq = -(wseq - 1) WHERE seq > 5")
    attacker.execute("UPDATE audit_records SET seq = -seq, wseq = -wseq WHERE seq < 0")
    assert _only(_verify(db, signer)) == (5, "chain_broken")


def test_inserted_record(db: Path, signer: Signer, attacker: sqlite3.Connection) -> None:
    """A record slipped in after seq 8 with a correct hash of its own still breaks the next link (10)."""
    attacker.execute("UPDATE audit_records SET seq = -(seq + 1), wseq = -(wseq + 1) WHERE seq > 8")
    attacker.execute("UPDATE audit_records SET seq = -seq, wseq = -wseq WHERE seq < 0")
    prev = _row(attacker, 8)[2]
    fake = canonical_json({"v": 1, "kind": "decision", "ts": 1, "decision": "allow"})
    attacker.execute(
        "INSERT INTO audit_records (seq, ts, kind, decision, body, prev_hash, hash, writer, wseq)"
        " VALUES (9, 0, ?, ?, ?, ?, ?, 1, 9)",
        ("decision", "allow", fake, prev, writer_chain_hash(1, 9, 9, prev, fake)),
    )
    assert _only(_verify(db, signer)) == (10, "chain_broken")


def test_inserted_record_out_of_sequence(db: Path, signer: Signer, attacker: sqlite3.Connection) -> None:
    """A record stored with seq 0 (before the first) is ``record_unexpected``."""
    fake = canonical_json({"v": 1, "kind": "x", "ts": 0})
    attacker.execute(
        "INSERT INTO audit_records (seq, ts, kind, body, prev_hash, hash) VALUES (0, 0, 'x', ?, ?, ?)",
        (fake, GENESIS, chain_hash(0, GENESIS, fake)),
    )
    assert _only(_verify(db, signer)) == (0, "record_unexpected")


def test_appended_garbage_record(db: Path, signer: Signer, attacker: sqlite3.Connection) -> None:
    """A record appended at the head with a made-up hash is ``record_modified`` at its seq."""
    prev = _row(attacker, N)[2]
    attacker.execute(
        "INSERT INTO audit_records (seq, ts, kind, body, prev_hash, hash, writer, wseq)"
        " VALUES (?, 0, 'x', ?, ?, ?, 1, ?)",
        (N + 1, b"{}", prev, b"\0" * 32, N + 1),
    )
    assert _only(_verify(db, signer)) == (N + 1, "record_modified")


def test_swapped_bodies(db: Path, signer: Signer, attacker: sqlite3.Connection) -> None:
    """Swapping the bodies of records 14 and 22 (reordering events) is caught at 14."""
    b14, b22 = _row(attacker, 14)[0], _row(attacker, 22)[0]
    attacker.execute("UPDATE audit_records SET body = ? WHERE seq = 14", (b22,))
    attacker.execute("UPDATE audit_records SET body = ? WHERE seq = 22", (b14,))
    assert _only(_verify(db, signer)) == (14, "record_modified")


def test_swapped_whole_rows(db: Path, signer: Signer, attacker: sqlite3.Connection) -> None:
    """Swapping two complete rows (body and hashes) breaks the link into the first of them."""
    r3, r4 = _row(attacker, 3), _row(attacker, 4)
    attacker.execute("UPDATE audit_records SET body = ?, prev_hash = ?, hash = ? WHERE seq = 3", r4)
    attacker.execute("UPDATE audit_records SET body = ?, prev_hash = ?, hash = ? WHERE seq = 4", r3)
    assert _only(_verify(db, signer)) == (3, "chain_broken")


def test_recomputed_chain_is_caught_by_checkpoint(
    db: Path, signer: Signer, attacker: sqlite3.Connection
) -> None:
    """Editing record 14 and recomputing every later hash gives a consistent chain, but it no longer
    matches the signed checkpoint at 20: ``checkpoint_mismatch`` names checkpoint 20 and records 11..20."""
    body = json.loads(_row(attacker, 14)[0])
    body["decision"] = "allow" if body["decision"] == "deny" else "deny"
    attacker.execute(
        "UPDATE audit_records SET body = ?, decision = ? WHERE seq = 14",
        (canonical_json(body), body["decision"]),
    )
    _rechain(attacker, 14)
    report = _verify(db, signer, deep=True)
    assert _only(report) == (20, "checkpoint_mismatch")
    assert "11..20" in report.problems[0].message
    assert report.checkpoints_checked == 1
    assert report.records_checked == 19


def test_recomputed_chain_without_checkpoints_is_not_caught(tmp_path: Path, signer: Signer) -> None:
    """Without a signer there are no checkpoints, and a fully recomputed chain passes: the reason to sign."""
    path = tmp_path / "unsigned.db"
    store = open_store(f"sqlite:///{path}")
    with AuditLog(store, FrozenClock(), None) as audit:
        for i in range(5):
            audit.append("call", {"i": i})
    store.close()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("DROP TRIGGER audit_records_no_update")
    con.execute(
        "UPDATE audit_records SET body = ? WHERE seq = 2", (canonical_json({"v": 1, "forged": True}),)
    )
    _rechain(con, 2)
    con.close()
    assert _verify(path, signer).ok


def test_truncated_after_checkpoint(db: Path, signer: Signer, attacker: sqlite3.Connection) -> None:
    """Cutting the log back to 25 leaves checkpoints 30 and 35 pointing past the end: ``log_truncated`` at 30."""
    attacker.execute("DELETE FROM audit_records WHERE seq > 25")
    report = _verify(db, signer)
    assert _only(report) == (30, "log_truncated")
    assert report.head_seq == 25
    assert "35" in report.problems[0].message


def test_truncated_record_at_checkpoint(db: Path, signer: Signer, attacker: sqlite3.Connection) -> None:
    """Removing just the last record, which the final checkpoint (35) covers, is caught."""
    attacker.execute(f"DELETE FROM audit_records WHERE seq = {N}")
    assert _only(_verify(db, signer)) == (N, "log_truncated")


def test_checkpoint_bad_signature(db: Path, signer: Signer, attacker: sqlite3.Connection) -> None:
    """A checkpoint whose signature or signed head was altered is ``checkpoint_bad_signature``."""
    attacker.execute("UPDATE audit_checkpoints SET signature = ? WHERE seq = 10", (b"\1" * 64,))
    attacker.execute("UPDATE audit_checkpoints SET head_hash = ? WHERE seq = 30", (b"\2" * 32,))
    report = _verify(db, signer)
    assert not report.ok
    assert [(p.seq, p.code) for p in report.problems] == [
        (10, "checkpoint_bad_signature"),
        (30, "checkpoint_bad_signature"),
    ]
    assert report.checkpoints_checked == 2  # 20 and 35 still match the chain


def test_forged_checkpoint_over_recomputed_chain(
    db: Path, signer: Signer, attacker: sqlite3.Connection
) -> None:
    """An attacker who rewrites the chain and re-signs the checkpoints with their own key under our kid
    is caught by the signatures, and the rewrite by the first checkpoint it cannot fake."""
    own = Ed25519PrivateKey.generate()
    attacker.execute(
        "UPDATE audit_records SET body = ? WHERE seq = 2", (canonical_json({"v": 1, "kind": "x"}),)
    )
    _rechain(attacker, 2)
    for seq, ts in attacker.execute("SELECT seq, ts FROM audit_checkpoints").fetchall():
        head = _row(attacker, seq)[2]
        sig = own.sign(checkpoint_payload(seq, head, round(ts * 1e6)))
        attacker.execute(
            "UPDATE audit_checkpoints SET head_hash = ?, signature = ? WHERE seq = ?", (head, sig, seq)
        )
    report = _verify(db, signer)
    assert {p.code for p in report.problems} == {"checkpoint_bad_signature"}
    assert len(report.problems) == 4
    assert report.checkpoints_checked == 0


def test_checkpoint_unknown_kid(db: Path) -> None:
    """Checkpoints signed by a key the verifier does not know are reported, by mapping or callable."""
    store = open_store(f"sqlite:///{db}", migrate=False)
    try:
        by_map = verify_log(store, {})
        by_callable = verify_log(store, lambda kid: None)
    finally:
        store.close()
    for report in (by_map, by_callable):
        assert [(p.seq, p.code) for p in report.problems] == [
            (10, "checkpoint_unknown_kid"),
            (20, "checkpoint_unknown_kid"),
            (30, "checkpoint_unknown_kid"),
            (35, "checkpoint_unknown_kid"),
        ]
        assert report.records_checked == N


def test_wrong_public_key(db: Path) -> None:
    """Verifying with a different key under the right kid fails every checkpoint's signature."""
    store = open_store(f"sqlite:///{db}", migrate=False)
    try:
        report = verify_log(store, {KID: Ed25519PrivateKey.generate().public_key()})
    finally:
        store.close()
    assert {p.code for p in report.problems} == {"checkpoint_bad_signature"}


def test_verify_without_raw_iterator(db: Path, signer: Signer, attacker: sqlite3.Connection) -> None:
    """A store without ``iter_audit_raw`` is verified through ``iter_audit`` with the same findings."""

    class Plain:
        """Only the Store protocol's own audit readers."""

        def __init__(self, inner: Store) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> object:
            if name == "iter_audit_raw":
                raise AttributeError(name)
            return getattr(self._inner, name)

    store = open_store(f"sqlite:///{db}", migrate=False)
    try:
        plain = Plain(store)
        assert verify_log(plain, {signer.kid: signer.public()}, deep=True).ok  # type: ignore[arg-type]  # duck-typed
        attacker.execute("UPDATE audit_records SET body = ? WHERE seq = 33", (b"{}",))
        report = verify_log(plain, {signer.kid: signer.public()})  # type: ignore[arg-type]  # duck-typed
    finally:
        store.close()
    assert _only(report) == (33, "record_modified")


# --- several writers (issue 19, docs/adr/0036) --------------------------------------------------


@pytest.fixture
def writers_db(tmp_path: Path, signer: Signer) -> tuple[Path, list[int]]:
    """Writers 1 and 2 signed (checkpoints every 4 of their records), writer 3 unsigned, interleaved,
    after a legacy chain (writer 0) of 3 records written before per-writer chains, with its checkpoint."""
    path = tmp_path / "writers.db"
    store = open_store(f"sqlite:///{path}")
    legacy = store.append_audit(
        [
            PendingAudit(1.0, "x", canonical_json({"v": 1, "kind": "x", "ts": 1000000, "i": i}))
            for i in range(3)
        ],
        chain_hash,
    )
    head = legacy[-1]
    store.add_checkpoint(
        Checkpoint(
            head.seq,
            head.hash,
            2.0,
            signer.kid,
            signer.sign(checkpoint_payload(head.seq, head.hash, 2_000_000)),
        )
    )
    clock = FrozenClock()
    logs = [
        AuditLog(store, clock, signer, checkpoint_every=4, checkpoint_interval_s=3600),
        AuditLog(store, clock, signer, checkpoint_every=4, checkpoint_interval_s=3600),
        AuditLog(store, clock, None),
    ]
    for i in range(10):
        for n, audit in enumerate(logs):
            clock.advance(0.1)
            audit.append("call", {"i": i, "log": n})
    ids = [audit.writer or 0 for audit in logs]
    for audit in logs:
        audit.close()
    store.close()
    return path, ids


def _raw(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("DROP TRIGGER IF EXISTS audit_records_no_update")
    con.execute("DROP TRIGGER IF EXISTS audit_records_no_delete")
    return con


def test_every_writer_chain_and_the_legacy_one_verify(
    writers_db: tuple[Path, list[int]], signer: Signer
) -> None:
    """The legacy chain (writer 0, checked as it always was) and each writer's chain verify; the
    report says how each fared."""
    path, ids = writers_db
    report = _verify(path, signer, deep=True)
    assert report.ok, report.problems
    assert report.records_checked == 33
    assert report.head_seq == 33
    by = {w["writer"]: w for w in report.writers}
    assert sorted(by) == [0, *ids]
    assert by[0]["records"] == 3
    assert by[0]["checkpoints"] == 1
    assert by[ids[0]]["records"] == by[ids[2]]["records"] == 10
    assert by[ids[0]]["checkpoints"] == 3  # at 4, 8 and on close at 10
    assert by[ids[0]]["unsigned_tail"] == 0
    assert by[ids[2]]["checkpoints"] == 0
    assert by[ids[2]]["unsigned_tail"] == 10
    assert by[ids[1]]["pid"] == os.getpid()


def test_a_writers_tail_cut_after_its_checkpoint(writers_db: tuple[Path, list[int]], signer: Signer) -> None:
    """Deleting writer 2's records after its 6th (its checkpoint at 8 and on close at 10 cover them)
    is ``log_truncated`` for that writer; the other chains still verify."""
    path, ids = writers_db
    con = _raw(path)
    con.execute("DELETE FROM audit_records WHERE writer = ? AND wseq > 6", (ids[1],))
    con.close()
    report = _verify(path, signer)
    [p] = report.problems
    assert p.code == "log_truncated"
    assert f"writer {ids[1]}'s chain" in p.message
    assert {w["writer"]: w["ok"] for w in report.writers} == {
        0: True,
        ids[0]: True,
        ids[1]: True,
        ids[2]: True,
    }


def test_a_whole_writer_removed(writers_db: tuple[Path, list[int]], signer: Signer) -> None:
    """Every record of the unsigned writer 3 removed: its registration says it wrote from a seq on,
    so ``writer_records_missing``; a signed writer removed is also cut behind its checkpoints."""
    path, ids = writers_db
    con = _raw(path)
    con.execute("DELETE FROM audit_records WHERE writer = ?", (ids[2],))
    con.close()
    assert [p.code for p in _verify(path, signer).problems] == ["writer_records_missing"]
    con = _raw(path)
    con.execute("DELETE FROM audit_records WHERE writer = ?", (ids[0],))
    con.execute("DELETE FROM audit_writers WHERE id = ?", (ids[0],))
    con.close()
    codes = sorted(p.code for p in _verify(path, signer).problems)
    assert codes == ["log_truncated", "writer_records_missing"]


def test_records_moved_between_writers_positions(writers_db: tuple[Path, list[int]], signer: Signer) -> None:
    """Swapping the global seq of two records of one writer (reordering its events in the merged
    log) breaks that writer's walk; dating a record back (its time column) is ``merge_inconsistent``."""
    path, ids = writers_db
    con = _raw(path)
    a, b = (
        r[0]
        for r in con.execute(
            "SELECT seq FROM audit_records WHERE writer = ? AND wseq IN (3, 5) ORDER BY wseq", (ids[0],)
        )
    )
    con.execute("UPDATE audit_records SET seq = -1 WHERE seq = ?", (a,))
    con.execute("UPDATE audit_records SET seq = ? WHERE seq = ?", (a, b))
    con.execute("UPDATE audit_records SET seq = ? WHERE seq = -1", (b,))
    con.close()
    codes = [p.code for p in _verify(path, signer).problems]
    assert codes == ["record_missing"]


def test_a_record_dated_back_is_a_merge_problem(writers_db: tuple[Path, list[int]], signer: Signer) -> None:
    path, ids = writers_db
    con = _raw(path)
    con.execute("UPDATE audit_records SET ts = ts - 60 WHERE writer = ? AND wseq = 5", (ids[1],))
    con.close()
    assert [p.code for p in _verify(path, signer).problems] == ["merge_inconsistent"]
    assert [p.code for p in _verify(path, signer, deep=True).problems] == ["index_mismatch"]


def test_records_of_a_writer_that_never_registered(
    writers_db: tuple[Path, list[int]], signer: Signer
) -> None:
    """A whole chain made up by someone with write access (its own genesis, valid hashes) has no
    registration: ``writer_unregistered``."""
    path, _ = writers_db
    con = _raw(path)
    body = canonical_json({"v": 1, "kind": "x", "ts": 5})
    h = writer_chain_hash(99, 1, 1000, GENESIS, body)
    con.execute(
        "INSERT INTO audit_records (seq, ts, kind, body, prev_hash, hash, writer, wseq) VALUES (1000, 5, 'x', ?, ?, ?, 99, 1)",
        (body, GENESIS, h),
    )
    con.close()
    assert [p.code for p in _verify(path, signer).problems] == ["writer_unregistered"]


def test_records_of_two_writers_swapped_in_the_merged_order(
    writers_db: tuple[Path, list[int]], signer: Signer
) -> None:
    """Swapping the global seq of two records of different writers keeps each writer's order, but
    a writer's record hashes its seq: ``record_modified``."""
    path, ids = writers_db
    con = _raw(path)
    [(a,)] = con.execute("SELECT seq FROM audit_records WHERE writer = ? AND wseq = 5", (ids[0],)).fetchall()
    [(b,)] = con.execute("SELECT seq FROM audit_records WHERE writer = ? AND wseq = 5", (ids[1],)).fetchall()
    con.execute("UPDATE audit_records SET seq = -1 WHERE seq = ?", (a,))
    con.execute("UPDATE audit_records SET seq = ? WHERE seq = ?", (a, b))
    con.execute("UPDATE audit_records SET seq = ? WHERE seq = -1", (b,))
    con.close()
    codes = sorted(p.code for p in _verify(path, signer).problems)
    assert codes == ["record_modified", "record_modified"]
