"""Red team of the per-writer audit chains (docs/adr/0036), on both engines: rows no Proctor writes
(a writer id no chain can have, a NULL seq, a checkpoint too large to sign, an infinite REAL where
an integer belongs, a blob where a time belongs) are reported by ``verify_log`` as tampering, never
a crash of the verifier or of the readers (``audit tail``, ``show``, ``status``).
"""
# ruff: noqa: F811 - the imported fixture `backend` is every test's parameter

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# the conformance suite's fixtures (a fresh, migrated store on each engine), used as parameters below
from tests.conformance.test_store_conformance import Backend, backend  # noqa: F401

from proctor.audit import AuditLog, VerifyReport, verify_log
from proctor.audit.chain import GENESIS
from proctor.clock import FrozenClock
from proctor.store.base import AuditQuery

KID = "rt-chains"


class _Signer:
    def __init__(self) -> None:
        self._key = Ed25519PrivateKey.generate()
        self.kid = KID

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def public(self) -> Ed25519PublicKey:
        return self._key.public_key()


def _honest(backend: Backend) -> tuple[_Signer, int]:
    """Two writers' records, signed; returns the signer and the head seq."""
    signer, clock = _Signer(), FrozenClock()
    logs = [
        AuditLog(backend.store, clock, signer, checkpoint_every=3, checkpoint_interval_s=3600) for _ in "ab"
    ]
    for i in range(5):
        for audit in logs:
            clock.advance(1)
            audit.append("call", {"i": i}, agent="bot", decision_id=f"d{i}")
    for audit in logs:
        audit.close()
    head = backend.store.audit_head()
    assert head is not None
    assert _verify(backend, signer).ok
    return signer, head.seq


def _verify(backend: Backend, signer: _Signer, *, deep: bool = False) -> VerifyReport:
    return verify_log(backend.store, {KID: signer.public()}, deep=deep)


def _readers_work(backend: Backend) -> None:
    """What `audit tail`, `audit show`, `status` read does not fail on the hostile row."""
    store = backend.store
    store.search_audit(AuditQuery(limit=100, newest_first=True))
    store.get_audit_by_decision("d1")
    list(store.iter_audit())
    store.audit_head()
    store.list_checkpoints()
    store.list_audit_writers()


def test_a_writer_id_no_chain_can_have_is_reported_not_a_crash(backend: Backend) -> None:
    """A record of writer -5 (hashing it would need a negative 8-byte writer): before, verify died
    of an OverflowError; now the record is out of every chain (``record_unexpected``)."""
    signer, head = _honest(backend)
    backend.raw_execute(
        "INSERT INTO audit_records (seq, ts, kind, body, prev_hash, hash, writer, wseq)"
        " VALUES (?, 5, 'x', ?, ?, ?, -5, 1)",
        (head + 100, b'{"v":1}', GENESIS, b"h" * 32),
    )
    for deep in (False, True):
        report = _verify(backend, signer, deep=deep)
        assert [(p.seq, p.code) for p in report.problems] == [(head + 100, "record_unexpected")]
        assert all(w["ok"] for w in report.writers if w["writer"] >= 0)
    _readers_work(backend)


def test_a_checkpoint_too_large_to_sign_is_a_bad_signature(backend: Backend) -> None:
    """A checkpoint row with seq 2**63-1 (or a time that large): its payload cannot even be built
    (beyond JSON's safe integers); before, verify died of a ValidationError."""
    signer, head = _honest(backend)
    backend.raw_execute(
        "INSERT INTO audit_checkpoints (seq, head_hash, ts, kid, signature, writer) VALUES (?, ?, 1, ?, ?, 1)",
        (2**63 - 1, b"h" * 32, KID, b"s" * 64),
    )
    backend.raw_execute(
        "INSERT INTO audit_checkpoints (seq, head_hash, ts, kid, signature, writer) VALUES (?, ?, ?, ?, ?, 1)",
        (head + 50, b"h" * 32, float(2**62), KID, b"s" * 64),
    )
    report = _verify(backend, signer)
    assert sorted((p.seq, p.code) for p in report.problems) == [
        (head + 50, "checkpoint_bad_signature"),
        (2**63 - 1, "checkpoint_bad_signature"),
    ]
    _readers_work(backend)


def test_a_null_seq_is_reported_not_a_crash(backend: Backend) -> None:
    """Someone who drops the key's constraints can store a record without a seq: verify names it
    (before, paging died on ``int(None)``), and the readers still answer."""
    if backend.name != "postgres":
        pytest.skip("SQLite's INTEGER PRIMARY KEY cannot hold NULL")
    signer, _ = _honest(backend)
    backend.raw_execute("ALTER TABLE audit_records DROP CONSTRAINT audit_records_pkey", ())
    backend.raw_execute("ALTER TABLE audit_records ALTER COLUMN seq DROP NOT NULL", ())
    backend.raw_execute(
        "INSERT INTO audit_records (seq, ts, kind, body, prev_hash, hash, writer, wseq, decision_id)"
        " VALUES (NULL, 5, 'x', ?, ?, ?, 1, 1000, 'd1')",
        (b'{"v":1}', GENESIS, b"h" * 32),
    )
    report = _verify(backend, signer)
    assert not report.ok
    assert [p.code for p in report.problems] == ["record_unexpected"]
    _readers_work(backend)


@pytest.mark.parametrize(
    ("table", "column", "where"),
    [
        ("audit_records", "writer", "seq = 4"),
        ("audit_records", "wseq", "seq = 4"),
        ("audit_checkpoints", "writer", "seq = (SELECT max(seq) FROM audit_checkpoints)"),
        ("audit_writers", "pid", "id = 1"),
        ("audit_writers", "first_seq", "id = 1"),
    ],
)
def test_an_infinite_real_in_an_integer_column(backend: Backend, table: str, column: str, where: str) -> None:
    """SQLite stores whatever a column is given: an infinite REAL where an integer belongs made every
    reader (and verify) die of an OverflowError; it reads as -1 now (no writer, no place)."""
    if backend.name != "sqlite":
        pytest.skip("PostgreSQL's BIGINT cannot hold infinity")
    signer, _ = _honest(backend)
    backend.raw_execute("DROP TRIGGER IF EXISTS audit_records_no_update", ())
    backend.raw_execute(f"UPDATE {table} SET {column} = ? WHERE {where}", (float("inf"),))
    _readers_work(backend)
    report = _verify(backend, signer, deep=True)
    if table == "audit_records":
        assert not report.ok
        assert report.problems[0].code in ("record_unexpected", "record_missing")


def test_a_blob_where_a_time_belongs_is_an_index_mismatch(backend: Backend) -> None:
    """A 2 MB blob in a record's ts column: ``deep`` multiplied it by 10**6 (asking for 2 TB) and
    died of a MemoryError; it is a column that disagrees with its body now."""
    if backend.name != "sqlite":
        pytest.skip("PostgreSQL's double precision cannot hold a blob")
    signer, _ = _honest(backend)
    backend.raw_execute("DROP TRIGGER IF EXISTS audit_records_no_update", ())
    backend.raw_execute("UPDATE audit_records SET ts = ? WHERE seq = 4", (b"x" * 2_000_000,))
    report = _verify(backend, signer, deep=True)
    assert [(p.seq, p.code) for p in report.problems] == [(4, "index_mismatch")]


def test_a_record_sharing_a_seq_at_a_pages_edge_is_walked(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the key dropped, a made-up record can share the seq of the last record of a page: the
    next page started after that seq, so the walk never saw it (verify said ok, with a record whose
    hash is garbage in the log every reader shows). Pages go on from that seq now."""
    if backend.name != "postgres":
        pytest.skip("SQLite's INTEGER PRIMARY KEY cannot repeat")
    from proctor.audit import verify

    signer, _ = _honest(backend)
    backend.raw_execute("ALTER TABLE audit_records DROP CONSTRAINT audit_records_pkey", ())
    [(forged,)] = backend.raw_execute(
        "INSERT INTO audit_writers (started_at, host, pid, info) VALUES (1, 'h', 1, 'x') RETURNING id", ()
    )
    backend.raw_execute(
        "INSERT INTO audit_records (seq, ts, kind, body, prev_hash, hash, writer, wseq)"
        " VALUES (4, 4, 'approval.granted', ?, ?, ?, ?, 1)",
        (b'{"v":1}', GENESIS, b"h" * 32, forged),
    )
    monkeypatch.setattr(verify, "_PAGE", 4)  # seq 4 ends the first page
    report = _verify(backend, signer)
    assert [(p.seq, p.code) for p in report.problems] == [(4, "record_modified")]
    assert report.records_checked == 10  # every honest record too
