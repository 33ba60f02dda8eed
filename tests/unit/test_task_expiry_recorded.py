"""`task.expired` survives a sweeper that dies between the expiry and its record: the expiry is
claimed in the same UPDATE that expires the task, the claim is cleared once the record is durable,
and a later sweep records (late) what a dead sweeper left claimed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.unit.conftest import Env

from proctor.errors import StoreUnavailable
from proctor.store.base import AuditQuery
from proctor.tasks.service import EXPIRY_RECLAIM_S
from proctor.types import TaskState


def expired_records(env: Env) -> list[dict[str, Any]]:
    env.p.audit.flush()
    return [
        {**json.loads(r.body), "task": r.task}
        for r in env.p.store.search_audit(AuditQuery(kind="task.expired", limit=1000))
    ]


def test_an_expiry_whose_record_was_lost_is_recorded_by_a_later_sweep(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log fails just after the UPDATE (as a crash there would leave it): the task is
    expired with no record. A sweep within EXPIRY_RECLAIM_S leaves it to its (maybe live)
    claimant; a later one records it once, marked `recorded_late`; later sweeps add nothing."""
    task = env.task.task
    env.clock.advance(601)
    real = env.p.tasks._audit

    def dies(kind: str, fields: dict[str, Any], **index: str | None) -> None:
        if kind == "task.expired":
            raise StoreUnavailable("the log is down")
        real(kind, fields, **index)

    monkeypatch.setattr(env.p.tasks, "_audit", dies)
    with pytest.raises(StoreUnavailable):
        env.p.tasks.sweep()
    monkeypatch.setattr(env.p.tasks, "_audit", real)
    stored = env.p.store.get_task(task.id)
    assert stored is not None
    assert stored.state is TaskState.EXPIRED
    assert expired_records(env) == []
    env.p.tasks.sweep()
    assert expired_records(env) == []  # the claim is recent: its sweeper may still be writing
    env.clock.advance(EXPIRY_RECLAIM_S + 1)
    env.p.tasks.sweep()
    [rec] = expired_records(env)
    assert (rec["task"], rec["recorded_late"]) == (str(task.id), True)
    env.clock.advance(EXPIRY_RECLAIM_S + 1)
    env.p.tasks.sweep()
    assert len(expired_records(env)) == 1


def test_an_expiry_recorded_at_once_is_recorded_once(env: Env) -> None:
    """The ordinary path: one record, not late, and no later sweep repeats it."""
    env.clock.advance(601)
    assert [t.id for t in env.p.tasks.sweep()] == [env.task.task.id]
    env.clock.advance(EXPIRY_RECLAIM_S + 1)
    assert env.p.tasks.sweep() == []
    [rec] = expired_records(env)
    assert "recorded_late" not in rec
