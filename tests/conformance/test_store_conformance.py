"""One suite, both engines: every Store method must behave the same on SQLite and on PostgreSQL.

Each test gets a fresh, migrated store (a new SQLite file, or a new PostgreSQL database).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg
import pytest

from proctor.errors import (
    ApprovalCapReached,
    Conflict,
    TaskNotActive,
    UnknownAgent,
    UnknownTask,
    ValidationError,
)
from proctor.store._sql import GENESIS, SqlStore
from proctor.store.base import (
    AgentRecord,
    ApprovalRecord,
    AuditQuery,
    AuditRow,
    Checkpoint,
    JoinTokenRecord,
    KeyRecord,
    LeaseAttempt,
    LeaseRecord,
    PendingAudit,
    TaskRecord,
    ToolPin,
    ToolRecord,
    WebhookAttempt,
)
from proctor.store.sqlite import SqliteStore
from proctor.types import (
    AgentName,
    AgentStatus,
    ApprovalId,
    Email,
    LeaseId,
    LeaseState,
    SpiffeId,
    TaskId,
    TaskState,
    ToolName,
)

T0 = 1_767_225_600.0


# helpers ------------------------------------------------------------------------------
def sha_chain(seq: int, prev_hash: bytes, body: bytes) -> bytes:
    """A trivial chain hasher: sha256(seq || prev || body)."""
    return hashlib.sha256(seq.to_bytes(8, "big") + prev_hash + body).digest()


def agent(
    name: str, *, owner: str = "alice@example.com", status: AgentStatus = AgentStatus.ACTIVE
) -> AgentRecord:
    n = AgentName(name)
    return AgentRecord(
        name=n,
        spiffe_id=SpiffeId(f"spiffe://acme.test/agent/{n}"),
        owner=Email(owner),
        status=status,
        selectors=("unix:uid:1000", "k8s:ns:prod"),
        created_at=T0,
        updated_at=T0,
    )


def task(
    agent_name: str,
    *,
    task_id: str | None = None,
    created_at: float = T0,
    deadline: float = T0 + 3600,
    max_calls: int | None = None,
    state: TaskState = TaskState.ACTIVE,
    parent_id: str | None = None,
) -> TaskRecord:
    return TaskRecord(
        id=TaskId(task_id) if task_id else TaskId.new(),
        agent=AgentName(agent_name),
        purpose="reconcile invoices",
        allow=("payments.read", "payments.transfer"),
        resources=("acct:123",),
        requested_by=Email("bob@example.com"),
        state=state,
        created_at=created_at,
        deadline=deadline,
        max_calls=max_calls,
        parent_id=None if parent_id is None else TaskId(parent_id),
    )


def tool(name: str, **kw: Any) -> ToolRecord:
    return ToolRecord(name=ToolName(name), effect=kw.pop("effect", "read"), **kw)


def pin(namespace: str, upstream_tool: str, *, description: str = "does a thing", **kw: Any) -> ToolPin:
    definition = {
        "name": upstream_tool,
        "description": description,
        "input_schema": {"type": "object", "properties": {"x": {"type": "number", "minimum": 0.5}}},
    }
    return ToolPin(
        name=ToolName(f"{namespace}.{upstream_tool.lower()}"),
        namespace=namespace,
        upstream_tool=upstream_tool,
        digest=kw.pop("digest", f"sha256:{hashlib.sha256(description.encode()).hexdigest()}"),
        definition=definition,
        pinned_at=kw.pop("pinned_at", T0),
        pinned_by=kw.pop("pinned_by", "alice@example.com"),
    )


def pending(i: int, **kw: Any) -> PendingAudit:
    return PendingAudit(
        ts=T0 + i, kind=kw.pop("kind", "decision"), body=kw.pop("body", b'{"i":%d}' % i), **kw
    )


def assert_chain(rows: Sequence[AuditRow]) -> None:
    """One writer's records: wseq runs 1..N without gaps, every record links to the one before
    it, and the global seq rises (a PostgreSQL transaction rolled back leaves a gap in it)."""
    assert [r.wseq for r in rows] == list(range(1, len(rows) + 1))
    assert [r.seq for r in rows] == sorted({r.seq for r in rows})
    prev = GENESIS
    for r in rows:
        assert r.prev_hash == prev
        # a writer's hasher gets the global seq before the body (docs/adr/0036)
        data = r.body if r.writer == 0 else r.seq.to_bytes(8, "big") + r.body
        assert r.hash == sha_chain(r.wseq, r.prev_hash, data)
        prev = r.hash


@dataclass
class Backend:
    """A fresh migrated store plus engine-level access: raw SQL and more store instances on the same data."""

    name: str
    store: SqlStore
    open_store: Callable[[], SqlStore]
    raw_execute: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]
    db_error: type[Exception]
    others: list[SqlStore] = field(default_factory=list)

    def another(self) -> SqlStore:
        """Another store instance on the same database, as a second Proctor process would have."""
        s = self.open_store()
        self.others.append(s)
        return s


def _sqlite_raw(path: Path) -> Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]:
    def run(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    return run


def _pg_raw(url: str) -> Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]:
    def run(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(url, autocommit=True) as conn:
            cur = conn.execute(sql.replace("?", "%s"), params)
            return cur.fetchall() if cur.description else []

    return run


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A fresh, migrated store on each engine."""
    opener: Callable[[], SqlStore]
    err: type[Exception]
    if request.param == "sqlite":
        path = tmp_path / "proctor.db"

        def opener() -> SqlStore:
            return SqliteStore(path)

        raw, err = _sqlite_raw(path), sqlite3.DatabaseError
    else:
        from proctor.store.postgres import PostgresStore

        url: str = request.getfixturevalue("pg_migrated_url")

        def opener() -> SqlStore:
            return PostgresStore(url)

        raw, err = _pg_raw(url), psycopg.Error
    store = opener()
    b = Backend(request.param, store, opener, raw, err)
    try:
        store.migrate()
        yield b
    finally:
        for s in [store, *b.others]:
            s.close()


@pytest.fixture
def store(backend: Backend) -> SqlStore:
    return backend.store


# lifecycle -----------------------------------------------------------------------------
def test_fresh_store_is_empty(store: SqlStore) -> None:
    """A freshly migrated store holds nothing and its epoch starts at 0."""
    assert store.epoch() == 0
    assert store.list_agents() == []
    assert store.list_tools() == []
    assert store.list_tasks() == []
    assert store.list_keys() == []
    assert store.active_policy_version() is None
    assert store.audit_head() is None
    assert list(store.iter_audit()) == []
    assert store.list_checkpoints() == []
    assert store.latest_checkpoint() is None


def test_migrate_is_idempotent_and_keeps_data(backend: Backend) -> None:
    """Migrating an up-to-date store again (also from another instance) changes nothing."""
    backend.store.add_agent(agent("bot"))
    backend.store.migrate()
    backend.another().migrate()
    assert [a.name for a in backend.store.list_agents()] == ["bot"]
    assert backend.store.epoch() == 1


# agents -----------------------------------------------------------------------------
def test_add_and_get_agent_round_trips(store: SqlStore) -> None:
    """Every field of an agent comes back exactly as stored; unknown names give None."""
    a = agent("finance-bot")
    store.add_agent(a)
    assert store.get_agent(AgentName("finance-bot")) == a
    assert store.get_agent(AgentName("other")) is None


def test_list_agents_is_sorted_by_name(store: SqlStore) -> None:
    """list_agents returns every agent, ordered by name."""
    for n in ("zeta", "alpha", "mid-1"):
        store.add_agent(agent(n))
    assert [a.name for a in store.list_agents()] == ["alpha", "mid-1", "zeta"]


def test_duplicate_agent_raises_conflict_and_keeps_the_original(store: SqlStore) -> None:
    """Adding an existing name raises Conflict; the stored agent and the epoch are unchanged."""
    store.add_agent(agent("bot"))
    before = store.epoch()
    with pytest.raises(Conflict, match="`bot` already exists"):
        store.add_agent(agent("bot", owner="mallory@example.com"))
    got = store.get_agent(AgentName("bot"))
    assert got is not None
    assert got.owner == "alice@example.com"
    assert store.epoch() == before


def test_set_agent_status_updates_and_versions(store: SqlStore) -> None:
    """set_agent_status changes status and updated_at, bumps the record version and returns it."""
    store.add_agent(agent("bot"))
    rec = store.set_agent_status(AgentName("bot"), AgentStatus.SUSPENDED, T0 + 10)
    assert rec.status is AgentStatus.SUSPENDED
    assert rec.updated_at == T0 + 10
    assert rec.created_at == T0
    assert rec.version == 2
    assert store.get_agent(AgentName("bot")) == rec


def test_set_agent_status_of_unknown_agent_raises(store: SqlStore) -> None:
    """An unknown agent raises UnknownAgent and nothing changes (not even the epoch)."""
    before = store.epoch()
    with pytest.raises(UnknownAgent, match="`ghost`"):
        store.set_agent_status(AgentName("ghost"), AgentStatus.SUSPENDED, T0)
    assert store.epoch() == before


def test_agent_names_are_case_sensitive(backend: Backend) -> None:
    """A row named `BOT` (only raw SQL can write one) is not the agent `bot`, on either engine."""
    store = backend.store
    backend.raw_execute(
        "INSERT INTO agents (name, spiffe_id, owner, status, selectors, created_at, updated_at, version)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        ("BOT", "spiffe://acme.test/agent/BOT", "a@example.com", "active", "[]", T0, T0, 1),
    )
    assert store.get_agent(AgentName("bot")) is None
    store.add_agent(agent("bot"))  # no Conflict with `BOT`
    assert backend.raw_execute("SELECT name FROM agents ORDER BY name", ()) == [("BOT",), ("bot",)]


def test_task_ids_are_case_sensitive(store: SqlStore) -> None:
    """Task ids are mixed-case: an id differing only in case finds nothing."""
    store.add_agent(agent("bot"))
    tid = "tsk_AbCdEfGhIjKlMnOpQrStUv"
    store.add_task(task("bot", task_id=tid))
    assert store.get_task(TaskId(tid)) is not None
    assert store.get_task(TaskId("tsk_" + tid[4:].swapcase())) is None
    assert store.consume_call(TaskId("tsk_" + tid[4:].lower())) is False
    assert store.end_task(TaskId("tsk_" + tid[4:].upper()), TaskState.COMPLETED, T0, "done") is None


# tools -----------------------------------------------------------------------------
def test_put_tool_round_trips_and_increments_version(store: SqlStore) -> None:
    """put_tool stores every field; putting the same name again replaces it with version + 1."""
    t = tool(
        "payments.transfer",
        effect="pay",
        resource_pattern="acct:*",
        resource_arg="account",
        trust="untrusted",
        sensitivity="secret",
        destructive=True,
        financial=True,
        customer_facing=True,
        production=True,
        description="move money",
    )
    first = store.put_tool(t)
    assert first == t
    assert store.get_tool(ToolName("payments.transfer")) == first
    second = store.put_tool(replace(t, description="move money (v2)", financial=False))
    assert second.version == 2
    assert second.description == "move money (v2)"
    assert second.financial is False
    assert store.get_tool(ToolName("payments.transfer")) == second
    assert store.put_tool(t).version == 3


def test_list_and_delete_tools(store: SqlStore) -> None:
    """list_tools is sorted by name; delete_tool is True once, then False; deleted tools are gone."""
    for n in ("fs.write", "crm.read", "fs.read"):
        store.put_tool(tool(n))
    assert [t.name for t in store.list_tools()] == ["crm.read", "fs.read", "fs.write"]
    assert store.delete_tool(ToolName("fs.read")) is True
    assert store.delete_tool(ToolName("fs.read")) is False
    assert store.get_tool(ToolName("fs.read")) is None
    assert [t.name for t in store.list_tools()] == ["crm.read", "fs.write"]


def test_concurrent_put_tool_from_two_instances_never_collides(backend: Backend) -> None:
    """Two store instances (processes) putting the same tool at once: no errors, one version per put."""
    stores = [backend.store, backend.another()]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            barrier.wait()
            for i in range(10):
                stores[w % 2].put_tool(tool("fs.read", description=f"w{w} #{i}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    got = backend.store.get_tool(ToolName("fs.read"))
    assert got is not None
    assert got.version == 40
    assert backend.store.epoch() == 40


# tasks -----------------------------------------------------------------------------
def test_add_and_get_task_round_trips(store: SqlStore) -> None:
    """Every task field, including None budget and a parent id, comes back as stored."""
    store.add_agent(agent("bot"))
    parent = task("bot", max_calls=5)
    child = task("bot", parent_id=parent.id)
    store.add_task(parent)
    store.add_task(child)
    assert store.get_task(parent.id) == parent
    assert store.get_task(child.id) == child
    assert store.get_task(TaskId.new()) is None


def test_add_task_for_unknown_agent_raises(store: SqlStore) -> None:
    """A task for an agent that does not exist raises UnknownAgent and stores nothing."""
    with pytest.raises(UnknownAgent, match="`ghost`"):
        store.add_task(task("ghost"))
    assert store.list_tasks() == []
    assert store.epoch() == 0


def test_list_tasks_filters_by_agent_and_state(store: SqlStore) -> None:
    """list_tasks filters by agent, by state, by both, and orders by creation time."""
    store.add_agent(agent("a"))
    store.add_agent(agent("b"))
    a1 = task("a", created_at=T0 + 2)
    a2 = task("a", created_at=T0 + 1)
    b1 = task("b", created_at=T0 + 3)
    for t in (a1, a2, b1):
        store.add_task(t)
    store.end_task(a1.id, TaskState.COMPLETED, T0 + 5, "done")
    assert [t.id for t in store.list_tasks()] == [a2.id, a1.id, b1.id]
    assert [t.id for t in store.list_tasks(agent=AgentName("a"))] == [a2.id, a1.id]
    assert [t.id for t in store.list_tasks(state=TaskState.ACTIVE)] == [a2.id, b1.id]
    assert [t.id for t in store.list_tasks(agent=AgentName("a"), state=TaskState.COMPLETED)] == [a1.id]
    assert store.list_tasks(agent=AgentName("b"), state=TaskState.EXPIRED) == []


def test_end_task_only_from_active(store: SqlStore) -> None:
    """end_task moves an active task once and returns the new record; afterwards (or unknown) it is None."""
    store.add_agent(agent("bot"))
    t = task("bot")
    store.add_task(t)
    ended = store.end_task(t.id, TaskState.CANCELLED, T0 + 7, "owner cancelled")
    assert ended is not None
    assert (ended.state, ended.ended_at, ended.end_reason, ended.version) == (
        TaskState.CANCELLED,
        T0 + 7,
        "owner cancelled",
        2,
    )
    assert store.end_task(t.id, TaskState.COMPLETED, T0 + 8, "done") is None
    assert store.get_task(t.id) == ended
    assert store.end_task(TaskId.new(), TaskState.COMPLETED, T0, "done") is None


def test_expire_tasks_marks_only_overdue_active_tasks(store: SqlStore) -> None:
    """expire_tasks expires active tasks whose deadline is at or before now, once, stamped at the deadline."""
    store.add_agent(agent("bot"))
    due = task("bot", deadline=T0 + 10)
    exactly = task("bot", deadline=T0 + 20)
    later = task("bot", deadline=T0 + 30)
    done = task("bot", deadline=T0 + 5)
    for t in (due, exactly, later, done):
        store.add_task(t)
    store.end_task(done.id, TaskState.COMPLETED, T0 + 1, "done")
    expired = store.expire_tasks(T0 + 20)
    assert sorted(t.id for t in expired) == sorted([due.id, exactly.id])
    for t in expired:
        assert t.state is TaskState.EXPIRED
        assert t.end_reason == "deadline"
        assert t.version == 2
    assert {t.id: t.ended_at for t in expired} == {due.id: T0 + 10, exactly.id: T0 + 20}
    assert store.expire_tasks(T0 + 20) == []
    later_now = store.get_task(later.id)
    done_now = store.get_task(done.id)
    assert later_now is not None
    assert later_now.state is TaskState.ACTIVE
    assert done_now is not None
    assert done_now.state is TaskState.COMPLETED


def test_reopen_tasks_gives_back_only_tasks_in_the_state_named(store: SqlStore) -> None:
    """reopen_tasks moves tasks in the given state back to active (an end whose record failed),
    bumps the epoch, and leaves every other task alone; a later expire_tasks expires them again."""
    store.add_agent(agent("bot"))
    due = task("bot", deadline=T0 + 10)
    done = task("bot", deadline=T0 + 10)
    for t in (due, done):
        store.add_task(t)
    store.end_task(done.id, TaskState.COMPLETED, T0 + 1, "done")
    assert [t.id for t in store.expire_tasks(T0 + 20)] == [due.id]
    epoch = store.epoch()
    assert store.reopen_tasks([due.id, done.id, due.id], TaskState.EXPIRED) == [due.id]
    assert store.epoch() > epoch
    back = store.get_task(due.id)
    assert back is not None
    assert back.state is TaskState.ACTIVE
    assert back.ended_at is None
    assert back.end_reason is None
    kept = store.get_task(done.id)
    assert kept is not None
    assert kept.state is TaskState.COMPLETED
    assert store.reopen_tasks([due.id], TaskState.EXPIRED) == []
    assert [t.id for t in store.expire_tasks(T0 + 20)] == [due.id]


def test_consume_call_enforces_the_budget(store: SqlStore) -> None:
    """consume_call counts calls until max_calls, then refuses; unlimited tasks never run out."""
    store.add_agent(agent("bot"))
    capped = task("bot", max_calls=2)
    free = task("bot")
    store.add_task(capped)
    store.add_task(free)
    assert [store.consume_call(capped.id) for _ in range(3)] == [True, True, False]
    got = store.get_task(capped.id)
    assert got is not None
    assert got.calls_used == 2
    assert all(store.consume_call(free.id) for _ in range(20))
    got = store.get_task(free.id)
    assert got is not None
    assert got.calls_used == 20
    assert store.consume_call(TaskId.new()) is False


def test_consume_call_budget_holds_under_concurrency(store: SqlStore) -> None:
    """Eight threads racing for a budget of 10 get exactly 10 calls between them."""
    store.add_agent(agent("bot"))
    t = task("bot", max_calls=10)
    store.add_task(t)
    wins: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            ok = store.consume_call(t.id)
            with lock:
                wins.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert wins.count(True) == 10
    got = store.get_task(t.id)
    assert got is not None
    assert got.calls_used == 10


# join tokens --------------------------------------------------------------------------
def test_join_token_is_single_use(store: SqlStore) -> None:
    """A join token redeems once, returning the record stamped with used_at; then never again."""
    tok = JoinTokenRecord(token_hash="h1", agent=AgentName("bot"), created_at=T0, expires_at=T0 + 600)
    store.add_join_token(tok)
    got = store.redeem_join_token("h1", T0 + 1)
    assert got == replace(tok, used_at=T0 + 1)
    assert store.redeem_join_token("h1", T0 + 2) is None


def test_join_token_expiry_and_unknown(store: SqlStore) -> None:
    """Expired (including exactly at expires_at) and unknown tokens do not redeem."""
    store.add_join_token(JoinTokenRecord("h1", AgentName("bot"), T0, T0 + 600))
    assert store.redeem_join_token("h1", T0 + 600) is None
    assert store.redeem_join_token("h1", T0 + 601) is None
    assert store.redeem_join_token("nope", T0) is None
    assert store.redeem_join_token("h1", T0 + 599) is not None


def test_join_token_redeems_once_under_concurrency(store: SqlStore) -> None:
    """Eight threads redeeming the same token: exactly one wins."""
    store.add_join_token(JoinTokenRecord("h1", AgentName("bot"), T0, T0 + 600))
    results: list[JoinTokenRecord | None] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        r = store.redeem_join_token("h1", T0 + 1)
        with lock:
            results.append(r)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(r is not None for r in results) == 1


# keys ------------------------------------------------------------------------------
def test_keys_put_list_and_retire(store: SqlStore) -> None:
    """Keys round-trip (JWK included), list filters by use, retire stamps once and keeps the first stamp."""
    jwk = {"kty": "EC", "crv": "P-256", "x": "abc", "y": "def", "kid": "k1"}
    k1 = KeyRecord(kid="k1", use="svid", public_jwk=jwk, created_at=T0)
    k2 = KeyRecord(
        kid="k2", use="audit", public_jwk={"kty": "OKP", "crv": "Ed25519", "x": "zz"}, created_at=T0 + 1
    )
    k3 = KeyRecord(kid="k3", use="svid", public_jwk={"kty": "EC"}, created_at=T0 + 2)
    for k in (k3, k1, k2):
        store.put_key(k)
    assert store.list_keys() == [k1, k2, k3]
    assert store.list_keys("svid") == [k1, k3]
    assert store.list_keys("audit") == [k2]
    assert store.list_keys("other") == []
    store.retire_key("k1", T0 + 100, T0 + 200)
    store.retire_key("k1", T0 + 300, T0 + 400)  # already retired: keeps the first stamp
    assert store.list_keys("svid")[0] == replace(k1, retired_at=T0 + 100, drop_after=T0 + 200)
    store.revoke_key("k1", T0 + 150)  # retired and still trusted: cut off now
    assert store.list_keys("svid")[0] == replace(k1, retired_at=T0 + 100, drop_after=T0 + 150)
    store.revoke_key("k1", T0 + 180)  # already cut off earlier: stays so
    assert store.list_keys("svid")[0].drop_after == T0 + 150
    store.revoke_key("k3", T0 + 50)  # active: retired and cut off at once
    assert store.list_keys("svid")[1] == replace(k3, retired_at=T0 + 50, drop_after=T0 + 50)


# policy ------------------------------------------------------------------------------
def test_record_policy_version_reports_changes(store: SqlStore) -> None:
    """Recording the active version again is a no-op (False); a different one is True, even a return."""
    files = {"main.cedar": "permit(principal, action, resource);"}
    assert store.record_policy_version("v1", files, T0) is True
    assert store.record_policy_version("v1", files, T0 + 1) is False
    assert store.active_policy_version() == "v1"
    assert store.record_policy_version("v2", {}, T0 + 2) is True
    assert store.active_policy_version() == "v2"
    assert store.record_policy_version("v1", files, T0 + 3) is True
    assert store.active_policy_version() == "v1"


# epoch ------------------------------------------------------------------------------
def test_epoch_bumps_on_every_change_decisions_read(store: SqlStore) -> None:
    """Each change to agents, tools, tasks or the policy set bumps the epoch by exactly one."""
    t = task("bot", deadline=T0 + 10)
    t2 = task("bot", deadline=T0 + 10)
    steps: list[tuple[str, Callable[[], object]]] = [
        ("add_agent", lambda: store.add_agent(agent("bot"))),
        ("set_agent_status", lambda: store.set_agent_status(AgentName("bot"), AgentStatus.SUSPENDED, T0)),
        ("put_tool", lambda: store.put_tool(tool("fs.read"))),
        ("put_tool again", lambda: store.put_tool(tool("fs.read"))),
        ("delete_tool", lambda: store.delete_tool(ToolName("fs.read"))),
        ("add_task", lambda: store.add_task(t)),
        ("add_task 2", lambda: store.add_task(t2)),
        ("end_task", lambda: store.end_task(t.id, TaskState.COMPLETED, T0, "done")),
        ("expire_tasks", lambda: store.expire_tasks(T0 + 11)),
        ("record_policy_version", lambda: store.record_policy_version("v1", {}, T0)),
    ]
    for what, step in steps:
        before = store.epoch()
        step()
        assert store.epoch() == before + 1, what


def test_epoch_not_bumped_by_audit_keys_tokens_or_no_ops(store: SqlStore) -> None:
    """Audit appends, checkpoints, keys, join tokens and changes that change nothing leave the epoch alone."""
    store.add_agent(agent("bot"))
    store.record_policy_version("v1", {}, T0)
    before = store.epoch()
    store.append_audit([pending(1), pending(2)], sha_chain)
    store.add_checkpoint(Checkpoint(2, b"h" * 32, T0, "k1", b"sig"))
    store.put_key(KeyRecord("k1", "audit", {}, T0))
    store.retire_key("k1", T0, T0 + 1)
    store.add_join_token(JoinTokenRecord("h", AgentName("bot"), T0, T0 + 60))
    store.redeem_join_token("h", T0 + 1)
    store.record_policy_version("v1", {}, T0)
    store.delete_tool(ToolName("not.there"))
    store.end_task(TaskId.new(), TaskState.COMPLETED, T0, "done")
    store.expire_tasks(T0)
    assert store.epoch() == before


def test_epoch_is_shared_between_store_instances(backend: Backend) -> None:
    """A change made through one instance (process) moves the epoch every other instance reads."""
    other = backend.another()
    assert other.epoch() == backend.store.epoch() == 0
    backend.store.add_agent(agent("bot"))
    assert other.epoch() == 1
    other.put_tool(tool("fs.read"))
    assert backend.store.epoch() == 2
    assert other.get_agent(AgentName("bot")) is not None


# tool pins --------------------------------------------------------------------------
def test_tool_pins_round_trip_sorted_and_filtered(store: SqlStore) -> None:
    """Pins come back field for field (non-ASCII and float definitions included), by name, per namespace."""
    assert store.list_tool_pins() == []
    time_pins = [pin("time", "get_time", description="Donne l'heure — 時間"), pin("time", "Convert_Time")]
    store.replace_tool_pins("time", time_pins)
    store.replace_tool_pins("fs", [pin("fs", "read_file")])
    assert store.list_tool_pins("time") == sorted(time_pins, key=lambda p: p.name)
    assert [p.name for p in store.list_tool_pins()] == ["fs.read_file", "time.convert_time", "time.get_time"]
    assert store.list_tool_pins("nothing") == []
    got = store.list_tool_pins("time")[1]
    assert got.definition["input_schema"]["properties"]["x"]["minimum"] == 0.5
    assert got.upstream_tool == "get_time"
    assert got.definition["description"] == "Donne l'heure — 時間"


def test_replace_tool_pins_replaces_one_namespace_only(store: SqlStore) -> None:
    """Replacing a namespace's pins drops its old pins, keeps other namespaces', and bumps the epoch once."""
    store.replace_tool_pins("time", [pin("time", "a"), pin("time", "b")])
    store.replace_tool_pins("fs", [pin("fs", "read")])
    before = store.epoch()
    store.replace_tool_pins("time", [pin("time", "b", description="new"), pin("time", "c")])
    assert store.epoch() == before + 1
    assert [(p.upstream_tool, p.definition["description"]) for p in store.list_tool_pins("time")] == [
        ("b", "new"),
        ("c", "does a thing"),
    ]
    assert [p.name for p in store.list_tool_pins("fs")] == ["fs.read"]
    store.replace_tool_pins("time", [])
    assert store.list_tool_pins("time") == []
    assert store.epoch() == before + 2


def test_replace_tool_pins_refuses_foreign_or_duplicate_pins_atomically(store: SqlStore) -> None:
    """A pin of another namespace, or one name twice, is refused before anything changes."""
    store.replace_tool_pins("time", [pin("time", "a")])
    before = store.epoch()
    with pytest.raises(ValidationError, match="does not belong to namespace `time`"):
        store.replace_tool_pins("time", [pin("time", "b"), pin("fs", "read")])
    forged = replace(pin("time", "c"), name=ToolName("fs.c"))
    with pytest.raises(ValidationError, match="does not belong"):
        store.replace_tool_pins("time", [forged])
    with pytest.raises(ValidationError, match="twice"):
        store.replace_tool_pins("time", [pin("time", "b"), pin("time", "B")])
    assert [p.upstream_tool for p in store.list_tool_pins()] == ["a"]
    assert store.epoch() == before


def test_tool_pin_definition_is_stored_as_canonical_json(backend: Backend) -> None:
    """The definition column holds RFC 8785 canonical JSON (sorted keys, no spaces, 1.0 as 1)."""
    p = replace(
        pin("time", "t"), definition={"name": "t", "input_schema": {"b": 1.0, "a": [2]}, "description": ""}
    )
    backend.store.replace_tool_pins("time", [p])
    rows = backend.raw_execute("SELECT definition, pinned_at FROM tool_pins WHERE name = ?", ("time.t",))
    assert rows == [('{"description":"","input_schema":{"a":[2],"b":1},"name":"t"}', T0)]


def test_tool_pins_are_shared_between_store_instances(backend: Backend) -> None:
    """Pins written through one instance are read by another, whose epoch moved too."""
    other = backend.another()
    before = other.epoch()
    backend.store.replace_tool_pins("time", [pin("time", "a")])
    assert [p.name for p in other.list_tool_pins()] == ["time.a"]
    assert other.epoch() == before + 1


# audit ------------------------------------------------------------------------------
def test_append_audit_chains_records(store: SqlStore) -> None:
    """Appends get seq 1..N, each links to the previous hash (genesis first) and reads back unchanged."""
    first = store.append_audit([pending(1), pending(2), pending(3)], sha_chain)
    assert [r.seq for r in first] == [1, 2, 3]
    assert first[0].prev_hash == GENESIS
    second = store.append_audit([pending(4, agent="bot", decision="allow", decision_id="dec_x")], sha_chain)
    assert second[0].seq == 4
    assert second[0].prev_hash == first[-1].hash
    stored = list(store.iter_audit())
    assert stored == first + second
    assert_chain(stored)
    assert store.audit_head() == second[0]


def test_append_audit_empty_batch_is_a_no_op(store: SqlStore) -> None:
    """Appending nothing returns [] and writes nothing."""
    assert store.append_audit([], sha_chain) == []
    assert store.audit_head() is None


def test_audit_body_is_stored_as_exact_bytes(store: SqlStore) -> None:
    """Bodies and hashes come back as the same bytes (type bytes, not memoryview), even non-UTF-8 ones."""
    body = bytes(range(256)) * 4
    [row] = store.append_audit([pending(1, body=body)], sha_chain)
    head = store.audit_head()
    assert head is not None
    assert type(head.body) is bytes
    assert type(head.hash) is bytes
    assert type(head.prev_hash) is bytes
    assert head.body == body
    assert head == row


def test_failed_append_writes_nothing(store: SqlStore) -> None:
    """If hashing fails midway through a batch, no record of the batch is committed."""
    store.append_audit([pending(1)], sha_chain)

    def flaky(seq: int, prev_hash: bytes, body: bytes) -> bytes:
        if seq == 3:
            raise RuntimeError("hasher broke")
        return sha_chain(seq, prev_hash, body)

    with pytest.raises(RuntimeError, match="hasher broke"):
        store.append_audit([pending(2), pending(3), pending(4)], flaky)
    assert [r.wseq for r in store.iter_audit()] == [1]
    store.append_audit([pending(2)], sha_chain)
    assert_chain(list(store.iter_audit()))


def test_concurrent_appends_from_threads_are_gap_free(store: SqlStore) -> None:
    """Four threads appending batches at once still produce one chain, seq 1..N without gaps."""
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            barrier.wait()
            for i in range(20):
                store.append_audit([pending(w * 100 + i, agent=f"w{w}")] * (1 + i % 3), sha_chain)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    rows = list(store.iter_audit())
    assert len(rows) == 4 * sum(1 + i % 3 for i in range(20))
    assert_chain(rows)


def test_concurrent_appends_from_two_store_instances_are_gap_free(backend: Backend) -> None:
    """Two store instances (two Proctor processes) appending at once still produce one gap-free chain."""
    stores = [backend.store, backend.another()]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            barrier.wait()
            for i in range(15):
                stores[w % 2].append_audit([pending(i, agent=f"w{w}"), pending(i, agent=f"w{w}")], sha_chain)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    rows = list(stores[1].iter_audit())
    assert len(rows) == 4 * 15 * 2
    assert_chain(rows)
    assert stores[0].audit_head() == rows[-1]


def _seed_audit(store: SqlStore) -> list[AuditRow]:
    recs = [
        pending(1, agent="a", task="tsk_1", tool="fs.read", decision="allow", decision_id="dec_1"),
        pending(2, agent="b", task="tsk_2", tool="fs.write", decision="deny", decision_id="dec_2"),
        pending(3, agent="a", task="tsk_1", tool="fs.write", decision="deny", decision_id="dec_3"),
        pending(4, kind="task", agent="a", task="tsk_1"),
        pending(5, agent="a", task="tsk_3", tool="fs.read", decision="allow", decision_id="dec_5"),
        pending(6, kind="outcome", agent="a", tool="fs.read", decision_id="dec_1"),
    ]
    return store.append_audit(recs, sha_chain)


def test_search_audit_filters(store: SqlStore) -> None:
    """search_audit matches every filter column exactly and combines filters with AND."""
    _seed_audit(store)

    def seqs(**kw: Any) -> list[int]:
        return [r.seq for r in store.search_audit(AuditQuery(**kw))]

    assert seqs() == [1, 2, 3, 4, 5, 6]
    assert seqs(agent="a") == [1, 3, 4, 5, 6]
    assert seqs(agent="A") == []
    assert seqs(task="tsk_1") == [1, 3, 4]
    assert seqs(tool="fs.write") == [2, 3]
    assert seqs(decision="deny") == [2, 3]
    assert seqs(kind="outcome") == [6]
    assert seqs(agent="a", decision="allow", tool="fs.read") == [1, 5]
    assert seqs(agent="b", decision="allow") == []


def test_search_audit_paging_and_order(store: SqlStore) -> None:
    """after_seq pages forward, limit caps (and is at least 1), newest_first reverses the order."""
    _seed_audit(store)

    def seqs(**kw: Any) -> list[int]:
        return [r.seq for r in store.search_audit(AuditQuery(**kw))]

    assert seqs(limit=2) == [1, 2]
    assert seqs(after_seq=2, limit=2) == [3, 4]
    assert seqs(newest_first=True, limit=3) == [6, 5, 4]
    assert seqs(agent="a", newest_first=True) == [6, 5, 4, 3, 1]
    assert seqs(limit=0) == [1]
    assert seqs(after_seq=6) == []


def test_get_audit_by_decision(store: SqlStore) -> None:
    """Every record about a decision id comes back in seq order; unknown ids give []."""
    rows = _seed_audit(store)
    assert store.get_audit_by_decision("dec_1") == [rows[0], rows[5]]
    assert store.get_audit_by_decision("dec_2") == [rows[1]]
    assert store.get_audit_by_decision("dec_none") == []


def test_iter_audit_pages_through_everything(store: SqlStore) -> None:
    """iter_audit yields every record once, in order, across batch boundaries and from after_seq."""
    for i in range(10):
        store.append_audit([pending(i)], sha_chain)
    assert [r.seq for r in store.iter_audit(batch=3)] == list(range(1, 11))
    assert [r.seq for r in store.iter_audit(after_seq=7, batch=2)] == [8, 9, 10]
    assert list(store.iter_audit(after_seq=10)) == []
    assert_chain(list(store.iter_audit(batch=4)))


def test_checkpoints(store: SqlStore) -> None:
    """Checkpoints list in seq order, the latest is the highest seq, and a repeated seq keeps the first."""
    cp5 = Checkpoint(5, b"\x05" * 32, T0 + 5, "k1", b"sig5")
    cp2 = Checkpoint(2, b"\x02" * 32, T0 + 2, "k1", b"sig2")
    store.add_checkpoint(cp5)
    store.add_checkpoint(cp2)
    store.add_checkpoint(Checkpoint(5, b"\xff" * 32, T0 + 9, "k2", b"other"))
    assert store.list_checkpoints() == [cp2, cp5]
    assert store.latest_checkpoint() == cp5


def test_audit_records_are_append_only_at_the_database(backend: Backend) -> None:
    """Raw UPDATE and DELETE on audit_records are refused by the database itself; rows stay as written."""
    rows = backend.store.append_audit([pending(1), pending(2)], sha_chain)
    with pytest.raises(backend.db_error, match="append-only"):
        backend.raw_execute("UPDATE audit_records SET kind = ? WHERE seq = ?", ("tampered", 1))
    with pytest.raises(backend.db_error, match="append-only"):
        backend.raw_execute("DELETE FROM audit_records WHERE seq = ?", (2,))
    with pytest.raises(backend.db_error, match="append-only"):
        backend.raw_execute("DELETE FROM audit_records", ())
    assert list(backend.store.iter_audit()) == rows


# secrets --------------------------------------------------------------------------------
# The store keeps ciphertext only; these tests drive it with opaque bytes, as SecretStore does.
def secret_key(key_id: str, *, created_at: float = T0) -> Any:
    from proctor.store.base import SecretKeyRecord

    return SecretKeyRecord(
        key_id=key_id,
        check_nonce=b"n" * 12,
        check_ciphertext=b"check-" + key_id.encode(),
        created_at=created_at,
    )


def test_secret_rows_round_trip(store: SqlStore) -> None:
    """put_secret stores exact bytes, counts versions and keeps created_at; list is sorted; delete removes."""
    assert store.active_secret_key() is None
    assert store.ensure_secret_key(secret_key("k1")) == secret_key("k1")
    assert store.put_secret("db.admin", "k1", b"\x00n1", b"\x00\xffct1", T0) == 1
    assert store.put_secret("api", "k1", b"n2", b"ct2", T0 + 1) == 1
    assert store.put_secret("db.admin", "k1", b"n3", b"ct3\x00", T0 + 2) == 2
    rec = store.get_secret("db.admin")
    assert rec is not None
    assert (rec.key_id, rec.nonce, rec.ciphertext) == ("k1", b"n3", b"ct3\x00")
    assert (rec.created_at, rec.updated_at, rec.version) == (T0, T0 + 2, 2)
    assert [r.name for r in store.list_secrets()] == ["api", "db.admin"]
    assert store.count_secrets() == 2
    assert store.get_secret("nope") is None
    assert store.delete_secret("api") is True
    assert store.delete_secret("api") is False
    assert store.count_secrets() == 1
    assert store.epoch() == 0  # secrets are not what decisions read


def test_put_secret_refuses_a_key_that_is_not_active(store: SqlStore) -> None:
    """A ciphertext under an unknown or retired key is refused and nothing is stored."""
    from proctor.errors import SecretKeyInvalid

    with pytest.raises(SecretKeyInvalid):
        store.put_secret("a", "k1", b"n", b"c", T0)  # no key at all
    store.ensure_secret_key(secret_key("k1"))
    with pytest.raises(SecretKeyInvalid):
        store.put_secret("a", "other", b"n", b"c", T0)
    assert store.list_secrets() == []


def test_ensure_secret_key_keeps_the_active_key_while_secrets_exist(store: SqlStore) -> None:
    """A different candidate replaces the active key only while no secret is stored."""
    store.ensure_secret_key(secret_key("k1"))
    assert store.ensure_secret_key(secret_key("k2", created_at=T0 + 1)).key_id == "k2"
    store.put_secret("a", "k2", b"n", b"c", T0)
    assert store.ensure_secret_key(secret_key("k3")).key_id == "k2"
    assert store.active_secret_key() == secret_key("k2", created_at=T0 + 1)
    keys = {k.key_id: k.retired_at for k in store.list_secret_keys()}
    assert keys == {"k1": T0 + 1, "k2": None}


def test_rotate_secret_key_moves_every_row_in_one_transaction(backend: Backend) -> None:
    """Rotation rewrites all rows under the new key and retires the old; seen from another instance."""
    store = backend.store
    store.ensure_secret_key(secret_key("k1"))
    for i in range(3):
        store.put_secret(f"s{i}", "k1", b"n%d" % i, b"c%d" % i, T0)
    seen: list[str] = []

    def reencrypt(rec: Any) -> tuple[bytes, bytes]:
        seen.append(rec.name)
        return b"N" + rec.nonce, b"C" + rec.ciphertext

    assert store.rotate_secret_key("k1", secret_key("k2"), reencrypt, T0 + 5) == 3
    assert seen == ["s0", "s1", "s2"]
    other = backend.another()
    rows = other.list_secrets()
    assert [(r.key_id, r.nonce, r.ciphertext, r.version) for r in rows] == [
        ("k2", b"Nn%d" % i, b"Cc%d" % i, 1) for i in range(3)
    ]
    assert {k.key_id: k.retired_at for k in other.list_secret_keys()} == {"k1": T0 + 5, "k2": None}
    from proctor.errors import SecretKeyInvalid

    with pytest.raises(SecretKeyInvalid):  # the old key is no longer active
        store.rotate_secret_key("k1", secret_key("k3"), reencrypt, T0 + 6)
    with pytest.raises(SecretKeyInvalid):
        store.put_secret("late", "k1", b"n", b"c", T0)


def test_rotate_secret_key_failure_changes_nothing(store: SqlStore) -> None:
    """A re-encryption that fails part-way rolls back rows and keys alike."""
    store.ensure_secret_key(secret_key("k1"))
    for i in range(3):
        store.put_secret(f"s{i}", "k1", b"n%d" % i, b"c%d" % i, T0)
    before, keys_before = store.list_secrets(), store.list_secret_keys()

    def reencrypt(rec: Any) -> tuple[bytes, bytes]:
        if rec.name == "s2":
            raise RuntimeError("injected")
        return b"N", b"C"

    with pytest.raises(RuntimeError, match="injected"):
        store.rotate_secret_key("k1", secret_key("k2"), reencrypt, T0 + 5)
    assert store.list_secrets() == before
    assert store.list_secret_keys() == keys_before
    assert store.active_secret_key() == secret_key("k1")


def test_only_one_secret_key_is_active_at_the_database(backend: Backend) -> None:
    """The schema itself refuses a second active key, and (on Proctor's connections, which turn SQLite's
    foreign keys on) a secret under an unknown key id."""
    backend.store.ensure_secret_key(secret_key("k1"))
    with pytest.raises(backend.db_error):
        backend.raw_execute(
            "INSERT INTO secret_keys (key_id, check_nonce, check_ciphertext, created_at) VALUES (?, ?, ?, ?)",
            ("k2", b"n", b"c", T0),
        )
    with pytest.raises(backend.db_error), backend.store._write() as cur:  # Proctor's own connection
        cur.execute(
            "INSERT INTO secrets (name, key_id, nonce, ciphertext, created_at, updated_at, version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("x", "ghost", b"n", b"c", T0, T0, 1),
        )
    assert backend.store.list_secrets() == []


def test_secret_store_end_to_end_on_both_engines(backend: Backend) -> None:
    """SecretStore over each engine: round trip, wrong key refused, name-bound ciphertext."""
    from proctor.credentials.secrets import SecretStore
    from proctor.errors import SecretDecryptFailed, SecretKeyInvalid

    ss = SecretStore(backend.store, bytes(range(32)), now=T0)
    ss.put("a", b"\x00value-a\xff", T0)
    ss.put("b", "value-b", T0)
    assert SecretStore(backend.another(), bytes(range(32)), now=T0).get("a") == b"\x00value-a\xff"
    with pytest.raises(SecretKeyInvalid):
        SecretStore(backend.another(), bytes(32), now=T0)
    backend.raw_execute(
        "UPDATE secrets SET nonce = (SELECT nonce FROM secrets WHERE name = 'a'),"
        " ciphertext = (SELECT ciphertext FROM secrets WHERE name = 'a') WHERE name = 'b'",
        (),
    )
    with pytest.raises(SecretDecryptFailed):
        ss.get("b")
    with pytest.raises(SecretDecryptFailed):  # a corrupt row stops rotation: nothing changes
        ss.rotate_key(bytes(range(1, 33)), T0 + 1)
    assert ss.get("a") == b"\x00value-a\xff"
    assert {r.key_id for r in backend.store.list_secrets()} == {ss.key_id}


# leases ---------------------------------------------------------------------------------
def lease(
    task_rec: TaskRecord, *, expires_at: float = T0 + 600, issued_at: float = T0, name: str = "db"
) -> LeaseRecord:
    return LeaseRecord(
        id=LeaseId.new(),
        task_id=task_rec.id,
        agent=task_rec.agent,
        kind="fake",
        name=name,
        state=LeaseState.ACTIVE,
        issued_at=issued_at,
        expires_at=expires_at,
        revoke_handle={"cid": name},
        data_summary={"spec_keys": ["name"], "data_keys": ["token"]},
    )


def _lease_world(store: SqlStore) -> tuple[TaskRecord, TaskRecord, TaskRecord]:
    store.add_agent(agent("bot"))
    store.add_agent(agent("other"))
    t1, t2, t3 = task("bot"), task("bot"), task("other")
    for t in (t1, t2, t3):
        store.add_task(t)
    return t1, t2, t3


def test_lease_round_trips_and_lists_with_filters(store: SqlStore) -> None:
    """Every lease field comes back as stored; list_leases filters by task, agent and state, oldest first."""
    t1, t2, t3 = _lease_world(store)
    a, b, c = lease(t1, issued_at=T0 + 2), lease(t1, issued_at=T0 + 1), lease(t3)
    for x in (a, b, c):
        store.add_lease(x)
    assert store.get_lease(a.id) == a
    assert store.get_lease(LeaseId.new()) is None
    assert store.list_leases() == [c, b, a]
    assert store.list_leases(task_id=t1.id) == [b, a]
    assert store.list_leases(task_id=t2.id) == []
    assert store.list_leases(agent=AgentName("other")) == [c]
    assert store.list_leases(state=LeaseState.REVOKED) == []


def test_add_lease_requires_an_active_task(store: SqlStore) -> None:
    """A lease for an unknown or ended task is refused and nothing is stored."""
    t1, _, _ = _lease_world(store)
    with pytest.raises(UnknownTask):
        store.add_lease(lease(task("bot")))
    store.end_task(t1.id, TaskState.COMPLETED, T0 + 1, "done")
    with pytest.raises(TaskNotActive):
        store.add_lease(lease(t1))
    assert store.list_leases() == []


def test_mark_leases_changes_only_active_leases_in_one_call(store: SqlStore) -> None:
    """mark_leases by task, by agent or by ids moves only active leases, stamps them pending, and
    returns exactly those it changed."""
    t1, t2, t3 = _lease_world(store)
    a, b, c, d = lease(t1), lease(t1), lease(t2), lease(t3)
    for x in (a, b, c, d):
        store.add_lease(x)
    got = store.mark_leases((), LeaseState.REVOKED, T0 + 5, task_id=t1.id)
    assert sorted(x.id for x in got) == sorted([a.id, b.id])
    assert all(x.state is LeaseState.REVOKED and x.revoked_at == T0 + 5 and x.pending for x in got)
    assert store.mark_leases((), LeaseState.REVOKED, T0 + 6, task_id=t1.id) == []
    got = store.mark_leases((), LeaseState.REVOKED, T0 + 7, agent=AgentName("bot"))
    assert [x.id for x in got] == [c.id]
    got = store.mark_leases([d.id, a.id], LeaseState.EXPIRED, T0 + 8)
    assert [x.id for x in got] == [d.id]
    assert store.get_lease(a.id) == replace(
        a, state=LeaseState.REVOKED, revoked_at=T0 + 5, next_attempt_at=T0 + 5
    )
    with pytest.raises(ValidationError):
        store.mark_leases([a.id], LeaseState.IRREVOCABLE, T0)
    with pytest.raises(ValidationError):
        store.mark_leases((), LeaseState.REVOKED, T0)


def test_mark_leases_handles_many_ids(store: SqlStore) -> None:
    """More ids than one IN list holds are all marked, in one call."""
    t1, _, _ = _lease_world(store)
    many = [lease(t1, name=f"c{i}") for i in range(1203)]
    for x in many:
        store.add_lease(x)
    got = store.mark_leases([x.id for x in many], LeaseState.REVOKED, T0 + 1)
    assert len(got) == 1203
    assert store.list_leases(state=LeaseState.ACTIVE) == []


def test_due_leases_finds_expired_orphaned_and_suspended(store: SqlStore) -> None:
    """due_leases: active leases past expiry, of an ended task, or of a suspended agent; nothing else."""
    t1, t2, t3 = _lease_world(store)
    soon, later, orphan, other = lease(t1, expires_at=T0 + 10), lease(t1), lease(t2), lease(t3)
    for x in (soon, later, orphan, other):
        store.add_lease(x)
    assert store.due_leases(T0 + 9) == []
    assert [x.id for x in store.due_leases(T0 + 10)] == [soon.id]
    store.end_task(t2.id, TaskState.CANCELLED, T0 + 11, "stop")
    assert {x.id for x in store.due_leases(T0 + 12)} == {soon.id, orphan.id}
    store.set_agent_status(AgentName("other"), AgentStatus.SUSPENDED, T0 + 13)
    assert {x.id for x in store.due_leases(T0 + 14)} == {soon.id, orphan.id, other.id}
    store.mark_leases([soon.id], LeaseState.EXPIRED, T0 + 15)
    assert {x.id for x in store.due_leases(T0 + 16)} == {orphan.id, other.id}


def test_revocations_are_claimed_by_one_caller(store: SqlStore) -> None:
    """mark_leases with claim_until keeps the leases off retries until then; claim_revocations hands
    each due lease to one caller only (issue 19), and only of the kinds asked for."""
    t1, _, _ = _lease_world(store)
    a, b = lease(t1, name="a"), lease(t1, name="b")
    store.add_lease(a)
    store.add_lease(b)
    marked = store.mark_leases([a.id], LeaseState.REVOKED, T0 + 1, claim_until=T0 + 61)
    assert [x.next_attempt_at for x in marked] == [T0 + 61]
    store.mark_leases([b.id], LeaseState.REVOKED, T0 + 1)
    assert store.claim_revocations(T0 + 2, T0 + 62, kinds=["other"]) == []
    assert store.claim_revocations(T0 + 2, T0 + 62, kinds=[]) == []
    first = store.claim_revocations(T0 + 2, T0 + 62, kinds=["fake"])
    assert [x.id for x in first] == [b.id]
    assert first[0].next_attempt_at == T0 + 62
    assert store.claim_revocations(T0 + 2, T0 + 62) == []  # claimed: nobody else gets it
    assert {x.id for x in store.claim_revocations(T0 + 61, T0 + 121)} == {a.id}
    assert {x.id for x in store.claim_revocations(T0 + 62, T0 + 122)} == {b.id}  # the claim ran out


def test_pending_revocations_and_attempt_updates(store: SqlStore) -> None:
    """Revocations come due at next_attempt_at; an attempt applies only once (attempts_before guard);
    a confirmed or irrevocable lease is no longer pending."""
    t1, _, _ = _lease_world(store)
    a, b = lease(t1), lease(t1)
    store.add_lease(a)
    store.add_lease(b)
    assert store.pending_revocations(T0 + 100) == []
    store.mark_leases((), LeaseState.REVOKED, T0 + 1, task_id=t1.id)
    assert {x.id for x in store.pending_revocations(T0 + 1)} == {a.id, b.id}
    assert store.pending_revocations(T0 + 0.5) == []
    fail = LeaseAttempt(a.id, 0, 1, T0 + 3, "ConnectionError")
    ok = LeaseAttempt(b.id, 0, 1, None)
    assert store.update_lease_attempts([fail, ok]) == 2
    assert store.update_lease_attempts([fail]) == 0  # already recorded
    assert [x.id for x in store.pending_revocations(T0 + 2)] == []
    again = store.pending_revocations(T0 + 3)
    assert [x.id for x in again] == [a.id]
    assert again[0].attempts == 1
    assert again[0].last_error == "ConnectionError"
    done = store.get_lease(b.id)
    assert done is not None
    assert done.state is LeaseState.REVOKED
    assert not done.pending
    give_up = LeaseAttempt(a.id, 1, 2, None, "ConnectionError", LeaseState.IRREVOCABLE)
    assert store.update_lease_attempts([give_up]) == 1
    assert [x.id for x in store.list_leases(state=LeaseState.IRREVOCABLE)] == [a.id]
    assert store.pending_revocations(T0 + 1e6) == []
    assert store.update_lease_attempts([]) == 0


def test_leases_are_shared_between_store_instances(backend: Backend) -> None:
    """A lease one instance marks is seen revoked by another (as another Proctor process would)."""
    t1, _, _ = _lease_world(backend.store)
    a = lease(t1)
    backend.store.add_lease(a)
    other = backend.another()
    assert other.get_lease(a.id) == a
    other.mark_leases([a.id], LeaseState.REVOKED, T0 + 1)
    got = backend.store.get_lease(a.id)
    assert got is not None
    assert got.state is LeaseState.REVOKED


def test_extend_lease_moves_only_an_active_lease_later(store: SqlStore) -> None:
    """A renewal moves an active lease's expiry later; never earlier, never for an ended lease."""
    t1, _, _ = _lease_world(store)
    a = lease(t1)
    store.add_lease(a)
    assert store.extend_lease(a.id, a.expires_at + 60)
    got = store.get_lease(a.id)
    assert got is not None
    assert got.expires_at == a.expires_at + 60
    assert not store.extend_lease(a.id, a.expires_at)  # earlier: refused
    store.mark_leases([a.id], LeaseState.REVOKED, T0 + 1)
    assert not store.extend_lease(a.id, a.expires_at + 600)


# approval webhooks ------------------------------------------------------------------------
def test_webhook_deliveries_are_filed_once(backend: Backend) -> None:
    """A delivery per (request, webhook) is filed once, however many processes file it."""
    store, other = backend.store, backend.another()
    assert store.add_webhook_deliveries([("apr_1", "slack"), ("apr_1", "ops")], T0) == 2
    assert other.add_webhook_deliveries([("apr_1", "slack"), ("apr_2", "slack")], T0 + 1) == 1
    assert store.add_webhook_deliveries([], T0) == 0
    assert store.webhook_delivery_keys(["apr_1", "apr_2", "apr_3"]) == {
        ("apr_1", "slack"),
        ("apr_1", "ops"),
        ("apr_2", "slack"),
    }
    assert store.webhook_delivery_keys([]) == set()
    rows = store.list_webhook_deliveries()
    assert [(d.approval_id, d.target) for d in rows] == [
        ("apr_1", "ops"),
        ("apr_1", "slack"),
        ("apr_2", "slack"),
    ]
    first = rows[0]
    assert (first.state, first.attempts, first.created_at, first.next_attempt_at) == ("pending", 0, T0, T0)
    assert [d.target for d in store.list_webhook_deliveries("apr_2")] == ["slack"]


def test_webhook_claims_are_exclusive_until_they_run_out(backend: Backend) -> None:
    """A due delivery is claimed by one process at a time; a claim left behind (a crash) runs out."""
    store, other = backend.store, backend.another()
    store.add_webhook_deliveries([("apr_1", "slack"), ("apr_2", "slack")], T0)
    assert store.claim_webhook_deliveries(T0 - 1, T0 + 60) == []  # not due yet
    got = store.claim_webhook_deliveries(T0, T0 + 60, limit=1)
    assert [(d.approval_id, d.claimed_until) for d in got] == [("apr_1", T0 + 60)]
    assert [d.approval_id for d in other.claim_webhook_deliveries(T0 + 1, T0 + 61)] == ["apr_2"]
    assert other.claim_webhook_deliveries(T0 + 2, T0 + 62) == []  # both claimed
    assert store.claim_webhook_deliveries(T0 + 2, T0 + 62, limit=0) == []
    again = other.claim_webhook_deliveries(T0 + 60, T0 + 120)  # apr_1's claim ran out
    assert [d.approval_id for d in again] == ["apr_1"]


def test_webhook_attempts_apply_once_and_end_a_delivery(store: SqlStore) -> None:
    """An attempt applies once (attempts_before guard) and releases the claim; a retry comes due at
    its time; a delivered, failed or obsolete delivery is never claimed again."""
    store.add_webhook_deliveries([("apr_1", "a"), ("apr_1", "b"), ("apr_1", "c")], T0)
    assert len(store.claim_webhook_deliveries(T0, T0 + 60)) == 3
    retry = WebhookAttempt(
        "apr_1", "a", 0, "pending", next_attempt_at=T0 + 5, last_status=503, last_error="http_503"
    )
    assert store.record_webhook_attempt(retry)
    assert not store.record_webhook_attempt(retry)  # recorded already
    assert store.record_webhook_attempt(
        WebhookAttempt("apr_1", "b", 0, "delivered", delivered_at=T0 + 1, last_status=200)
    )
    assert store.record_webhook_attempt(
        WebhookAttempt("apr_1", "c", 0, "failed", last_status=404, last_error="http_404")
    )
    assert store.claim_webhook_deliveries(T0 + 4, T0 + 64) == []
    (due,) = store.claim_webhook_deliveries(T0 + 5, T0 + 65)
    assert (due.target, due.attempts, due.last_status, due.last_error) == ("a", 1, 503, "http_503")
    assert store.record_webhook_attempt(WebhookAttempt("apr_1", "a", 1, "obsolete"))
    assert store.claim_webhook_deliveries(T0 + 1e6, T0 + 2e6) == []
    by_target = {d.target: d for d in store.list_webhook_deliveries("apr_1")}
    assert {t: d.state for t, d in by_target.items()} == {"a": "obsolete", "b": "delivered", "c": "failed"}
    assert by_target["b"].delivered_at == T0 + 1
    assert by_target["b"].claimed_until is None
    assert not store.record_webhook_attempt(WebhookAttempt("apr_1", "b", 1, "pending", next_attempt_at=T0))


# approvals ----------------------------------------------------------------------------
def approval(
    t: TaskRecord, *, digest: str = "d1", created_at: float = T0, expires_at: float = T0 + 600
) -> ApprovalRecord:
    return ApprovalRecord(
        id=ApprovalId.new(),
        state="pending",
        agent=t.agent,
        task_id=t.id,
        tool=ToolName("payments.transfer"),
        effects='["pay"]',
        digest=digest,
        args_digest="sha256:x",
        policy_version="v1",
        policies='["p"]',
        reasons='["r"]',
        approvers='["owner"]',
        four_eyes=True,
        owner="alice@example.com",
        requester="bob@example.com",
        key_id="k1",
        nonce=b"\x00\x01" * 6,
        ciphertext=b"\xff\x00sealed",
        created_at=created_at,
        expires_at=expires_at,
        decision_id="dec_AAAAAAAAAAAAAAAAAAAAAA",
    )


def test_approval_round_trips_and_identical_requests_are_grouped(store: SqlStore) -> None:
    t1, _, _ = _lease_world(store)
    a = approval(t1)
    assert store.add_approval(a, max_pending=5, now=T0) == a
    assert store.get_approval(a.id) == a
    again = store.add_approval(approval(t1), max_pending=5, now=T0 + 1)
    assert again.id == a.id
    assert again.attempts == 2
    assert len(store.list_approvals()) == 1
    # an expired pending request is not joined: a new one is filed
    later = approval(t1, created_at=T0 + 700, expires_at=T0 + 1300)
    assert store.add_approval(later, max_pending=5, now=T0 + 700).id == later.id


def test_the_pending_cap_counts_unexpired_requests_of_one_agent(store: SqlStore) -> None:
    t1, t2, t3 = _lease_world(store)
    store.add_approval(approval(t1, digest="a"), max_pending=2, now=T0)
    store.add_approval(approval(t2, digest="b"), max_pending=2, now=T0)
    with pytest.raises(ApprovalCapReached):
        store.add_approval(approval(t1, digest="c"), max_pending=2, now=T0)
    store.add_approval(approval(t3, digest="c"), max_pending=2, now=T0)  # another agent
    store.add_approval(approval(t1, digest="c"), max_pending=2, now=T0 + 601)  # the first two expired
    with pytest.raises(UnknownAgent):
        store.add_approval(replace(approval(t1, digest="z"), agent=AgentName("ghost")), max_pending=2, now=T0)


def test_decide_use_and_expire_approvals(store: SqlStore) -> None:
    t1, _, _ = _lease_world(store)
    a, b, c = approval(t1, digest="a"), approval(t1, digest="b"), approval(t1, digest="c")
    for r in (a, b, c):
        store.add_approval(r, max_pending=10, now=T0)
    kw: dict[str, Any] = {"decided_by": "alice@example.com", "decided_via": "password", "reason": "ok"}
    got = store.decide_approval(
        a.id, state="approved", now=T0 + 1, narrowing=None, grant_token="g", expires_at=T0 + 500, **kw
    )
    assert got is not None
    assert (got.state, got.grant_token, got.decided_by, got.expires_at) == (
        "approved",
        "g",
        "alice@example.com",
        T0 + 500,
    )
    assert (
        store.decide_approval(
            a.id, state="denied", now=T0 + 2, narrowing=None, grant_token=None, expires_at=T0, **kw
        )
        is None
    )
    with pytest.raises(ValidationError):
        store.decide_approval(
            b.id, state="used", now=T0, narrowing=None, grant_token=None, expires_at=T0, **kw
        )
    scoped = store.decide_approval(
        b.id,
        state="approved",
        now=T0 + 1,
        narrowing='{"amount":{"max":5}}',
        grant_token="s",
        expires_at=T0 + 900,
        **kw,
    )
    assert scoped is not None
    assert [r.id for r in store.approved_for("a")] == [a.id]
    assert store.approved_for("b") == []  # a scoped grant is not single-use
    assert [r.id for r in store.scoped_grants(t1.id, ToolName("payments.transfer"))] == [b.id]
    used = store.use_approval(a.id, T0 + 3, "dec_BBBBBBBBBBBBBBBBBBBBBB")
    assert used is not None
    assert (used.state, used.used_by) == ("used", "dec_BBBBBBBBBBBBBBBBBBBBBB")
    assert store.use_approval(a.id, T0 + 4, "dec_CCCCCCCCCCCCCCCCCCCCCC") is None  # single use
    assert store.use_approval(b.id, T0 + 4, "dec_CCCCCCCCCCCCCCCCCCCCCC") is None  # scoped: never consumed
    # c is pending until T0 + 600, b approved until T0 + 900
    assert [r.id for r in store.expire_approvals(T0 + 600)] == [c.id]
    assert (
        store.decide_approval(
            c.id, state="approved", now=T0 + 601, narrowing=None, grant_token="g", expires_at=T0 + 999, **kw
        )
        is None
    )
    assert [r.id for r in store.expire_approvals(T0 + 900)] == [b.id]
    assert [r.state for r in store.list_approvals(states=["expired"])] == ["expired", "expired"]


def test_only_one_of_many_concurrent_uses_of_a_grant_wins(backend: Backend) -> None:
    t1, _, _ = _lease_world(backend.store)
    a = approval(t1)
    backend.store.add_approval(a, max_pending=10, now=T0)
    backend.store.decide_approval(
        a.id, state="approved", now=T0, decided_by="alice@example.com", decided_via="password", reason="ok",
        narrowing=None, grant_token="g", expires_at=T0 + 500,
    )  # fmt: skip
    stores = [backend.another() for _ in range(4)]
    wins: list[bool] = []
    barrier = threading.Barrier(len(stores))

    def use(s: SqlStore, i: int) -> None:
        barrier.wait()
        wins.append(s.use_approval(a.id, T0 + 1, f"dec_{i:022d}") is not None)

    threads = [threading.Thread(target=use, args=(s, i)) for i, s in enumerate(stores)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(wins) == [False, False, False, True]


def _approve(store: SqlStore, a: ApprovalRecord, now: float = T0 + 1, **kw: Any) -> ApprovalRecord:
    got = store.decide_approval(
        a.id, state=kw.pop("state", "approved"), now=now, decided_by="alice@example.com",
        decided_via="password", reason="ok", narrowing=kw.pop("narrowing", None),
        grant_token="g", expires_at=kw.pop("expires_at", T0 + 500),
    )  # fmt: skip
    assert got is not None
    return got


def test_a_grant_approved_after_the_caller_looked_is_returned_instead_of_a_second_request(
    store: SqlStore,
) -> None:
    """The approval stage reads the grants, then files: an approval committed in between is
    returned (unchanged) to be redeemed, unless the caller has tried that grant already."""
    t1, _, _ = _lease_world(store)
    a = approval(t1)
    store.add_approval(a, max_pending=5, now=T0)
    _approve(store, a)
    got = store.add_approval(approval(t1), max_pending=5, now=T0 + 2, passed_grants=())
    assert (got.id, got.state, got.attempts) == (a.id, "approved", 1)
    assert len(store.list_approvals()) == 1
    # a grant the caller tried (used by another call, or refused) is not returned again
    other = store.add_approval(approval(t1), max_pending=5, now=T0 + 2, passed_grants=[a.id])
    assert (other.id != a.id, other.state) == (True, "pending")
    # without passed_grants (the caller does not redeem): filed or joined as before
    assert store.add_approval(approval(t1), max_pending=5, now=T0 + 3).id == other.id


def test_a_used_denied_or_expired_grant_is_never_returned_to_a_filing(store: SqlStore) -> None:
    t1, _, _ = _lease_world(store)
    used, denied, expired, scoped = (approval(t1, digest=d) for d in ("u", "d", "e", "s"))
    for r in (used, denied, expired, scoped):
        store.add_approval(r, max_pending=10, now=T0)
    _approve(store, used)
    assert store.use_approval(used.id, T0 + 2, "dec_BBBBBBBBBBBBBBBBBBBBBB") is not None
    _approve(store, denied, state="denied")
    _approve(store, expired, expires_at=T0 + 3)
    _approve(store, scoped, narrowing='{"amount":{"max":5}}', expires_at=T0 + 900)
    for r in (used, denied, expired):
        got = store.add_approval(approval(t1, digest=r.digest), max_pending=10, now=T0 + 3, passed_grants=())
        assert got.id != r.id, r.digest
        assert got.state == "pending", r.digest
    # a scoped grant bound to the identical call is returned too (the stage checks its narrowing)
    got = store.add_approval(approval(t1, digest="s"), max_pending=10, now=T0 + 3, passed_grants=())
    assert (got.id, got.state) == (scoped.id, "approved")


def test_concurrent_identical_filings_join_one_request(backend: Backend) -> None:
    """Identical calls filed at once from several connections (processes) are one request: the
    agent's row is locked exclusively while filing, on both engines."""
    t1, _, _ = _lease_world(backend.store)
    stores = [backend.another() for _ in range(4)]
    got: list[ApprovalRecord] = []
    barrier = threading.Barrier(len(stores))

    def file(s: SqlStore) -> None:
        barrier.wait()
        got.append(s.add_approval(approval(t1), max_pending=10, now=T0, passed_grants=()))

    for _ in range(5):
        got.clear()
        for r in backend.store.list_approvals():
            backend.store.decide_approval(
                r.id, state="denied", now=T0, decided_by="a@b.c", decided_via="password", reason="x",
                narrowing=None, grant_token=None, expires_at=r.expires_at,
            )  # fmt: skip
        threads = [threading.Thread(target=file, args=(s,)) for s in stores]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert len({r.id for r in got}) == 1, [r.id for r in got]
        assert backend.store.get_approval(got[0].id).attempts == len(stores)  # type: ignore[union-attr]


# --- a chain per writer (issue 19, docs/adr/0036) ------------------------------------------------


def test_each_writer_has_a_chain_of_its_own(backend: Backend) -> None:
    """Two writers (two processes' stores) interleave: each chain starts at genesis and counts its
    own wseq, the global seq rises across both, and each writer's head is its own."""
    a, b = backend.store, backend.another()
    one = a.register_audit_writer(T0, "host-a", 11, "proctor serve")
    two = b.register_audit_writer(T0 + 1, "host-b", 22, "proctor gateway")
    assert 0 < one < two
    got = [
        *a.append_audit([pending(1), pending(2)], sha_chain, writer=one),
        *b.append_audit([pending(3)], sha_chain, writer=two),
        *a.append_audit([pending(4)], sha_chain, writer=one),
        *b.append_audit([pending(5)], sha_chain, writer=two),
    ]
    assert [(r.writer, r.wseq) for r in got] == [(one, 1), (one, 2), (two, 1), (one, 3), (two, 2)]
    assert [r.seq for r in got] == sorted({r.seq for r in got})
    stored = list(a.iter_audit())
    assert [(r.seq, r.writer, r.wseq, r.hash) for r in stored] == [
        (r.seq, r.writer, r.wseq, r.hash) for r in got
    ]
    for w in (one, two):
        assert_chain([r for r in stored if r.writer == w])
    head = a.audit_writer_head(two)
    assert head is not None
    assert (head.writer, head.wseq, head.hash) == (two, 2, got[-1].hash)
    assert a.audit_writer_head(12345) is None
    writers = {w.id: w for w in b.list_audit_writers()}
    assert writers[0].first_seq is None  # the legacy chain: empty in a fresh store
    assert (writers[one].host, writers[one].pid, writers[one].info) == ("host-a", 11, "proctor serve")
    assert writers[one].first_seq == got[0].seq
    assert writers[two].first_seq == got[2].seq
    assert writers[two].started_at == T0 + 1


def test_legacy_appends_are_writer_zero(store: SqlStore) -> None:
    """Without a writer, records go to writer 0, whose wseq is the place in its chain, hashed as
    logs before per-writer chains were (what existing logs hold after the migration)."""
    rows = store.append_audit([pending(1), pending(2)], sha_chain)
    assert [(r.writer, r.wseq) for r in rows] == [(0, 1), (0, 2)]
    assert_chain(list(store.iter_audit()))


def test_checkpoints_name_their_writer(store: SqlStore) -> None:
    """A checkpoint keeps its writer; the latest of each writer is found by writer."""
    w = store.register_audit_writer(T0, "h", 1, "")
    r = store.append_audit([pending(1)], sha_chain, writer=w)[0]
    store.add_checkpoint(Checkpoint(r.seq, r.hash, T0, "kid", b"s" * 64, w))
    store.add_checkpoint(Checkpoint(r.seq + 100, b"h" * 32, T0, "kid", b"s" * 64, 0))
    assert [(c.seq, c.writer) for c in store.list_checkpoints()] == [(r.seq, w), (r.seq + 100, 0)]
    mine = store.latest_checkpoint_of(w)
    assert mine is not None
    assert mine.seq == r.seq
    assert store.latest_checkpoint_of(w + 1) is None


def test_an_expiry_stays_claimed_until_audited_and_a_stale_claim_is_taken_once(store: SqlStore) -> None:
    """expire_tasks claims each expiry; expiry_audited clears it; reclaim_expiries returns only
    claims older than the bound, each once (it claims them again), and never an audited one."""
    store.add_agent(agent("bot"))
    a, b = task("bot", deadline=T0 + 10), task("bot", deadline=T0 + 10)
    store.add_task(a)
    store.add_task(b)
    assert {t.id for t in store.expire_tasks(T0 + 20)} == {a.id, b.id}
    store.expiry_audited([a.id])
    assert store.reclaim_expiries(T0 + 30, T0 + 20) == []  # claimed at T0+20: not before it
    [again] = store.reclaim_expiries(T0 + 100, T0 + 40)
    assert again.id == b.id
    assert again.state is TaskState.EXPIRED
    assert store.reclaim_expiries(T0 + 101, T0 + 90) == []  # claimed anew at T0+100
    store.expiry_audited([b.id])
    assert store.reclaim_expiries(T0 + 1000, T0 + 999) == []


def test_follower_reads_each_chain_past_its_mark(backend: Backend) -> None:
    """`audit tail -f`: the newest records, then every record committed after them, once each, from
    every writer (one that registered later too), in seq order; ``since`` filters by time."""
    from proctor.audit.query import AuditFollower

    a, b = backend.store, backend.another()
    one = a.register_audit_writer(T0, "h", 1, "")
    two = b.register_audit_writer(T0, "h", 2, "")
    a.append_audit([pending(1), pending(2)], sha_chain, writer=one)
    b.append_audit([pending(3)], sha_chain, writer=two)
    first, follower = AuditFollower.start(a, 2)
    assert [(r.writer, r.wseq) for r in first] == [(one, 2), (two, 1)]
    assert follower.poll() == []
    b.append_audit([pending(4)], sha_chain, writer=two)
    a.append_audit([pending(5)], sha_chain, writer=one)
    three = b.register_audit_writer(T0, "h", 3, "")
    b.append_audit([pending(6)], sha_chain, writer=three)
    got = follower.poll()
    assert [(r.writer, r.wseq) for r in got] == [(two, 2), (one, 3), (three, 1)]
    assert [r.seq for r in got] == sorted(r.seq for r in got)
    assert follower.poll() == []
    many = a.append_audit([pending(10 + i) for i in range(5)], sha_chain, writer=one)
    assert [r.seq for r in follower.poll(limit=2)] == [r.seq for r in many[:2]]
    assert [r.seq for r in follower.poll(limit=2)] == [r.seq for r in many[2:4]]
    assert [r.seq for r in follower.poll(limit=2)] == [many[4].seq]
    assert follower.poll() == []
    none, late = AuditFollower.start(a, 0, since=T0 + 10_000)
    assert none == []
    a.append_audit([pending(20)], sha_chain, writer=one)
    assert late.poll() == []  # written before ``since``: filtered, and not read again
