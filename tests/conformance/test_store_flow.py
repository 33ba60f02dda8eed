"""The store's part of issue 15 (docs/adr/0025): the new tool and task fields, the outputs a task
read (sealed, bounded), its high-water mark, and the calls history counts — same behaviour on SQLite
and PostgreSQL (the conformance suite's fixtures: a fresh, migrated store on each engine), and
migration 0008 over a database that already holds rows."""

# ruff: noqa: F811 - the imported fixtures `backend` and `store` are the tests' parameters
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
import pytest
from tests.conformance.test_store_conformance import (  # noqa: F401
    T0,
    Backend,
    agent,
    backend,
    store,
    task,
    tool,
)

from proctor.errors import UnknownTask, ValidationError
from proctor.flow.model import Sensitivity, TaskLabels
from proctor.store._sql import SqlStore
from proctor.store.base import HistoryEvent, OutputRecord, TaskRecord
from proctor.store.sqlite import SqliteStore
from proctor.types import AgentName, TaskId, TaskState, ToolName

MISSING = TaskId.new()
OLD = TaskId.new()
SCHEMA = '{"properties":{"amount":{"type":"number"},"to":{"type":"string"}},"type":"object"}'


def output(
    task_id: TaskId,
    i: int,
    *,
    tool_name: str = "mail.read",
    trust: str = "trusted",
    sensitivity: str = "internal",
    sealed: bytes | None = None,
) -> OutputRecord:
    return OutputRecord(
        task_id=task_id,
        seq=999,  # ignored: the store gives the seq
        tool=tool_name,
        trust=trust,
        sensitivity=sensitivity,
        reasons=(f"registry: {trust}",),
        sealed=b"\x00sealed\xff%d" % i if sealed is None else sealed,
        size=100 + i,
        at=T0 + i,
    )


def event(
    task_id: str, agent_name: str, at: float, *, tool_name: str = "billing.pay", **values: str
) -> HistoryEvent:
    return HistoryEvent(
        task_id=task_id,
        agent=agent_name,
        tool=tool_name,
        effect="pay",
        at=at,
        values=tuple(sorted(values.items())),
    )


def started(store: SqlStore, *, agent_name: str = "bot", **kw: Any) -> TaskRecord:
    if store.get_agent(AgentName(agent_name)) is None:
        store.add_agent(agent(agent_name))
    t = task(agent_name, **kw)
    store.add_task(t)
    return t


# tools and tasks ----------------------------------------------------------------------------
def test_new_tool_fields_round_trip_and_update(store: SqlStore) -> None:
    """access_control, credential_change, egress, input_schema and destinations come back as
    stored (get, list), are replaced by a later put, and go back to their defaults when a put
    leaves them out."""
    full = tool(
        "billing.send_money",
        effect="pay",
        financial=True,
        access_control=True,
        credential_change=True,
        egress=True,
        input_schema=SCHEMA,
        destinations=("to", "cc[]", "recipient.email"),
    )
    stored = store.put_tool(full)
    assert stored == full
    assert store.get_tool(full.name) == full
    assert store.list_tools() == [full]
    changed = replace(full, access_control=False, egress=False, destinations=("iban",), input_schema=None)
    assert store.put_tool(changed) == replace(changed, version=2)
    plain = tool("billing.send_money", effect="pay")
    assert store.put_tool(plain) == replace(plain, version=3)
    got = store.get_tool(ToolName("billing.send_money"))
    assert got is not None
    assert (got.access_control, got.credential_change, got.egress) == (False, False, False)
    assert (got.input_schema, got.destinations) == (None, ())


def test_task_params_round_trip_through_every_read(store: SqlStore) -> None:
    """A task's params come back sorted by name from get, list, end and expire; none is ()."""
    store.add_agent(agent("bot"))
    params = (("amount", "1,250.00 EUR"), ("payee", "ACME Énergie"), ("recipient", "bob@example.com"))
    t = replace(task("bot"), params=params)
    bare = task("bot", deadline=T0 + 10)
    store.add_task(t)
    store.add_task(bare)
    got = store.get_task(t.id)
    assert got is not None
    assert got.params == params
    assert got == t
    assert {x.id: x.params for x in store.list_tasks()} == {t.id: params, bare.id: ()}
    (expired,) = store.expire_tasks(T0 + 20)
    assert expired.id == bare.id
    assert expired.params == ()
    ended = store.end_task(t.id, TaskState.COMPLETED, T0 + 30, "done")
    assert ended is not None
    assert ended.params == params


# outputs and the high-water mark ----------------------------------------------------------------
def test_add_output_gives_seqs_per_task_and_evicts_the_oldest(store: SqlStore) -> None:
    """seq runs 1, 2, … per task (the record's own seq is ignored); beyond max_outputs the oldest
    go; outputs(after_seq) pages; the sealed bytes come back exactly and never show in repr."""
    t1, t2 = started(store), started(store)
    seqs = [store.add_output(output(t1.id, i), max_outputs=3) for i in range(1, 6)]
    assert seqs == [1, 2, 3, 4, 5]
    assert store.add_output(output(t2.id, 1), max_outputs=3) == 1
    kept = store.outputs(t1.id)
    assert [o.seq for o in kept] == [3, 4, 5]
    assert kept[0] == replace(output(t1.id, 3), seq=3)
    assert kept[0].sealed == b"\x00sealed\xff3"
    assert "sealed" not in repr(kept[0]).replace("OutputRecord", "")
    assert [o.seq for o in store.outputs(t1.id, after_seq=4)] == [5]
    assert [o.seq for o in store.outputs(t2.id)] == [1]
    assert store.outputs(MISSING) == []
    # a smaller bound on a later call evicts down to it
    assert store.add_output(output(t1.id, 6), max_outputs=1) == 6
    assert [o.seq for o in store.outputs(t1.id)] == [6]
    # 0 keeps nothing, but still counts and raises the mark
    assert store.add_output(output(t1.id, 7, sensitivity="secret"), max_outputs=0) == 7
    assert store.outputs(t1.id) == []
    assert store.task_labels(t1.id).max_sensitivity is Sensitivity.SECRET


def test_task_labels_are_a_high_water_mark_that_outlives_the_outputs(store: SqlStore) -> None:
    """read_untrusted, the highest sensitivity, the untrusted source tools (sorted, once each) and
    the count of outputs read survive eviction and delete_outputs; seqs are never reused."""
    t = started(store)
    other = started(store)
    assert store.task_labels(t.id) == TaskLabels()
    store.add_output(
        output(t.id, 1, tool_name="web.fetch", trust="untrusted", sensitivity="public"), max_outputs=2
    )
    store.add_output(output(t.id, 2, tool_name="crm.read", sensitivity="confidential"), max_outputs=2)
    store.add_output(output(t.id, 3, tool_name="mail.read", trust="untrusted"), max_outputs=2)
    store.add_output(output(t.id, 4, tool_name="web.fetch", trust="untrusted"), max_outputs=2)
    for i in range(5, 9):  # trusted, public: the untrusted and confidential ones are evicted
        store.add_output(output(t.id, i, sensitivity="public"), max_outputs=2)
    assert [o.seq for o in store.outputs(t.id)] == [7, 8]
    expected = TaskLabels(
        read_untrusted=True,
        max_sensitivity=Sensitivity.CONFIDENTIAL,
        untrusted_sources=("mail.read", "web.fetch"),
        outputs=8,
    )
    assert store.task_labels(t.id) == expected
    assert store.delete_outputs(t.id) == 2
    assert store.outputs(t.id) == []
    assert store.task_labels(t.id) == expected
    assert store.delete_outputs(t.id) == 0
    assert store.add_output(output(t.id, 9), max_outputs=2) == 9
    assert store.task_labels(t.id) == replace(expected, outputs=9)
    # another task's mark is its own
    assert store.task_labels(other.id) == TaskLabels()
    store.add_output(output(other.id, 1, sensitivity="public"), max_outputs=2)
    assert store.task_labels(other.id) == TaskLabels(outputs=1)


def test_add_output_refuses_an_unknown_task_or_label_and_writes_nothing(store: SqlStore) -> None:
    """An unknown task is UnknownTask; a trust or sensitivity that is not one, or a negative
    bound, is ValidationError; nothing is stored and the mark is untouched."""
    t = started(store)
    with pytest.raises(UnknownTask):
        store.add_output(output(MISSING, 1), max_outputs=5)
    with pytest.raises(ValidationError):
        store.add_output(output(t.id, 1, trust="sort-of"), max_outputs=5)
    with pytest.raises(ValidationError):
        store.add_output(output(t.id, 1, sensitivity="top-secret"), max_outputs=5)
    with pytest.raises(ValidationError):
        store.add_output(output(t.id, 1), max_outputs=-1)
    assert store.outputs(t.id) == []
    assert store.outputs(MISSING) == []
    assert store.task_labels(t.id) == TaskLabels()
    assert store.task_labels(MISSING) == TaskLabels()
    assert store.add_output(output(t.id, 1), max_outputs=5) == 1


def test_concurrent_add_output_from_two_instances_never_reuses_a_seq(backend: Backend) -> None:
    """Outputs of one task added at once by threads on two store instances (two processes) get
    every seq once, and the mark counts all of them; eviction keeps exactly the newest."""
    t = started(backend.store)
    stores = [backend.store, backend.another()]
    got: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        s = stores[n % 2]
        try:
            for i in range(10):
                seq = s.add_output(output(t.id, n * 100 + i), max_outputs=15)
                with lock:
                    got.append(seq)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert sorted(got) == list(range(1, 41))
    assert [o.seq for o in backend.store.outputs(t.id)] == list(range(26, 41))
    assert backend.store.task_labels(t.id).outputs == 40


def test_prune_outputs_deletes_only_tasks_ended_by_then(store: SqlStore) -> None:
    """The retention sweep deletes the outputs of tasks that ended at or before the cut-off and
    leaves live tasks' and later-ended tasks' outputs; the marks stay."""
    early, late, live = started(store), started(store), started(store)
    for t in (early, late, live):
        store.add_output(output(t.id, 1, trust="untrusted"), max_outputs=5)
        store.add_output(output(t.id, 2), max_outputs=5)
    store.end_task(early.id, TaskState.COMPLETED, T0 + 100, "done")
    store.end_task(late.id, TaskState.CANCELLED, T0 + 200, "cancelled")
    assert store.prune_outputs(T0 + 100) == 2
    assert store.outputs(early.id) == []
    assert len(store.outputs(late.id)) == 2
    assert len(store.outputs(live.id)) == 2
    assert store.task_labels(early.id).read_untrusted
    assert store.prune_outputs(T0 + 1000) == 2
    assert len(store.outputs(live.id)) == 2


# history -------------------------------------------------------------------------------------------
def test_flow_events_round_trip_and_filter(store: SqlStore) -> None:
    """Events come back as added, oldest first (ties in the order added), filtered by task, by
    agent, by since (inclusive) and by any combination."""
    t1, t2, t3 = TaskId.new(), TaskId.new(), TaskId.new()
    a1 = event(t1, "bot", T0 + 10, spend_today="12.50", new_payee="hmac:ab12")
    a2 = event(t1, "bot", T0 + 20, tool_name="mail.send")
    a3 = event(t2, "bot", T0 + 20, spend_today="3")
    b1 = event(t3, "other", T0 + 5, spend_today="1000.0001")
    for ev in (a2, a1, a3, b1):
        store.add_flow_event(ev)
    assert store.flow_events() == [b1, a1, a2, a3]
    assert store.flow_events(task_id=t1) == [a1, a2]
    assert store.flow_events(agent=AgentName("bot")) == [a1, a2, a3]
    assert store.flow_events(agent=AgentName("other")) == [b1]
    assert store.flow_events(since=T0 + 20) == [a2, a3]
    assert store.flow_events(agent=AgentName("bot"), since=T0 + 11) == [a2, a3]
    assert store.flow_events(task_id=t2, agent=AgentName("bot")) == [a3]
    assert store.flow_events(task_id=t2, agent=AgentName("other")) == []
    assert store.flow_events(agent=AgentName("nobody")) == []
    assert a1.values == (("new_payee", "hmac:ab12"), ("spend_today", "12.50"))


def test_flow_event_count_counts_what_flow_events_returns(store: SqlStore) -> None:
    """``flow_event_count`` (the Flow service's check for events stored late between sweeps) is
    the length of ``flow_events`` with the same filters, ``since`` inclusive."""
    t1, t2 = TaskId.new(), TaskId.new()
    for ev in (
        event(t1, "bot", T0 + 10),
        event(t1, "bot", T0 + 20),
        event(t1, "bot", T0 + 20),  # the same event twice: two rows
        event(t2, "bot", T0 + 30),
        event(t2, "other", T0 + 5),
    ):
        store.add_flow_event(ev, durable=False)
    for kw in (
        {},
        {"task_id": t1},
        {"agent": AgentName("bot")},
        {"agent": AgentName("bot"), "since": T0 + 20},
        {"task_id": t1, "since": T0 + 20.0001},
        {"agent": AgentName("other"), "since": T0 + 5},
        {"agent": AgentName("nobody")},
    ):
        assert store.flow_event_count(**kw) == len(store.flow_events(**kw)), kw
    assert store.flow_event_count(agent=AgentName("bot"), since=T0 + 20) == 3


def test_flow_events_counted_reads_the_events_and_the_count_in_one(store: SqlStore) -> None:
    """``flow_events_counted`` (the Flow service's read between sweeps) returns what
    ``flow_events`` returns from ``since`` and what ``flow_event_count`` counts from
    ``count_since``, on the same task and agent; no event: an empty list and the count."""
    t1, t2 = TaskId.new(), TaskId.new()
    for ev in (
        event(t1, "bot", T0 + 10),
        event(t1, "bot", T0 + 20),
        event(t1, "bot", T0 + 20),
        event(t2, "bot", T0 + 30),
        event(t2, "other", T0 + 5),
    ):
        store.add_flow_event(ev, durable=False)
    bot, other = AgentName("bot"), AgentName("other")
    for where, since, count_since in (
        ({}, None, None),
        ({"task_id": t1}, T0 + 20, T0 + 10),
        ({"agent": bot}, T0 + 25, T0 + 20),
        ({"agent": bot}, T0 + 31, None),  # nothing new, four stored
        ({"task_id": t2, "agent": other}, T0 + 5, T0 + 5),
        ({"agent": AgentName("nobody")}, T0, T0),
    ):
        got, count = store.flow_events_counted(**where, since=since, count_since=count_since)
        assert got == store.flow_events(**where, since=since), (where, since)
        assert count == store.flow_event_count(**where, since=count_since), (where, count_since)
    got, count = store.flow_events_counted(agent=bot, since=T0 + 31, count_since=T0)
    assert (got, count) == ([], 4)


def test_flow_writes_do_not_bump_the_epoch(store: SqlStore) -> None:
    """Outputs and events change no cached decision input (the flow facts are part of the cache
    key), so they leave the epoch alone: a busy task keeps its decisions cacheable."""
    t = started(store)
    before = store.epoch()
    store.add_output(output(t.id, 1, trust="untrusted"), max_outputs=5)
    store.add_flow_event(event(str(t.id), "bot", T0))
    store.delete_outputs(t.id)
    assert store.epoch() == before


# migration 0008 over existing rows ---------------------------------------------------------------
def _migrate_to_0007(engine: str, url: str) -> None:
    from yoyo import get_backend, read_migrations

    folder = resources.files("proctor.store") / "migrations" / engine
    with resources.as_file(folder) as path:
        migrations = read_migrations(str(path)).filter(lambda m: m.id < "0008")
        assert [m.id for m in migrations][-1] == "0007.webhooks"
        yb = get_backend(url)
        try:
            with yb.lock():
                yb.apply_migrations(yb.to_apply(migrations))
        finally:
            yb.connection.close()


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_migration_0008_keeps_existing_rows_with_defaults(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A database at 0007 holding a tool and a task migrates to 0008: both read back with the new
    fields at their defaults, can be updated, and the task can take outputs and events."""
    raw: Callable[[str, Sequence[Any]], Any]
    opener: Callable[[], SqlStore]
    if engine == "sqlite":
        path = tmp_path / "old.db"
        _migrate_to_0007("sqlite", f"sqlite:///{path}")

        def raw(sql: str, params: Sequence[Any] = ()) -> Any:
            with sqlite3.connect(path, isolation_level=None) as conn:
                conn.execute(sql, params)

        def opener() -> SqlStore:
            return SqliteStore(path)
    else:
        from proctor.store.postgres import PostgresStore

        url: str = request.getfixturevalue("pg_fresh_url")
        _migrate_to_0007("postgres", "postgresql+psycopg://" + url.split("://", 1)[1])

        def raw(sql: str, params: Sequence[Any] = ()) -> Any:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(sql.replace("?", "%s"), params)

        def opener() -> SqlStore:
            return PostgresStore(url)

    raw(
        "INSERT INTO agents (name, spiffe_id, owner, status, selectors, created_at, updated_at, version)"
        " VALUES ('bot', 'spiffe://acme.test/agent/bot', 'alice@example.com', 'active', '[]', ?, ?, 1)",
        (T0, T0),
    )
    raw(
        "INSERT INTO tools (name, effect, resource_pattern, resource_arg, trust, sensitivity, destructive,"
        " financial, customer_facing, production, description, version)"
        " VALUES ('mail.send', 'send', '*', NULL, 'trusted', 'internal', 0, 0, 1, 0, 'sends mail', 3)",
    )
    raw(
        "INSERT INTO tasks (id, agent, purpose, allow, resources, requested_by, state, created_at, deadline,"
        " max_calls, calls_used, ended_at, end_reason, parent_id, version)"
        " VALUES (?, 'bot', 'old task', '[\"*\"]', '[]', 'bob@example.com', 'active', ?, ?,"
        " NULL, 2, NULL, NULL, NULL, 1)",
        (OLD, T0, T0 + 3600),
    )
    s = opener()
    try:
        s.migrate()
        old_tool = s.get_tool(ToolName("mail.send"))
        assert old_tool == tool(
            "mail.send", effect="send", customer_facing=True, description="sends mail", version=3
        )
        assert (old_tool.access_control, old_tool.egress, old_tool.input_schema, old_tool.destinations) == (
            False,
            False,
            None,
            (),
        )
        old_task = s.get_task(OLD)
        assert old_task is not None
        assert old_task.params == ()
        assert old_task.calls_used == 2
        assert [x.params for x in s.list_tasks()] == [()]
        updated = s.put_tool(replace(old_tool, egress=True, destinations=("to",)))
        assert (updated.egress, updated.destinations, updated.version) == (True, ("to",), 4)
        assert s.task_labels(OLD) == TaskLabels()
        assert s.add_output(output(OLD, 1, trust="untrusted"), max_outputs=5) == 1
        assert s.task_labels(OLD).read_untrusted
        s.add_flow_event(event(OLD, "bot", T0))
        assert len(s.flow_events(task_id=OLD)) == 1
    finally:
        s.close()
