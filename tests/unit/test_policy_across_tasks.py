"""An engine made with ``across_tasks`` (``proctor replay``'s) shares outcomes between tasks that
differ only in what no policy can read, and never between tasks a policy can tell apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.test_policy import NOW, agent, starter_dir, tool

from proctor.policy.engine import PolicyEngine
from proctor.policy.loader import compile_policies, load_policy_dir
from proctor.store.base import TaskRecord
from proctor.types import AgentName, Email, TaskId, TaskState, Verdict

ARGS = {"path": "/data/a"}


def _task(
    letter: str,
    purpose: str = "read the report",
    requester: str = "r@acme.test",
    allow: tuple[str, ...] = ("*",),
) -> TaskRecord:
    return TaskRecord(
        TaskId("tsk_" + letter * 22),
        AgentName("bot"),
        purpose,
        allow,
        (),
        Email(requester),
        TaskState.ACTIVE,
        NOW - 1,
        NOW + 600,
        params=(("id", letter),),
    )


def test_tasks_no_policy_tells_apart_share_an_outcome(tmp_path: Path) -> None:
    ps = load_policy_dir(starter_dir(tmp_path))
    eng = PolicyEngine(ps, across_tasks=True)
    first = eng.decide(agent(), _task("A"), tool(), ARGS, NOW)
    # another id, purpose and parameters: no starter policy reads them
    other = eng.decide(agent(), _task("B", purpose="something else"), tool(), ARGS, NOW)
    assert first.verdict is other.verdict is Verdict.ALLOW
    assert not first.cached
    assert other.cached
    # what the scope check reads of the task is part of the key
    narrow = eng.decide(agent(), _task("C", allow=("db.*",)), tool(), ARGS, NOW)
    assert narrow.verdict is Verdict.DENY
    assert not narrow.cached
    # an engine without it keys on the task record
    plain = PolicyEngine(ps)
    plain.decide(agent(), _task("A"), tool(), ARGS, NOW)
    assert not plain.decide(agent(), _task("B"), tool(), ARGS, NOW).cached


@pytest.mark.parametrize(
    ("condition", "allowed", "denied"),
    [
        ('context.task.purpose like "*wire*"', _task("A"), _task("B", purpose="wire the money")),
        ('context.task.requested_by == "eve@evil.test"', _task("A"), _task("B", requester="eve@evil.test")),
        (f'context.task == Proctor::Task::"tsk_{"B" * 22}"', _task("A"), _task("B")),
        (f'context.task in Proctor::Task::"tsk_{"B" * 22}"', _task("A"), _task("B")),
    ],
    ids=["purpose", "requester", "task-literal", "task-in"],
)
def test_tasks_a_policy_tells_apart_never_share_one(
    tmp_path: Path, condition: str, allowed: TaskRecord, denied: TaskRecord
) -> None:
    d = starter_dir(tmp_path)
    files = {p.name: p.read_text() for p in d.glob("*.cedar")}
    files["60-task.cedar"] = f'@id("x.task")\nforbid(principal, action, resource) when {{ {condition} }};\n'
    eng = PolicyEngine(compile_policies(files, (d / "schema.cedarschema").read_text()), across_tasks=True)
    assert eng.decide(agent(), allowed, tool(), ARGS, NOW).verdict is Verdict.ALLOW
    got = eng.decide(agent(), denied, tool(), ARGS, NOW)
    assert got.verdict is Verdict.DENY
    assert got.policies == ("x.task",)
