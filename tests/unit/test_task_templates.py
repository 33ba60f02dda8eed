"""Task templates (docs/adr/0029): checked as `task start` checks its input, started only by the
agents they list, audited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.unit.conftest import Env

from proctor.app import Proctor
from proctor.clock import FrozenClock
from proctor.errors import Conflict, UnknownAgent, UnknownTemplate, ValidationError
from proctor.store.base import AuditQuery, TaskRecord
from proctor.tasks.templates import TaskTemplate, check_template_name
from proctor.types import AgentName, AgentStatus, TaskState


def add(env: Env, name: str = "pay-run", **kw: object) -> TaskTemplate:
    fields: dict[str, object] = {
        "agents": ["bot"],
        "purpose": "pay the approved invoices",
        "allow": ["payments.*", "fs.read"],
        "resources": ["acct-*"],
        "ttl_s": 300,
        "max_calls": 7,
        "requested_by": "lead@acme.test",
        "params": [("recipient", "ap@acme.example")],
    }
    fields.update(kw)
    return env.p.templates.add(name, **fields)  # type: ignore[arg-type]  # test helper


def audit_bodies(env: Env, kind: str) -> list[dict[str, object]]:
    env.p.audit.flush()
    return [json.loads(r.body) for r in env.p.store.search_audit(AuditQuery(kind=kind))]


def test_a_task_from_a_template_has_its_scope_and_is_audited_with_its_name(env: Env) -> None:
    """start_from_template copies purpose, tools, resources, budget, params and requester; the
    deadline is now + the template's ttl; task.started names the template."""
    add(env)
    started = env.p.tasks.start_from_template("pay-run", agent="bot", via="stdio")
    t = started.task
    assert (t.purpose, t.allow, t.resources, t.max_calls) == (
        "pay the approved invoices",
        ("payments.*", "fs.read"),
        ("acct-*",),
        7,
    )
    assert t.params == (("recipient", "ap@acme.example"),)
    assert str(t.requested_by) == "lead@acme.test"
    assert t.deadline == t.created_at + 300
    assert env.p.tasks.verify_token(started.token, env.agent) == t.id
    rec = [b for b in audit_bodies(env, "task.started") if b.get("template")]
    assert rec
    assert (rec[-1]["template"], rec[-1]["via"]) == ("pay-run", "stdio")
    assert audit_bodies(env, "template.added")[-1]["template"] == "pay-run"


def test_start_from_template_refusals(env: Env) -> None:
    """Unknown template, an agent not listed, a suspended listed agent, no requester anywhere."""
    env.p.agents.add("other", "owner@acme.test")
    add(env)
    with pytest.raises(UnknownTemplate):
        env.p.tasks.start_from_template("nope", agent="bot")
    with pytest.raises(ValidationError, match="may not start tasks from template `pay-run`"):
        env.p.tasks.start_from_template("pay-run", agent="other")
    add(env, "open", requested_by=None, agents=["bot", "other"])
    with pytest.raises(ValidationError, match="names no requester"):
        env.p.tasks.start_from_template("open", agent="other")
    t = env.p.tasks.start_from_template("open", agent="other", requested_by="me@acme.test").task
    assert str(t.requested_by) == "me@acme.test"
    # a template's requester is never overridden by the caller's
    t2 = env.p.tasks.start_from_template("pay-run", agent="bot", requested_by="me@acme.test").task
    assert str(t2.requested_by) == "lead@acme.test"
    env.p.agents.set_status("other", AgentStatus.SUSPENDED)
    with pytest.raises(ValidationError, match="suspended"):
        env.p.tasks.start_from_template("open", agent="other", requested_by="me@acme.test")


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"agents": []}, "at least one agent"),
        ({"purpose": "  "}, "purpose"),
        ({"allow": []}, "at least one tool"),
        ({"allow": ["bad pattern!"]}, "invalid tool pattern"),
        ({"resources": [""]}, "invalid resource pattern"),
        ({"ttl_s": 0}, "ttl"),
        ({"ttl_s": 10**9}, "ttl"),
        ({"max_calls": 0}, "max-calls"),
        ({"requested_by": "not-an-email"}, "email"),
        ({"params": [("1bad", "x")]}, "parameter name"),
    ],
)
def test_add_checks_its_input_as_task_start_does(env: Env, kw: dict[str, object], match: str) -> None:
    """Each bad field is refused with a ValidationError and nothing is stored."""
    with pytest.raises(ValidationError, match=match):
        add(env, "pay-run", **kw)
    assert env.p.templates.list() == []


def test_add_refuses_an_unknown_agent_and_a_duplicate_unless_replacing(env: Env) -> None:
    """An agent that does not exist is UnknownAgent; a second add of a name is a Conflict;
    --replace replaces it (audited as replaced)."""
    with pytest.raises(UnknownAgent):
        add(env, agents=["ghost"])
    add(env)
    with pytest.raises(Conflict):
        add(env, purpose="other")
    add(env, purpose="other", replace=True)
    assert env.p.templates.get("pay-run").purpose == "other"
    assert audit_bodies(env, "template.added")[-1]["replaced"] is True


@pytest.mark.parametrize("name", ["", "A", "-x", "x" * 64, "a b", "a/b", "ü", "x\n", None, 5])
def test_template_names_are_checked(name: object) -> None:
    """Uppercase, a leading `-`, more than 63 characters, spaces, slashes, non-ASCII, non-strings."""
    with pytest.raises(ValidationError, match="invalid template name"):
        check_template_name(name)


def test_remove_is_audited_and_running_tasks_keep_their_scope(env: Env) -> None:
    """Removing a template removes it (a second remove is UnknownTemplate); a task started from it
    stays active with its scope."""
    add(env)
    t = env.p.tasks.start_from_template("pay-run", agent="bot").task
    env.p.templates.remove("pay-run")
    with pytest.raises(UnknownTemplate):
        env.p.templates.remove("pay-run")
    with pytest.raises(UnknownTemplate):
        env.p.tasks.start_from_template("pay-run", agent="bot")
    assert env.p.tasks.get(str(t.id)).state is TaskState.ACTIVE
    removed = audit_bodies(env, "template.removed")[-1]
    assert (removed["template"], removed["by"]) == ("pay-run", "cli")


# relaunching is not a reset (docs/adr/0029, amendment 2026-12-05) -----------------------------------


def test_an_unattended_relaunch_starts_with_what_the_agents_recent_tasks_of_it_read(env: Env) -> None:
    """A stdio launch after another (ended or still running) of the same agent and template starts
    with their high-water mark: relaunching `proctor gateway --template` does not shed labels.
    Audited on task.started (`remembered`); a task of another template of the agent inherits
    them too (the agent read them, whichever template it was launched with); a start by a person
    (cli), or one remembered no more (past tasks.template_memory) starts clean."""
    from proctor.flow.model import Sensitivity, TaskLabels

    add(env, max_calls=None, ttl_s=7200)
    add(env, "other-run", max_calls=None)
    first = env.p.tasks.start_from_template("pay-run", agent="bot", via="stdio").task
    env.p.store.raise_task_labels(
        first.id,
        TaskLabels(read_untrusted=True, max_sensitivity=Sensitivity.SECRET, untrusted_sources=("web.fetch",)),
    )
    env.p.tasks.end(str(first.id), by="gateway", reason="stdio session ended")
    env.clock.advance(600)
    second = env.p.tasks.start_from_template("pay-run", agent="bot", via="stdio").task
    got = env.p.store.task_labels(second.id)
    assert (got.read_untrusted, got.max_sensitivity, got.untrusted_sources) == (
        True,
        Sensitivity.SECRET,
        ("web.fetch",),
    )
    assert second.template == "pay-run"
    rec = audit_bodies(env, "task.started")[-1]
    assert rec["remembered"]["tasks"] == [str(first.id)]  # type: ignore[index]
    assert rec["remembered"]["read_untrusted"] is True  # type: ignore[index]
    # what the policy sees of the new task (through the flow stage)
    assert env.p.flow.labels(second).read_untrusted
    # another template (red team: a relaunch under another template with the same tools shed
    # the labels) inherits them too; a person's start is clean
    other = env.p.tasks.start_from_template("other-run", agent="bot", via="stdio").task
    assert env.p.store.task_labels(other.id).read_untrusted
    env.p.tasks.end(str(other.id))
    assert not env.p.store.task_labels(
        env.p.tasks.start_from_template("pay-run", agent="bot", via="cli").task.id
    ).read_untrusted
    # the second is still running: a third launch inherits (through it) even once the first is old
    env.clock.advance(env.p.settings.task_template_memory_s + 1)
    third = env.p.tasks.start_from_template("pay-run", agent="bot", via="stdio").task
    assert env.p.store.task_labels(third.id).read_untrusted
    for t in (second, third):
        env.p.tasks.end(str(t.id))  # (the first's memory has lapsed; these two's has not)
    env.clock.advance(env.p.settings.task_template_memory_s + 1)
    fresh = env.p.tasks.start_from_template("pay-run", agent="bot", via="stdio").task
    assert not env.p.store.task_labels(fresh.id).read_untrusted


def test_an_unattended_relaunch_does_not_reset_the_templates_call_budget(env: Env) -> None:
    """The template's max_calls is the agent's budget over tasks.template_memory: a running task
    holds its whole budget, an ended one what it used; spent, a launch is refused
    (`template_budget_spent`, 429), and the refusal reaches the stdio refusal audit."""
    from proctor.errors import TemplateBudgetSpent

    add(env, max_calls=5)
    first = env.p.tasks.start_from_template("pay-run", agent="bot", via="stdio").task
    assert first.max_calls == 5
    with pytest.raises(TemplateBudgetSpent) as exc:  # the running one holds all 5
        env.p.tasks.start_from_template("pay-run", agent="bot", via="stdio")
    assert (exc.value.code, exc.value.http_status) == ("template_budget_spent", 429)
    for _ in range(3):
        assert env.p.store.consume_call(first.id)
    env.p.tasks.end(str(first.id), by="gateway", reason="stdio session ended")
    second = env.p.tasks.start_from_template("pay-run", agent="bot", via="stdio").task
    assert second.max_calls == 2  # 5 - the 3 the ended one used
    assert audit_bodies(env, "task.started")[-1]["max_calls"] == 2
    for _ in range(2):
        assert env.p.store.consume_call(second.id)
    assert not env.p.store.consume_call(second.id)
    env.p.tasks.end(str(second.id))
    with pytest.raises(TemplateBudgetSpent):
        env.p.tasks.start_from_template("pay-run", agent="bot", via="oauth")
    # a person may still start one (cli, api): that is `task start` by another name
    assert env.p.tasks.start_from_template("pay-run", agent="bot", via="cli").task.max_calls == 5
    env.clock.advance(env.p.settings.task_template_memory_s + 1)
    assert env.p.tasks.start_from_template("pay-run", agent="bot", via="stdio").task.max_calls == 5


def test_a_template_change_the_log_refuses_is_undone(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stored then audited, as every admin change; when the record cannot be written the change is
    undone: no template (which lets an agent start tasks) is added, replaced or removed without
    its record."""
    from proctor.errors import StoreUnavailable

    real = env.p.templates.audit.append

    def refuses(kind: str, *a: object, **kw: object) -> object:
        if kind.startswith("template."):
            raise StoreUnavailable("the log is down")
        return real(kind, *a, **kw)  # type: ignore[arg-type]  # passed through as given

    add(env)
    monkeypatch.setattr(env.p.templates.audit, "append", refuses)
    with pytest.raises(StoreUnavailable):
        add(env, "new-one")
    assert env.p.store.get_template("new-one") is None
    with pytest.raises(StoreUnavailable):
        add(env, purpose="something else entirely", replace=True)
    kept = env.p.store.get_template("pay-run")
    assert kept is not None
    assert kept.purpose == "pay the approved invoices"
    with pytest.raises(StoreUnavailable):
        env.p.templates.remove("pay-run")
    assert env.p.store.get_template("pay-run") == kept


def _race_two_launches(first: Proctor, other: Proctor, clock: FrozenClock) -> None:
    """``other`` starts its task between ``first``'s read of the remembered tasks and its start."""
    from proctor.errors import TemplateBudgetSpent

    first.templates.add(
        "pay-run",
        agents=["bot"],
        purpose="pay the approved invoices",
        allow=["payments.*"],
        ttl_s=300,
        max_calls=5,
        requested_by="lead@acme.test",
    )
    real = first.store.template_tasks
    raced: list[TaskRecord] = []

    def read_then_race(*a: Any, **kw: Any) -> list[TaskRecord]:
        got = real(*a, **kw)
        if not raced:
            raced.append(other.tasks.start_from_template("pay-run", agent="bot", via="oauth").task)
        return got

    first.store.template_tasks = read_then_race  # type: ignore[method-assign]
    with pytest.raises(TemplateBudgetSpent):
        first.tasks.start_from_template("pay-run", agent="bot", via="stdio")
    first.store.template_tasks = real  # type: ignore[method-assign]
    live = [
        t
        for t in first.store.template_tasks(AgentName("bot"), "pay-run", clock.now())
        if t.state is TaskState.ACTIVE
    ]
    assert [t.id for t in live] == [raced[0].id]
    assert sum(t.max_calls or 0 for t in live) <= 5
    first.audit.flush()
    ended = [json.loads(r.body) for r in first.store.search_audit(AuditQuery(kind="task.ended"))]
    assert ended[-1]["reason"] == "template budget taken by a concurrent launch"


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_two_processes_launching_at_once_do_not_both_get_the_templates_budget(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    """Red team (docs/adr/0029 amendment): the read of the remembered tasks and the start were
    serialised by a lock of this process only; the stdio daemon and the HTTP gateway (OAuth
    renewals), or two daemons, share the store. The other process starts its task between this
    one's read and its start: without a check once the task is stored, both held the whole budget."""
    from proctor.workspace import Workspace

    url = None if engine == "sqlite" else str(request.getfixturevalue("pg_migrated_url"))
    ws, _ = Workspace.init(
        tmp_path / "ws", config_text="trust_domain: acme.test\nstore: sqlite:///proctor.db\n"
    )
    clock = FrozenClock()
    first = Proctor.open(ws, clock=clock, store_url=url)
    other = Proctor.open(ws, clock=clock, store_url=url)
    try:
        first.agents.add("bot", "owner@acme.test")
        _race_two_launches(first, other, clock)
    finally:
        other.close()
        first.close()
