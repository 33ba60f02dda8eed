"""Red team of "heads left behind are signed by the next process" (docs/adr/0036), on both engines.

The next process signs, with the workspace key, the head of every writer that is gone. Before, it
signed whatever the store held there: a tail whose records do not hash, records someone appended
to the legacy chain (writer 0) long after every process stopped writing it, and heads resting on
a checkpoint row nobody signed (a forged signature, or another writer's checkpoint relabelled, its
``writer`` column being outside the signature). Now it checks the chain first and leaves those
unsigned; an honest dead writer beside them is still signed.
"""
# ruff: noqa: F811 - the imported fixture `backend` is every test's parameter

from __future__ import annotations

import socket
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from tests.conformance.test_store_conformance import Backend, backend  # noqa: F401

from proctor.audit import AuditLog, verify_log
from proctor.audit.chain import chain_hash, hasher_for
from proctor.canonical import canonical_json
from proctor.clock import FrozenClock
from proctor.store.base import AuditRow, Checkpoint, PendingAudit, Store

GONE_PID = 2**22 + 12345  # above Linux's pid_max: no process has it


class _Signer:
    def __init__(self) -> None:
        self._key = Ed25519PrivateKey.generate()
        self.kid = "rt-orphans"

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def public(self) -> Ed25519PublicKey:
        return self._key.public_key()


def _dead_writer(store: Store, clock: FrozenClock, n: int) -> tuple[int, list[AuditRow]]:
    """A writer of this host whose process is gone, killed before its first checkpoint."""
    w = store.register_audit_writer(clock.now(), socket.gethostname(), GONE_PID, "killed")
    rows = store.append_audit(
        [PendingAudit(clock.now(), "call", canonical_json({"v": 1, "i": i})) for i in range(n)],
        hasher_for(w),
        writer=w,
    )
    return w, rows


def _next_process(store: Store, clock: FrozenClock, signer: _Signer) -> None:
    with AuditLog(store, clock, signer) as audit:  # signs the heads left behind on close
        audit.append("call", {"next": True})


def _signed(store: Store, writer: int) -> list[int]:
    return [cp.seq for cp in store.list_checkpoints() if cp.writer == writer]


def test_a_dead_writers_tail_that_does_not_hash_is_not_signed(backend: Backend) -> None:
    store, clock, signer = backend.store, FrozenClock(), _Signer()
    honest, honest_rows = _dead_writer(store, clock, 3)
    bad, rows = _dead_writer(store, clock, 3)
    # someone with write access adds a record to the dead writer's unsigned tail, its hash made up
    backend.raw_execute(
        "INSERT INTO audit_records (seq, ts, kind, body, prev_hash, hash, writer, wseq)"
        " VALUES (?, ?, 'call', ?, ?, ?, ?, 4)",
        (rows[-1].seq + 100, clock.now(), b'{"v":1,"i":9}', rows[-1].hash, b"h" * 32, bad),
    )
    _next_process(store, clock, signer)
    assert _signed(store, honest) == [honest_rows[-1].seq]  # the honest one is vouched for
    assert _signed(store, bad) == []  # never a checkpoint over a chain that does not hash
    report = verify_log(store, {signer.kid: signer.public()})
    assert [p.code for p in report.problems] == ["record_modified"]


def test_records_added_to_the_legacy_chain_later_are_not_signed(backend: Backend) -> None:
    """Writer 0 is the chain written before per-writer chains: no process appends to it any more, so
    a record there after the first writer's is someone's addition (its hash needs no key)."""
    store, clock, signer = backend.store, FrozenClock(), _Signer()
    legacy = store.append_audit(
        [PendingAudit(clock.now(), "x", canonical_json({"v": 1, "i": i})) for i in range(2)], chain_hash
    )
    _next_process(store, clock, signer)  # the first writer signs the legacy tail it found
    assert _signed(store, 0) == [legacy[-1].seq]
    [added] = store.append_audit([PendingAudit(clock.now(), "approval.granted", b'{"v":1}')], chain_hash)
    # and hides where the per-writer chains began, as far as their registrations say
    backend.raw_execute("UPDATE audit_writers SET first_seq = NULL WHERE id <> 0", ())
    _next_process(store, clock, signer)
    assert _signed(store, 0) == [legacy[-1].seq]  # not the added record
    report = verify_log(store, {signer.kid: signer.public()})
    assert {w["writer"]: w["unsigned_tail"] for w in report.writers}[0] == 1
    assert added.writer == 0


@pytest.mark.parametrize("how", ["forged", "relabelled"])
def test_a_head_resting_on_a_checkpoint_this_key_did_not_sign_is_not_signed(
    backend: Backend, how: str
) -> None:
    store, clock, signer = backend.store, FrozenClock(), _Signer()
    _next_process(store, clock, signer)  # a writer with a genuine checkpoint of its own
    [mine] = store.list_checkpoints()
    dead, rows = _dead_writer(store, clock, 2)
    if how == "forged":  # a checkpoint row over the dead writer's first record, signed by nobody
        store.add_checkpoint(Checkpoint(rows[0].seq, rows[0].hash, clock.now(), signer.kid, b"s" * 64, dead))
    else:  # the other writer's genuine checkpoint, its (unsigned) writer column changed
        backend.raw_execute("UPDATE audit_checkpoints SET writer = ? WHERE seq = ?", (dead, mine.seq))
    before = {cp.seq for cp in store.list_checkpoints()}
    _next_process(store, clock, signer)
    assert not any(cp.seq == rows[-1].seq for cp in store.list_checkpoints())
    assert {cp.seq for cp in store.list_checkpoints()} - before == {store.audit_head().seq}  # type: ignore[union-attr]


def test_a_running_process_signs_a_writer_killed_beside_it(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several gateways: one is killed while the others keep running. Its unsigned tail is signed by
    a running process's periodic pass, not only when some process starts or stops (issue 19)."""
    import proctor.audit.log as audit_log
    from proctor.clock import SystemClock

    monkeypatch.setattr(audit_log, "ORPHANS_AFTER_S", 0.0)
    monkeypatch.setattr(audit_log, "ORPHANS_EVERY_S", 0.2, raising=False)
    store, clock, signer = backend.store, FrozenClock(), _Signer()
    real = SystemClock()
    with AuditLog(store, clock, signer) as audit:
        audit.append("call", {"running": True})
        until = real.monotonic() + 3.0
        while real.monotonic() < until:  # the first pass, with nothing to sign yet
            time.sleep(0.1)
        killed, rows = _dead_writer(store, clock, 3)  # killed after the first pass
        until = real.monotonic() + 10.0
        while not _signed(store, killed) and real.monotonic() < until:
            time.sleep(0.1)
        assert _signed(store, killed) == [rows[-1].seq]  # while the running process still runs


def test_the_pass_over_killed_writers_reads_only_writers_that_moved(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pass repeats every 30 s on the writer thread: a writer it settled (signed, covered or
    refused) that has not moved since is not read again; one that moved is, and is signed."""
    store, clock, signer = backend.store, FrozenClock(), _Signer()
    dead = [_dead_writer(store, clock, 2) for _ in range(3)]
    with AuditLog(store, clock, signer) as audit:
        assert audit.sign_orphans() == 3
        reads: list[int] = []
        head_of = store.audit_writer_head

        def counted(w: int) -> AuditRow | None:
            reads.append(w)
            return head_of(w)

        monkeypatch.setattr(store, "audit_writer_head", counted)
        assert audit.sign_orphans() == 0
        assert reads == []
        w, rows = dead[1]
        more = store.append_audit(
            [PendingAudit(clock.now(), "call", canonical_json({"v": 1, "late": True}))],
            hasher_for(w),
            writer=w,
        )
        assert audit.sign_orphans() == 1
        assert reads == [w]
        assert _signed(store, w) == [rows[-1].seq, more[-1].seq]
