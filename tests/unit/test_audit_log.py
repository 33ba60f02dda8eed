"""AuditLog: durable before acknowledgement, group commit, failures surfaced, checkpoints."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from proctor.audit import GENESIS, AuditEntry, AuditLog, chain_hash, checkpoint_payload, verify_log
from proctor.audit.chain import writer_chain_hash
from proctor.clock import FrozenClock
from proctor.errors import StoreError, StoreFull, StoreUnavailable, ValidationError
from proctor.store import Store, open_store
from proctor.store.base import AuditRow, ChainHasher, PendingAudit
from proctor.types import AgentName, Verdict


class Signer:
    """A test checkpoint signer, shaped like ``proctor.audit.key.AuditSigningKey``."""

    def __init__(self, kid: str = "audit-test-1") -> None:
        self._key = Ed25519PrivateKey.generate()
        self.kid = kid
        self.signed = 0

    def sign(self, data: bytes) -> bytes:
        self.signed += 1
        return self._key.sign(data)

    def public(self) -> Ed25519PublicKey:
        return self._key.public_key()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "proctor.db"


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{db}")
    yield s
    s.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def signer() -> Signer:
    return Signer()


def test_append_returns_chained_row(store: Store, clock: FrozenClock) -> None:
    """A record gets seq 1, links to genesis, and its body is the canonical JSON of kind, ts and fields."""
    with AuditLog(store, clock, None) as audit:
        row = audit.append(
            "decision",
            {"reasons": ["policy:p1"], "amount": 12},
            agent=AgentName("finance-bot"),
            tool="payments.transfer",
            decision=Verdict.ALLOW,
            decision_id="dec_0123456789abcdefghij",
        )
    assert row.seq == 1
    assert (row.writer, row.wseq) == (1, 1)  # the log's own chain (docs/adr/0036)
    assert row.prev_hash == GENESIS
    assert row.hash == writer_chain_hash(1, 1, 1, GENESIS, row.body)
    assert row.hash != chain_hash(1, GENESIS, row.body)  # the writer is in the hash
    assert row.body == (
        b'{"agent":"finance-bot","amount":12,"decision":"allow","decision_id":"dec_0123456789abcdefghij",'
        b'"kind":"decision","reasons":["policy:p1"],"tool":"payments.transfer","ts":1767225600000000,"v":1}'
    )
    assert (row.agent, row.task, row.tool, row.decision) == (
        "finance-bot",
        None,
        "payments.transfer",
        "allow",
    )
    assert type(row.agent) is str
    assert type(row.decision) is str
    assert row.ts == 1_767_225_600.0


def test_body_holds_no_floats(store: Store, clock: FrozenClock) -> None:
    """The timestamp goes into the body as whole microseconds, not as a float."""
    clock.set(1_767_225_600.123456)
    with AuditLog(store, clock, None) as audit:
        row = audit.append("note", {})
    body = json.loads(row.body)
    assert body["ts"] == 1_767_225_600_123_456
    assert type(body["ts"]) is int


def test_append_is_durable_for_a_new_connection(db: Path, store: Store, clock: FrozenClock) -> None:
    """Once ``append`` returns, another connection and another store on the same file see the record."""
    audit = AuditLog(store, clock, None)
    try:
        row = audit.append("decision", {"n": 1}, agent="bot")
        con = sqlite3.connect(db)
        try:
            got = con.execute("SELECT seq, body, hash FROM audit_records").fetchall()
        finally:
            con.close()
        assert got == [(1, row.body, row.hash)]
        other = open_store(f"sqlite:///{db}", migrate=False)
        try:
            head = other.audit_head()
        finally:
            other.close()
        assert head is not None
        assert head.hash == row.hash
    finally:
        audit.close()


def _counting(monkeypatch: pytest.MonkeyPatch, store: Store) -> list[int]:
    sizes: list[int] = []
    real = store.append_audit

    def counted(records: Sequence[PendingAudit], hasher: ChainHasher, **kw: Any) -> list[AuditRow]:
        sizes.append(len(records))
        return real(records, hasher, **kw)

    monkeypatch.setattr(store, "append_audit", counted)
    return sizes


def test_group_commit_many_threads(
    monkeypatch: pytest.MonkeyPatch, store: Store, clock: FrozenClock, signer: Signer
) -> None:
    """8 threads x 500 appends: seqs 1..4000 without gaps, every caller's row is its own, batches share
    transactions, and the chain verifies."""
    sizes = _counting(monkeypatch, store)
    audit = AuditLog(store, clock, signer, checkpoint_every=1000)
    results: dict[int, list[AuditRow]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(t: int) -> None:
        try:
            start.wait()
            results[t] = [audit.append("call", {"thread": t, "i": i}, agent=f"agent-{t}") for i in range(500)]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    audit.close()

    assert errors == []
    seqs = sorted(r.seq for rows in results.values() for r in rows)
    assert seqs == list(range(1, 4001))
    for t, rows in results.items():
        assert [json.loads(r.body)["i"] for r in rows] == list(range(500))
        assert all(json.loads(r.body)["thread"] == t for r in rows)
        assert [r.seq for r in rows] == sorted(r.seq for r in rows)
    assert sum(sizes) == 4000
    assert len(sizes) < 4000  # at least some records shared a commit
    report = verify_log(store, {signer.kid: signer.public()}, deep=True)
    assert report.ok, report.problems
    assert report.records_checked == 4000
    assert report.checkpoints_checked >= 4


def test_failed_commit_reaches_every_waiting_caller(
    monkeypatch: pytest.MonkeyPatch, store: Store, clock: FrozenClock
) -> None:
    """When the store cannot commit, every caller in the batch gets ``StoreFull``; nothing is
    acknowledged, nothing is written, and the log carries on consistently afterwards."""
    real = store.append_audit
    gate = threading.Event()
    calls: list[int] = []

    def full(records: Sequence[PendingAudit], hasher: ChainHasher, **kw: Any) -> list[AuditRow]:
        calls.append(len(records))
        gate.wait(5)
        raise StoreFull("database or disk is full: nothing was written")

    monkeypatch.setattr(store, "append_audit", full)
    audit = AuditLog(store, clock, None)
    outcomes: list[object] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        try:
            row: object = audit.append("call", {"i": i})
        except BaseException as exc:
            row = exc
        with lock:
            outcomes.append(row)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    while sum(calls) < 1:  # the first batch is in the store; the others queue behind it
        threading.Event().wait(0.001)
    threading.Event().wait(0.05)
    gate.set()
    for th in threads:
        th.join()

    assert len(outcomes) == 8
    assert all(isinstance(o, StoreFull) for o in outcomes), outcomes
    assert all(o.code == "store_full" for o in outcomes if isinstance(o, StoreFull))
    assert sum(calls) == 8
    assert len(calls) < 8  # callers shared a failing batch
    assert store.audit_head() is None

    monkeypatch.setattr(store, "append_audit", real)
    row = audit.append("call", {"i": "after"})
    audit.close()
    assert row.seq == 1
    assert row.prev_hash == GENESIS
    assert verify_log(store, {}).ok


def test_unexpected_store_exception_becomes_store_error(
    monkeypatch: pytest.MonkeyPatch, store: Store, clock: FrozenClock
) -> None:
    """A non-Proctor exception from the store reaches the caller as a ``StoreError``."""

    def broken(records: Sequence[PendingAudit], hasher: ChainHasher, **kw: Any) -> list[AuditRow]:
        raise sqlite3.IntegrityError("UNIQUE constraint failed: audit_records.seq")

    monkeypatch.setattr(store, "append_audit", broken)
    with AuditLog(store, clock, None) as audit, pytest.raises(StoreError, match="UNIQUE") as info:
        audit.append("call", {})
    assert isinstance(info.value.__cause__, StoreError)


def test_append_many_is_one_transaction(
    monkeypatch: pytest.MonkeyPatch, store: Store, clock: FrozenClock
) -> None:
    """``append_many`` commits consecutive records in one ``append_audit`` call."""
    sizes = _counting(monkeypatch, store)
    with AuditLog(store, clock, None) as audit:
        rows = audit.append_many(
            [AuditEntry("task.start", {"n": i}, task="tsk_0123456789abcdefghij") for i in range(5)]
        )
        assert audit.append_many([]) == []
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert sizes == [5]
    assert all(r.task == "tsk_0123456789abcdefghij" for r in rows)


def test_append_many_is_all_or_nothing(store: Store, clock: FrozenClock) -> None:
    """One invalid entry in ``append_many`` means nothing is written."""
    with AuditLog(store, clock, None) as audit, pytest.raises(ValidationError):
        audit.append_many([AuditEntry("ok", {"n": 1}), AuditEntry("bad", {"x": float("nan")})])
    assert store.audit_head() is None


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("decision", {"agent": "sneaky"}),
        ("decision", {"v": 2}),
        ("decision", {"ts": 0}),
        ("Decision", {}),
        ("", {}),
        ("decision", {"bad": float("inf")}),
        ("decision", {"big": 2**60}),
        ("decision", {"obj": object()}),
    ],
)
def test_invalid_records_are_refused(
    store: Store, clock: FrozenClock, kind: str, fields: dict[str, Any]
) -> None:
    """Reserved field names, bad kinds and values JSON cannot hold raise ``ValidationError``; nothing is written."""
    with AuditLog(store, clock, None) as audit, pytest.raises(ValidationError):
        audit.append(kind, fields)
    assert store.audit_head() is None


def test_redact_hook_is_applied(store: Store, clock: FrozenClock) -> None:
    """The ``redact`` callable sees the fields and what it returns is what gets written."""

    def redact(fields: Any) -> dict[str, Any]:
        return {k: ("[redacted]" if k == "password" else v) for k, v in fields.items()}

    with AuditLog(store, clock, None, redact=redact) as audit:
        row = audit.append("login", {"user": "alice", "password": "hunter2"})
    assert b"hunter2" not in row.body
    assert json.loads(row.body)["password"] == "[redacted]"


def test_checkpoints_every_n_records(store: Store, clock: FrozenClock, signer: Signer) -> None:
    """With ``checkpoint_every=10`` a checkpoint is signed after the 10th and 20th record, and one on
    close for the rest; each signs the chain head at its seq."""
    audit = AuditLog(store, clock, signer, checkpoint_every=10, checkpoint_interval_s=3600)
    rows = [audit.append("call", {"i": i}) for i in range(25)]
    audit.flush()  # flush signs the head too
    assert [c.seq for c in store.list_checkpoints()] == [10, 20, 25]
    rows.append(audit.append("call", {"i": 25}))
    audit.close()
    cps = store.list_checkpoints()
    assert [c.seq for c in cps] == [10, 20, 25, 26]
    for cp in cps:
        assert cp.head_hash == rows[cp.seq - 1].hash
        assert cp.kid == signer.kid
        signer.public().verify(cp.signature, checkpoint_payload(cp.seq, cp.head_hash, round(cp.ts * 1e6)))


def test_checkpoint_after_interval(store: Store, clock: FrozenClock, signer: Signer) -> None:
    """The interval, read from the injected clock, triggers a checkpoint after the next commit."""
    audit = AuditLog(store, clock, signer, checkpoint_every=1000, checkpoint_interval_s=60)
    audit.append("call", {"i": 1})
    audit.append("call", {"i": 2})
    assert store.list_checkpoints() == []
    clock.advance(61)
    audit.append("call", {"i": 3})
    audit.append("call", {"i": 4})  # the writer has finished the batch before this one
    assert [c.seq for c in store.list_checkpoints()] == [3]
    audit.close()
    assert [c.seq for c in store.list_checkpoints()] == [3, 4]


def test_close_without_new_records_signs_nothing(store: Store, clock: FrozenClock, signer: Signer) -> None:
    """A log closed with no records since its last checkpoint adds no checkpoint; ``close`` is idempotent."""
    audit = AuditLog(store, clock, signer)
    audit.close()
    audit.close()
    assert store.list_checkpoints() == []
    assert signer.signed == 0


def test_append_after_close_is_refused(store: Store, clock: FrozenClock) -> None:
    """A closed log refuses records with ``StoreUnavailable`` instead of dropping them."""
    audit = AuditLog(store, clock, None)
    audit.close()
    with pytest.raises(StoreUnavailable):
        audit.append("call", {})


def test_failing_signer_does_not_fail_appends(store: Store, clock: FrozenClock) -> None:
    """Records are committed and acknowledged even when signing a checkpoint fails; the error is kept."""

    class BrokenSigner:
        kid = "broken"

        def sign(self, data: bytes) -> bytes:
            raise RuntimeError("hsm offline")

    audit = AuditLog(store, clock, BrokenSigner(), checkpoint_every=1)
    row = audit.append("call", {})
    audit.append("call", {})
    assert row.seq == 1
    assert isinstance(audit.checkpoint_error, RuntimeError)
    audit.close()
    assert store.list_checkpoints() == []


def test_reopened_log_continues_the_chain(store: Store, clock: FrozenClock, signer: Signer) -> None:
    """A new ``AuditLog`` on an existing store is a new writer: its chain starts at its own
    genesis, the global seq carries on, and each writer's checkpoints sign its own head."""
    with AuditLog(store, clock, signer, checkpoint_every=2) as first:
        a = first.append("call", {"i": 1})
        b = first.append("call", {"i": 2})
    with AuditLog(store, clock, signer, checkpoint_every=2) as second:
        assert second.head_seq == 0
        c = second.append("call", {"i": 3})
        second.append("call", {"i": 4})
    assert (a.seq, b.seq, c.seq) == (1, 2, 3)
    assert (b.writer, b.wseq, c.wseq) == (a.writer, 2, 1)
    assert c.writer != a.writer
    assert c.prev_hash == GENESIS
    assert [(cp.seq, cp.writer) for cp in store.list_checkpoints()] == [(2, a.writer), (4, c.writer)]
    report = verify_log(store, {signer.kid: signer.public()})
    assert report.ok
    assert report.checkpoints_checked == 2
    assert [(w["writer"], w["records"], w["unsigned_tail"]) for w in report.writers] == [
        (a.writer, 2, 0),
        (c.writer, 2, 0),
    ]


def test_bad_settings_are_refused(store: Store, clock: FrozenClock) -> None:
    """``checkpoint_every`` below 1 or a non-positive interval is a ``ValidationError``."""
    with pytest.raises(ValidationError):
        AuditLog(store, clock, None, checkpoint_every=0)
    with pytest.raises(ValidationError):
        AuditLog(store, clock, None, checkpoint_interval_s=0)


def _two_writers(first: Store, second: Store, clock: FrozenClock, signer: Signer) -> None:
    """Two logs (as two Proctor processes would have) append from 4 threads each to one store."""
    logs = [
        AuditLog(first, clock, signer, checkpoint_every=50),
        AuditLog(second, clock, signer, checkpoint_every=50),
    ]
    errors: list[BaseException] = []

    def work(log: AuditLog, t: int) -> None:
        try:
            for i in range(100):
                log.append("call", {"t": t, "i": i})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(logs[t % 2], t)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for log in logs:
        log.close()
    assert errors == []
    report = verify_log(first, {signer.kid: signer.public()}, deep=True)
    assert report.ok, report.problems
    assert report.records_checked == 800
    assert report.checkpoints_checked >= 2


def test_two_logs_share_one_sqlite_file(db: Path, store: Store, clock: FrozenClock, signer: Signer) -> None:
    """Two stores and logs on one SQLite file interleave into one gap-free, verifiable chain."""
    other = open_store(f"sqlite:///{db}", migrate=False)
    try:
        _two_writers(store, other, clock, signer)
    finally:
        other.close()


def test_two_logs_share_one_postgres_database(
    pg_migrated_url: str, clock: FrozenClock, signer: Signer
) -> None:
    """Two PostgreSQL stores (two processes) appending at once still build one verifiable chain."""
    first = open_store(pg_migrated_url, migrate=False)
    second = open_store(pg_migrated_url, migrate=False)
    try:
        _two_writers(first, second, clock, signer)
    finally:
        first.close()
        second.close()


def test_append_async_is_durable_and_gap_free(
    db: Path, store: Store, clock: FrozenClock, signer: Signer
) -> None:
    """Many concurrent asyncio callers share commits; each resolves only once its record is
    visible to a new connection, and the chain they build verifies."""
    import asyncio

    seen_late: list[int] = []

    async def caller(audit: AuditLog, i: int) -> AuditRow:
        row = await audit.append_async("decision", {"i": i}, agent="bot", decision="allow")
        conn = sqlite3.connect(db)
        try:
            found = conn.execute("SELECT count(*) FROM audit_records WHERE seq = ?", (row.seq,)).fetchone()[0]
        finally:
            conn.close()
        if found != 1:
            seen_late.append(row.seq)
        return row

    async def main(audit: AuditLog) -> list[AuditRow]:
        return await asyncio.gather(*(caller(audit, i) for i in range(300)))

    with AuditLog(store, clock, signer, checkpoint_every=50) as audit:
        rows = asyncio.run(main(audit))
    assert not seen_late
    assert sorted(r.seq for r in rows) == list(range(1, 301))
    assert sorted(json.loads(r.body)["i"] for r in rows) == list(range(300))
    report = verify_log(store, {signer.kid: signer.public()})
    assert report.ok, report.problems
    assert report.records_checked == 300


def test_append_async_failure_reaches_every_caller(
    store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed commit raises the store's error in every awaiting coroutine; nothing is written."""
    import asyncio

    def full(records: Sequence[PendingAudit], hasher: ChainHasher, **kw: Any) -> list[AuditRow]:
        raise StoreFull("database or disk is full: nothing was written")

    async def main(audit: AuditLog) -> list[BaseException | AuditRow]:
        return await asyncio.gather(
            *(audit.append_async("decision", {"i": i}) for i in range(20)), return_exceptions=True
        )

    with AuditLog(store, clock, None) as audit:
        monkeypatch.setattr(store, "append_audit", full)
        outcomes = asyncio.run(main(audit))
        monkeypatch.undo()
    assert all(isinstance(o, StoreFull) for o in outcomes), outcomes
    assert store.audit_head() is None


def test_deferred_records_ride_along_or_commit_when_due(store: Store, clock: FrozenClock) -> None:
    """A deferred record costs no commit of its own: it is written with the next record somebody
    waits for, or on its own once `max_defer_s` has passed, and `close` never drops one."""
    import time as _time

    with AuditLog(store, clock, None, max_defer_s=0.3) as audit:
        audit.defer("call.completed", {"n": 1})
        _time.sleep(0.05)
        assert store.audit_head() is None  # not yet: nobody waits for it
        row = audit.append("decision", {"n": 2})
        assert row.seq == 2  # the deferred record went first, in the same commit
        audit.defer("call.completed", {"n": 3})
        deadline = _time.monotonic() + 5
        while (store.audit_head() or row).seq < 3 and _time.monotonic() < deadline:
            _time.sleep(0.02)
        head = store.audit_head()
        assert head is not None
        assert head.seq == 3
        audit.defer("call.completed", {"n": 4})
    head = store.audit_head()
    assert head is not None
    assert head.seq == 4


def test_inline_async_append_is_durable_and_chained(
    db: Path, store: Store, clock: FrozenClock, signer: Signer
) -> None:
    """`append_async(inline=True)` commits on the caller's thread when the writer is idle, taking
    waiting deferred records with it; mixed with threaded appends the chain stays whole."""
    import asyncio

    with AuditLog(store, clock, signer, checkpoint_every=7) as audit:
        audit.defer("call.completed", {"n": 0})

        async def main() -> list[AuditRow]:
            return [await audit.append_async("decision", {"n": i}, inline=True) for i in range(1, 20)]

        rows = asyncio.run(main())
        threads = [threading.Thread(target=audit.append, args=("decision", {"t": t})) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        conn = sqlite3.connect(db)
        try:
            seen = conn.execute(
                "SELECT count(*) FROM audit_records WHERE seq <= ?", (rows[-1].seq,)
            ).fetchone()[0]
        finally:
            conn.close()
    assert rows[0].seq == 2  # the deferred record was committed first, with it
    assert seen == rows[-1].seq
    report = verify_log(store, {signer.kid: signer.public()})
    assert report.ok, report.problems
    assert report.records_checked == 28


def test_an_inline_commit_leaves_a_due_checkpoint_to_the_writer(store: Store, clock: FrozenClock) -> None:
    """Signing, storing and anchoring a checkpoint (fsyncs and a file lock) used to run on the
    thread that committed inline, before its caller heard back; the writer thread does it now."""
    import asyncio
    import time

    signer = Signer()
    anchored: list[tuple[int, str]] = []
    with AuditLog(
        store,
        clock,
        signer,
        checkpoint_every=1,
        on_checkpoint=lambda cp: anchored.append((cp.seq, threading.current_thread().name)),
    ) as audit:

        async def one() -> AuditRow:
            return await audit.append_async("decision", {"n": 1}, inline=True)

        row = asyncio.run(one())
        deadline = time.monotonic() + 10
        while not anchored and time.monotonic() < deadline:
            time.sleep(0.01)
        assert anchored == [(row.seq, "proctor-audit-writer")]


def test_the_head_never_moves_back_when_commits_finish_out_of_order(
    store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An inline commit and the writer's are one writer's: the second waits for the first (its
    chain has one head), and the head a checkpoint signs (and ``flush`` waits for) is the newest."""
    import asyncio

    signer = Signer()
    audit = AuditLog(store, clock, signer)
    original = store.append_audit
    committed = threading.Event()
    release = threading.Event()

    def append_audit(records: Sequence[PendingAudit], hasher: ChainHasher, **kw: Any) -> list[AuditRow]:
        rows = original(records, hasher, **kw)
        if threading.current_thread().name == "inline":
            committed.set()
            assert release.wait(10)  # committed, not yet settled: the writer commits meanwhile
        return rows

    monkeypatch.setattr(store, "append_audit", append_audit)

    def inline() -> None:
        async def one() -> None:
            await audit.append_async("decision", {"n": 1}, inline=True)

        asyncio.run(one())

    t = threading.Thread(target=inline, name="inline")
    t.start()
    assert committed.wait(10)
    flushed = threading.Thread(target=audit.flush)
    got: list[AuditRow] = []
    appender = threading.Thread(target=lambda: got.append(audit.append("decision", {"n": 2})))
    appender.start()  # by the writer thread, which waits for the inline commit of its chain
    flushed.start()
    flushed.join(0.2)
    assert flushed.is_alive()  # flush waits for the inline batch still in flight
    assert appender.is_alive()
    assert not got
    release.set()
    t.join(10)
    appender.join(10)
    flushed.join(10)
    assert not flushed.is_alive()
    second = got[0]
    assert audit.head_seq == second.seq == 2
    audit.close()
    cp = store.latest_checkpoint()
    assert cp is not None
    assert cp.seq == 2


def test_a_timed_out_write_marks_the_log_failing_until_a_commit_succeeds(
    store: Store, clock: FrozenClock
) -> None:
    """A store that hangs (rather than errs) makes a write time out: the log is then failing, so a
    transport falls back to durable-first ordering, until a commit succeeds again."""
    from proctor.store.guard import StoreGuard

    release = threading.Event()
    real = store.append_audit

    def hanging(items: Sequence[PendingAudit], hasher: ChainHasher, **kw: Any) -> list[AuditRow]:
        release.wait(10)
        return real(items, hasher)

    guard = StoreGuard(lambda: None, timeout_s=0.2, probe_interval_s=0.02)
    audit = AuditLog(store, clock, None)
    audit.guard = guard
    try:
        store.append_audit = hanging  # type: ignore[method-assign,assignment]
        with pytest.raises(StoreUnavailable):
            asyncio.run(audit.append_async("x.test", {"n": 1}))
        assert audit.failing
        store.append_audit = real  # type: ignore[method-assign]
        release.set()
        for _ in range(500):  # the probe closes the breaker (it answers at once)
            if guard.down is None:
                break
            threading.Event().wait(0.01)
        asyncio.run(audit.append_async("x.test", {"n": 2}))
        assert not audit.failing
    finally:
        release.set()
        audit.close()
        guard.close()


def test_close_waits_for_an_inline_commit_that_hands_its_batch_over(
    db: Path, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An inline commit that started before ``close()`` and then finds the write lock taken hands
    its batch to the writer thread. The writer used to exit meanwhile (nothing else was queued):
    the batch was never committed and its caller never answered (it hung until its own timeout)."""
    audit = AuditLog(store, clock, None)
    original = store.append_audit
    entered = threading.Event()

    def append_audit(records: Sequence[PendingAudit], hasher: ChainHasher, **kw: Any) -> list[AuditRow]:
        if threading.current_thread().name != "inline":
            return original(records, hasher, **kw)
        entered.set()
        audit._thread.join(0.5)  # the writer, told to close, exits (or waits for this commit)
        other = sqlite3.connect(db, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another process's transaction holds the lock now
            try:
                return original(records, hasher, **kw)  # refused at once: the batch is handed over
            finally:
                other.execute("ROLLBACK")
        finally:
            other.close()

    monkeypatch.setattr(store, "append_audit", append_audit)
    out: list[AuditRow | BaseException] = []

    def inline() -> None:
        async def one() -> None:
            try:
                out.append(await asyncio.wait_for(audit.append_async("decision", {"n": 1}, inline=True), 10))
            except BaseException as exc:  # reported below
                out.append(exc)

        asyncio.run(one())

    t = threading.Thread(target=inline, name="inline")
    t.start()
    assert entered.wait(10)
    audit.close()
    t.join(15)
    assert len(out) == 1
    assert isinstance(out[0], AuditRow), out
    head = store.audit_head()
    assert head is not None
    assert head.seq == out[0].seq == 1


def test_an_inline_commit_leaves_isolating_a_refused_record_to_the_writer(
    db: Path, store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deferred record the database refuses fails the inline batch it rode in. Finding it commits
    the batch again in parts, each waiting for the write lock: that search used to run on the event
    loop's thread (which must never wait for the lock, issue 12.2); the writer thread does it now,
    and the caller's record is committed all the same."""
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute(
        "CREATE TRIGGER poison BEFORE INSERT ON audit_records WHEN NEW.tool = 'poison.tool'"
        " BEGIN SELECT RAISE(ABORT, 'poisoned record'); END"
    )
    raw.close()
    original = store.append_audit
    calls: list[tuple[str, int]] = []

    def append_audit(records: Sequence[PendingAudit], hasher: ChainHasher, **kw: Any) -> list[AuditRow]:
        calls.append((threading.current_thread().name, len(records)))
        return original(records, hasher, **kw)

    monkeypatch.setattr(store, "append_audit", append_audit)
    with AuditLog(store, clock, None, max_defer_s=3600) as audit:
        audit.defer("call.completed", {"n": 0}, tool="poison.tool")
        audit.defer("call.completed", {"n": 1}, tool="fine.tool")

        def inline() -> AuditRow:
            async def one() -> AuditRow:
                return await audit.append_async("decision", {"n": 2}, inline=True)

            return asyncio.run(one())

        rows: list[AuditRow] = []
        t = threading.Thread(target=lambda: rows.append(inline()), name="inline")
        t.start()
        t.join(15)
    assert len(rows) == 1
    assert calls[0] == ("inline", 3)  # the inline attempt, refused as a whole
    assert len(calls) > 1
    assert {name for name, _ in calls[1:]} == {"proctor-audit-writer"}, calls
    assert [r.tool for r in store.iter_audit()] == ["fine.tool", None]
    assert rows[0].seq == 2


def test_without_wal_the_inline_commit_is_handed_to_the_writer(
    store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filesystem that refuses WAL leaves SQLite with a rollback journal, whose COMMIT waits (up
    to the busy timeout) for every reader, of any process, to finish: no commit there is one that
    cannot wait, so the event loop's record goes to the writer thread instead."""
    from proctor.store.sqlite import SqliteStore

    assert isinstance(store, SqliteStore)
    store._stop.set()  # no new connection (each sets `_wal` from its journal mode)
    store._checkpointer.join(10)
    store.audit_head()
    monkeypatch.setattr(store, "_wal", False)  # as `PRAGMA journal_mode = WAL` reports it then
    original = store.append_audit
    threads: list[str] = []

    def append_audit(records: Sequence[PendingAudit], hasher: ChainHasher, **kw: Any) -> list[AuditRow]:
        threads.append(threading.current_thread().name)
        return original(records, hasher, **kw)

    monkeypatch.setattr(store, "append_audit", append_audit)
    with AuditLog(store, clock, None) as audit:

        async def one() -> AuditRow:
            return await audit.append_async("decision", {"n": 1}, inline=True)

        row = asyncio.run(one())
    assert row.seq == 1
    assert threads[-1] == "proctor-audit-writer", threads


def test_an_interrupted_inline_commit_does_not_hold_close(
    store: Store, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during an inline commit (on the loop's thread) must not leave its batch claimed for
    ever: ``close()``, which waits for an inline commit in flight, would then never return."""
    audit = AuditLog(store, clock, None)

    def interrupted(records: Sequence[PendingAudit], hasher: ChainHasher, **kw: Any) -> list[AuditRow]:
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "append_audit", interrupted)

    async def one() -> AuditRow:
        return await audit.append_async("decision", {"n": 1}, inline=True)

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(one())
    closing = threading.Thread(target=audit.close, daemon=True)
    closing.start()
    closing.join(10)
    assert not closing.is_alive()


def test_deferred_records_of_a_failed_commit_are_carried_not_dropped(
    monkeypatch: pytest.MonkeyPatch, store: Store, clock: FrozenClock
) -> None:
    """The store is down for a commit that held deferred records: the caller who waited is told
    (StoreUnavailable), the deferred records are carried and committed, in order, ahead of the next
    record once the store answers again (issue 19: a queued record is never dropped)."""
    real = store.append_audit
    down = threading.Event()
    down.set()

    def flaky(records: Sequence[PendingAudit], hasher: ChainHasher, **kw: Any) -> list[AuditRow]:
        if down.is_set():
            raise StoreUnavailable("cannot reach the store")
        return real(records, hasher, **kw)

    monkeypatch.setattr(store, "append_audit", flaky)
    with AuditLog(store, clock, None, max_defer_s=3600) as audit:
        audit.defer("call.completed", {"n": 1})
        audit.defer("lease.used", {"n": 2})
        with pytest.raises(StoreUnavailable):
            audit.append("decision", {"n": 3})
        assert store.audit_head() is None
        down.clear()
        row = audit.append("decision", {"n": 4})
    rows = list(store.iter_audit())
    assert [json.loads(r.body)["n"] for r in rows] == [1, 2, 4]
    assert row.seq == rows[-1].seq
    assert [r.wseq for r in rows] == [1, 2, 3]
    assert verify_log(store, {}).ok


def test_carried_records_are_written_when_the_store_comes_back_while_idle(
    monkeypatch: pytest.MonkeyPatch, store: Store, clock: FrozenClock
) -> None:
    """Nobody appends after the failure: the idle writer retries the carried records by itself."""
    real = store.append_audit
    down = threading.Event()
    down.set()

    def flaky(records: Sequence[PendingAudit], hasher: ChainHasher, **kw: Any) -> list[AuditRow]:
        if down.is_set():
            raise StoreUnavailable("cannot reach the store")
        return real(records, hasher, **kw)

    monkeypatch.setattr(store, "append_audit", flaky)
    audit = AuditLog(store, clock, None, max_defer_s=0.01)
    try:
        audit.defer("call.completed", {"n": 1})
        deadline = time.monotonic() + 10
        while not audit._carry and time.monotonic() < deadline:  # the due commit failed
            time.sleep(0.01)
        assert audit._carry
        down.clear()
        while store.audit_head() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        head = store.audit_head()
        assert head is not None
        assert json.loads(head.body)["n"] == 1
    finally:
        audit.close()


def test_the_next_log_signs_the_head_a_killed_writer_left(store: Store, clock: FrozenClock) -> None:
    """A writer of this host whose process is gone left records after its last checkpoint: the
    next log signs that head (naming the writer) on close; a live writer's head it leaves alone."""
    import socket

    from proctor.audit.chain import hasher_for

    signer = Signer()
    gone = store.register_audit_writer(clock.now(), socket.gethostname(), 2**22 + 12345, "killed")
    live = store.register_audit_writer(clock.now(), socket.gethostname(), os.getpid(), "running")
    pending = [PendingAudit(clock.now(), "x", b'{"v":1}')]
    [dead_head] = store.append_audit(pending, hasher_for(gone), writer=gone)
    store.append_audit(pending, hasher_for(live), writer=live)
    with AuditLog(store, clock, signer) as audit:
        audit.append("call", {})
    cps = {cp.writer: cp for cp in store.list_checkpoints()}
    assert cps[gone].seq == dead_head.seq
    assert live not in cps
    report = verify_log(store, {signer.kid: signer.public()})
    assert report.ok, report.problems
    assert {w["writer"]: w["unsigned_tail"] for w in report.writers}[gone] == 0
