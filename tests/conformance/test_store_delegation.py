"""The store's part of delegation (issue 17, docs/adr/0032): a task's chain round-trips, children are
found by their parent, orphans (active tasks whose parent is no longer active) are found for the
sweeper, a high-water mark is raised (never lowered) without an output, and audit records are
selected by a set of tasks — same behaviour on SQLite and PostgreSQL."""

# ruff: noqa: F811 - the imported fixtures `backend` and `store` are the tests' parameters
from __future__ import annotations

from dataclasses import replace

import pytest
from tests.conformance.test_store_conformance import (  # noqa: F401
    T0,
    Backend,
    agent,
    backend,
    pending,
    sha_chain,
    store,
    task,
)

from proctor.errors import UnknownTask
from proctor.flow.model import Sensitivity, TaskLabels
from proctor.store._sql import SqlStore
from proctor.store.base import AuditQuery, TaskRecord
from proctor.types import AgentName, TaskId, TaskState


def _tree(store: SqlStore) -> tuple[TaskRecord, TaskRecord, TaskRecord]:
    for name in ("planner", "researcher", "mailer"):
        store.add_agent(agent(name))
    root = task("planner")
    store.add_task(root)
    a = task("researcher", parent_id=str(root.id))
    a = replace(a, chain=(("planner", str(root.id)), ("researcher", str(a.id))))
    store.add_task(a)
    b = task("mailer", parent_id=str(a.id))
    b = replace(b, chain=(*a.chain, ("mailer", str(b.id))))
    store.add_task(b)
    return root, a, b


def test_the_chain_round_trips_and_children_are_found(store: SqlStore) -> None:
    root, a, b = _tree(store)
    assert store.get_task(b.id) == b
    assert store.get_task(root.id) == root  # no chain: '[]'
    assert root.chain == ()
    assert b.chain[0] == ("planner", str(root.id))
    assert [t.id for t in store.child_tasks(root.id)] == [a.id]
    assert [t.id for t in store.child_tasks(a.id)] == [b.id]
    assert store.child_tasks(b.id) == []
    store.end_task(a.id, TaskState.CANCELLED, T0 + 1, "x")
    assert store.child_tasks(root.id) == []
    assert [t.id for t in store.child_tasks(root.id, active_only=False)] == [a.id]


def test_orphans_are_active_children_of_ended_parents(store: SqlStore) -> None:
    root, a, b = _tree(store)
    assert store.orphan_tasks() == []
    store.end_task(root.id, TaskState.COMPLETED, T0 + 1, "done")
    assert [t.id for t in store.orphan_tasks()] == [a.id]  # b's parent is still active
    store.end_task(a.id, TaskState.CANCELLED, T0 + 2, "parent task ended")
    assert [t.id for t in store.orphan_tasks()] == [b.id]
    store.end_task(b.id, TaskState.CANCELLED, T0 + 2, "parent task ended")
    assert store.orphan_tasks() == []


def test_descendant_labels_walk_active_tasks_in_one_query(store: SqlStore) -> None:
    """Every active task below one, with its mark (an unmarked one reads as nothing read); an
    ended task hides its subtree; ``limit`` bounds the answer."""
    root, a, b = _tree(store)
    assert store.descendant_labels(b.id, limit=10) == []
    marked = TaskLabels(read_untrusted=True, untrusted_sources=("mail.read",))
    store.raise_task_labels(b.id, marked)
    below = dict(store.descendant_labels(root.id, limit=10))
    assert set(below) == {a.id, b.id}
    assert below[a.id] == TaskLabels()
    assert (below[b.id].read_untrusted, below[b.id].untrusted_sources) == (True, ("mail.read",))
    assert len(store.descendant_labels(root.id, limit=1)) == 1
    store.end_task(a.id, TaskState.CANCELLED, T0 + 1, "x")
    assert store.descendant_labels(root.id, limit=10) == []


def test_a_high_water_mark_is_raised_never_lowered(store: SqlStore) -> None:
    root, a, _ = _tree(store)
    assert store.task_labels(a.id) == TaskLabels()
    store.raise_task_labels(
        a.id,
        TaskLabels(
            read_untrusted=True, max_sensitivity=Sensitivity.INTERNAL, untrusted_sources=("mail.read",)
        ),
    )
    store.raise_task_labels(
        a.id, TaskLabels(max_sensitivity=Sensitivity.CONFIDENTIAL, untrusted_sources=("web.fetch",))
    )
    store.raise_task_labels(a.id, TaskLabels())
    got = store.task_labels(a.id)
    assert got.read_untrusted
    assert got.max_sensitivity is Sensitivity.CONFIDENTIAL
    assert got.untrusted_sources == ("mail.read", "web.fetch")
    assert got.outputs == 0
    assert store.task_labels(root.id) == TaskLabels()
    with pytest.raises(UnknownTask):
        store.raise_task_labels(TaskId.new(), TaskLabels(read_untrusted=True))


def test_audit_records_of_a_set_of_tasks(store: SqlStore) -> None:
    root, a, b = _tree(store)
    other = task("planner")
    store.add_task(other)
    store.append_audit(
        [pending(i, task=str(t.id), agent=str(t.agent)) for i, t in enumerate((root, a, b, other), 1)],
        sha_chain,
    )
    rows = store.search_audit(AuditQuery(task_in=(str(root.id), str(b.id)), limit=100))
    assert [r.task for r in rows] == [str(root.id), str(b.id)]
    assert [r.agent for r in rows] == [AgentName("planner"), AgentName("mailer")]
    assert len(store.search_audit(AuditQuery(limit=100))) == 4
