"""Task templates (docs/adr/0029): checked as `task start` checks its input, started only by the
agents they list, audited."""

from __future__ import annotations

import json

import pytest
from tests.unit.conftest import Env

from proctor.errors import Conflict, UnknownAgent, UnknownTemplate, ValidationError
from proctor.store.base import AuditQuery
from proctor.tasks.templates import TaskTemplate, check_template_name
from proctor.types import AgentStatus, TaskState


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
