"""Hostile values in the audit log, on both engines (the store conformance suite's ``backend``).

Control characters (PostgreSQL text cannot hold NUL), lone surrogates and the index escape character
itself must never fail a write, must read back exactly and must be found by search. And a record that
cannot be written all the same must cost only its own caller: the other callers in its group commit
are committed, with the chain intact.
"""
# ruff: noqa: F811 - the imported fixture `backend` is every test's parameter

from __future__ import annotations

import asyncio
import json
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# the conformance suite's fixtures (a fresh, migrated store on each engine), used as parameters below
from tests.conformance.test_store_conformance import T0, Backend, backend, sha_chain  # noqa: F401

from proctor.audit import AuditEntry, AuditLog, verify_log
from proctor.clock import FrozenClock
from proctor.errors import StoreError, StoreUnavailable
from proctor.store._sql import SqlStore
from proctor.store.base import AuditQuery, AuditRow, ChainHasher, PendingAudit, index_text, index_value

_COLUMNS = ("kind", "agent", "task", "tool", "decision", "decision_id")

#: strings built from every control character and lone surrogate, the escape character and what an
#: escape sequence is made of, so that escaped-looking values collide with escaped ones if anything does
hostile = st.lists(
    st.one_of(
        st.characters(categories=["Cc", "Cs"]),
        st.sampled_from(
            ["\\", "\\\\", "x", "u", "0", "00", "d8", "7f", "a", ".", "é", "\u2028", "\U0001f600"]
        ),
    ),
    min_size=1,
    max_size=12,
).map("".join)


def _clean(text: str) -> bool:
    """What the database holds has no control character or surrogate in it."""
    return not any(unicodedata.category(c) in ("Cc", "Cs") for c in text)


def _only(col: str, value: str) -> dict[str, Any]:
    return {col: value}


def _check_written(backend: Backend, row: AuditRow, values: dict[str, str]) -> None:
    store = backend.store
    assert store.audit_head() == row
    assert list(store.iter_audit(row.seq - 1)) == [row]
    for col in ("kind", "agent", "task", "tool", "decision"):
        assert store.search_audit(AuditQuery(after_seq=row.seq - 1, **_only(col, values[col]))) == [row], col
    found = store.get_audit_by_decision(values["decision_id"])
    assert row in found
    assert all(r.decision_id == values["decision_id"] for r in found)  # exact: no escaped look-alike
    raw = backend.raw_execute(
        "SELECT kind, agent, task, tool, decision, decision_id FROM audit_records WHERE seq = ?", (row.seq,)
    )
    assert [index_value(v) for v in raw[0]] == [values[c] for c in _COLUMNS]
    assert all(_clean(v) for v in raw[0])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=hostile, b=hostile, c=hostile)
def test_hostile_index_values_are_written_read_back_and_found(
    backend: Backend, a: str, b: str, c: str
) -> None:
    """Any string of control characters, lone surrogates and backslashes in any index column is
    stored (escaped, the same way on both engines), reads back equal and is found by an exact search."""
    values = {"kind": a, "agent": b, "task": c, "tool": a + b, "decision": c + a, "decision_id": b + c}
    body = json.dumps(values).encode()
    [row] = backend.store.append_audit([PendingAudit(T0, body=body, **values)], sha_chain)
    assert (row.kind, row.agent, row.task, row.tool, row.decision, row.decision_id) == tuple(
        values[col] for col in _COLUMNS
    )
    _check_written(backend, row, values)


def test_escaped_look_alikes_stay_apart(backend: Backend) -> None:
    """A NUL, the text ``\\x00`` and ``\\\\x00`` are three different tools: each search finds its own."""
    names = ["a\x00", "a\\x00", "a\\\\x00", "a\\", "a\\\\", "a"]
    rows = backend.store.append_audit(
        [PendingAudit(T0, "decision", b"{}", tool=n, decision_id=n) for n in names], sha_chain
    )
    for n, row in zip(names, rows, strict=True):
        assert backend.store.search_audit(AuditQuery(tool=n)) == [row]
        assert backend.store.get_audit_by_decision(n) == [row]
    assert len({r[0] for r in backend.raw_execute("SELECT tool FROM audit_records", ())}) == len(names)


def test_index_text_is_one_to_one() -> None:
    """The escape is its own inverse's input: index_value(index_text(x)) == x, and plain names pass."""
    for v in ("fs.read", "payments.transfer", "dec_0123", "é\U0001f600", "a b"):
        assert index_text(v) == v
    assert index_text("a\x00b") == "a\\x00b"
    assert index_text("\ud800") == "\\ud800"
    assert index_text("\\") == "\\\\"
    # a backslash sequence index_text never writes is read as it is (rows stored before it existed)
    assert index_value("C:\\tmp\\x41") == "C:\\tmp\\x41"


@settings(max_examples=300, deadline=None)
@given(v=st.text(alphabet=st.characters(codec=None)))
def test_index_text_round_trips(v: str) -> None:
    out = index_text(v)
    assert index_value(out) == v
    assert _clean(out)


def test_nul_in_body_and_columns_through_the_log(backend: Backend) -> None:
    """Through the AuditLog: a NUL in a field and in the tool name is committed on both engines; the body
    keeps the exact value (JSON-escaped) and ``audit verify --deep`` agrees with the escaped columns."""
    with AuditLog(backend.store, FrozenClock(), None) as log:
        row = log.append(
            "decision", {"arg": "x\x00y\x1b[31m"}, agent="bot", tool="fs.\x00read\\", decision="deny"
        )
    assert b"\\u0000" in row.body
    body = json.loads(row.body)
    assert (body["arg"], body["tool"]) == ("x\x00y\x1b[31m", "fs.\x00read\\")
    assert backend.store.search_audit(AuditQuery(tool="fs.\x00read\\")) == [row]
    report = verify_log(backend.store, {}, deep=True)
    assert report.ok, report.problems


# one bad record among many ------------------------------------------------------------------
class _GatedStore:
    """The real store, but the first audit commit waits at a gate: meanwhile callers pile up in the
    log's next group commit, so the test knows exactly which records share one transaction."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.commits: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def append_audit(self, records: Sequence[PendingAudit], hasher: ChainHasher, **kw: Any) -> list[AuditRow]:
        self.commits.append(len(records))
        if not self.gate.is_set():
            self.entered.set()
            assert self.gate.wait(60)
        return self._store.append_audit(records, hasher, **kw)


def _poison_trigger(backend: Backend) -> None:
    """Make the database itself refuse one tool name: a write error no escaping could prevent."""
    if backend.name == "sqlite":
        backend.raw_execute(
            "CREATE TRIGGER poison BEFORE INSERT ON audit_records WHEN NEW.tool = 'poison.tool'"
            " BEGIN SELECT RAISE(ABORT, 'poisoned record'); END",
            (),
        )
    else:
        backend.raw_execute(
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " IF NEW.tool = 'poison.tool' THEN RAISE EXCEPTION 'poisoned record'; END IF;"
            " RETURN NEW; END; $$",
            (),
        )
        backend.raw_execute(
            "CREATE TRIGGER poison BEFORE INSERT ON audit_records FOR EACH ROW EXECUTE FUNCTION poison()", ()
        )


@pytest.fixture
def gated(backend: Backend) -> Iterator[tuple[_GatedStore, AuditLog]]:
    g = _GatedStore(backend.store)
    log = AuditLog(g, FrozenClock(), None, max_linger_s=0)
    try:
        yield g, log
    finally:
        g.gate.set()
        log.close()


def _one_group_commit(
    g: _GatedStore, log: AuditLog, bad_tool: str, *, bad_async: bool = False
) -> dict[str, Any]:
    """Concurrent callers (threads, an asyncio loop, an append_many, deferred records) and one caller
    whose record is ``bad_tool``, all in one group commit. Returns what each caller got."""
    results: dict[str, Any] = {}

    def call(name: str, fn: Any) -> threading.Thread:
        def run() -> None:
            try:
                results[name] = fn()
            except BaseException as exc:
                results[name] = exc

        th = threading.Thread(target=run)
        th.start()
        return th

    first = call("first", lambda: log.append("test.first", {}))
    assert g.entered.wait(60)
    threads = [
        call(f"good{i}", lambda i=i: log.append("decision", {"i": i}, agent=f"agent-{i}", tool="fs.read"))
        for i in range(4)
    ]
    threads.append(
        call("bad", lambda: log.append("decision", {"via": "http"}, tool=bad_tool, decision="deny"))
    )
    threads.append(
        call(
            "many",
            lambda: log.append_many(
                [
                    AuditEntry("task.suspended", {"n": 1}, task="tsk_a"),
                    AuditEntry("task.ended", {}, task="tsk_a"),
                ]
            ),
        )
    )

    async def two() -> list[Any]:
        calls = [
            log.append_async("call.completed", {"ok": True}, tool="fs.read"),
            log.append_async("call.completed", {"ok": False}, tool="fs.write"),
        ]
        if bad_async:  # a second bad caller, on the asyncio path, between the two good ones
            calls.insert(1, log.append_async("decision", {"via": "gateway"}, tool=bad_tool))
        return list(await asyncio.gather(*calls, return_exceptions=True))

    threads.append(call("async", lambda: asyncio.run(two())))
    log.defer("lease.used", {"lease": "lse_1"}, task="tsk_a")
    expected = 4 + 1 + 2 + 2 + 1 + bad_async
    while True:  # wait (no time limit asserted) until every record waits in the next group commit
        with log._cond:
            if len(log._open.items) == expected:
                break
        time.sleep(0.001)
    g.gate.set()
    for th in [first, *threads]:
        th.join()
    log.flush()
    assert g.commits[1] == expected  # they really were one group commit
    return results


def _assert_good_ones_durable(backend: Backend, results: dict[str, Any]) -> list[AuditRow]:
    for name in ("first", "good0", "good1", "good2", "good3", "many", "async"):
        assert not isinstance(results[name], BaseException), (name, results[name])
    got = results["async"]
    assert isinstance(got[0], AuditRow)
    assert isinstance(got[-1], AuditRow)
    rows = list(backend.store.iter_audit())
    # one writer: its chain has no gap; the global seq only rises (a refused attempt may use some)
    assert [r.wseq for r in rows] == list(range(1, len(rows) + 1))
    assert [r.seq for r in rows] == sorted({r.seq for r in rows})
    assert verify_log(backend.store, {}, deep=True).ok
    kinds = [r.kind for r in rows]
    assert kinds.count("decision") >= 4
    assert kinds.count("call.completed") == 2
    assert tuple(k for k in kinds if k.startswith("task.")) == ("task.suspended", "task.ended")
    assert kinds.count("lease.used") == 1  # the deferred record nobody waited for
    for name in ("good0", "good1", "good2", "good3"):
        [row] = [results[name]]
        assert row in rows
    return rows


def test_two_unwritable_records_refuse_only_their_callers(
    backend: Backend, gated: tuple[_GatedStore, AuditLog]
) -> None:
    """Two bad callers (a thread and an asyncio caller) in one group commit: both are refused, the
    others committed in order and the chain verifies."""
    _poison_trigger(backend)
    g, log = gated
    results = _one_group_commit(g, log, "poison.tool", bad_async=True)
    assert isinstance(results["bad"], StoreError)
    assert isinstance(results["async"][1], StoreError)
    rows = _assert_good_ones_durable(backend, results)
    assert len(rows) == 1 + 9


def test_a_store_failure_is_not_retried(backend: Backend, gated: tuple[_GatedStore, AuditLog]) -> None:
    """When the store itself fails (here: unavailable), the batch is not committed again in parts,
    each of which would only wait out the same failure: every caller gets the error at once."""
    g, log = gated
    real = g.append_audit

    def down(records: Sequence[PendingAudit], hasher: ChainHasher, **kw: Any) -> list[AuditRow]:
        if len(g.commits) >= 1 and g.gate.is_set():
            g.commits.append(len(records))
            raise StoreUnavailable("cannot reach the store")
        return real(records, hasher, **kw)

    g.append_audit = down  # type: ignore[method-assign]
    results = _one_group_commit(g, log, "fs.write")
    assert g.commits[1:] == [10]  # one attempt, no parts
    for name in ("good0", "good1", "good2", "good3", "bad", "many"):
        assert isinstance(results[name], StoreUnavailable), name
    assert all(isinstance(r, StoreUnavailable) for r in results["async"])
    assert [r.kind for r in backend.store.iter_audit()] == ["test.first"]


def test_inline_commit_with_an_unwritable_deferred_record(backend: Backend) -> None:
    """An asyncio caller committing inline takes the deferred records waiting with it: one of them
    the database refuses. The caller's record and the other deferred one are committed all the same."""
    _poison_trigger(backend)
    with AuditLog(backend.store, FrozenClock(), None, max_defer_s=3600) as log:
        log.defer("lease.used", {"n": 1}, tool="poison.tool")
        log.defer("lease.used", {"n": 2}, tool="fs.read")

        async def inline() -> AuditRow:
            return await log.append_async("call.completed", {}, tool="fs.read", inline=True)

        row = asyncio.run(inline())
    rows = list(backend.store.iter_audit())
    assert [(r.kind, r.tool) for r in rows] == [("lease.used", "fs.read"), ("call.completed", "fs.read")]
    assert rows[-1] == row
    assert verify_log(backend.store, {}, deep=True).ok


def test_one_unwritable_record_refuses_only_its_caller(
    backend: Backend, gated: tuple[_GatedStore, AuditLog]
) -> None:
    """The database refuses one record of a group commit: that caller gets a StoreError, every other
    caller's records (waited for, asyncio, append_many, deferred) are committed and the chain verifies."""
    _poison_trigger(backend)
    g, log = gated
    results = _one_group_commit(g, log, "poison.tool")
    assert isinstance(results["bad"], StoreError)
    rows = _assert_good_ones_durable(backend, results)
    assert all(r.tool != "poison.tool" for r in rows)
    assert len(rows) == 1 + 9  # everything but the poisoned record


def test_nul_tool_in_a_group_commit_poisons_nothing(
    backend: Backend, gated: tuple[_GatedStore, AuditLog]
) -> None:
    """A tool name with a NUL (PostgreSQL text cannot hold one) in a group commit: every record is
    committed, the NUL one too, and reads back and is found with its exact name."""
    g, log = gated
    results = _one_group_commit(g, log, "evil\x00tool")
    rows = _assert_good_ones_durable(backend, results)
    assert isinstance(results["bad"], AuditRow)
    assert results["bad"].tool == "evil\x00tool"
    assert backend.store.search_audit(AuditQuery(tool="evil\x00tool")) == [results["bad"]]
    assert len(rows) == 1 + 10
