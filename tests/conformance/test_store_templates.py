"""Task templates in the store (docs/adr/0029): same behaviour on SQLite and PostgreSQL (the
conformance suite's fixtures: a fresh, migrated store on each engine)."""

# ruff: noqa: F811 - the imported fixtures `backend` and `store` are the tests' parameters
from __future__ import annotations

from dataclasses import replace

import pytest
from tests.conformance.test_store_conformance import T0, Backend, agent, backend, store, task  # noqa: F401

from proctor.errors import UnknownAgent
from proctor.store._sql import SqlStore
from proctor.store.base import TaskTemplate
from proctor.types import AgentName, TaskState


def template(name: str = "triage", **kw: object) -> TaskTemplate:
    fields: dict[str, object] = {
        "name": name,
        "purpose": "triage the support inbox",
        "allow": ("mail.read", "tickets.*"),
        "resources": ("inbox/*",),
        "ttl_s": 3600.0,
        "max_calls": 50,
        "requested_by": "lead@example.com",
        "agents": ("support-bot", "helper"),
        "params": (("queue", "eu"), ("team", "support")),
        "created_at": T0,
        "created_by": "cli",
    }
    fields.update(kw)
    return TaskTemplate(**fields)  # type: ignore[arg-type]  # test helper: fields checked by the record


def test_templates_round_trip_list_by_name_and_case_sensitive(store: SqlStore) -> None:
    """Every field comes back as stored (optional ones as None); the list is ordered by name;
    names are compared exactly on both engines."""
    a = template("triage")
    b = template("backup.nightly", max_calls=None, requested_by=None, resources=(), params=())
    store.put_template(a)
    store.put_template(b)
    assert store.get_template("triage") == a
    assert store.get_template("backup.nightly") == b
    assert store.get_template("Triage") is None
    assert store.get_template("nope") is None
    assert store.list_templates() == [b, a]


def test_put_template_replaces_one_of_the_same_name(store: SqlStore) -> None:
    """A second put of one name replaces every field of the first (one row, not two)."""
    store.put_template(template())
    newer = template(purpose="triage, narrower", allow=("mail.read",), agents=("helper",), ttl_s=60.0)
    store.put_template(newer)
    assert store.get_template("triage") == newer
    assert store.list_templates() == [newer]


def test_delete_template_says_whether_it_removed_one(store: SqlStore) -> None:
    """delete_template is True once, then False; other templates stay."""
    store.put_template(template())
    store.put_template(template("other"))
    assert store.delete_template("triage") is True
    assert store.delete_template("triage") is False
    assert store.get_template("triage") is None
    assert [t.name for t in store.list_templates()] == ["other"]


def test_template_with_unicode_and_long_purpose_survives(store: SqlStore) -> None:
    """Text fields keep non-ASCII characters and their full length."""
    t = template(purpose="Prüfe die Rechnungen — " + "x" * 1900, params=(("note", "naïve ✓"),))
    store.put_template(t)
    assert store.get_template("triage") == t
    assert replace(t) == store.list_templates()[0]


def test_set_agent_selectors_replaces_them_and_bumps_the_version(store: SqlStore) -> None:
    """set_agent_selectors replaces the selectors (empty allowed), bumps the agent's version and
    the store epoch; an unknown agent is UnknownAgent."""
    store.add_agent(agent("bot"))
    epoch = store.epoch()
    rec = store.set_agent_selectors(AgentName("bot"), ("unix:uid:4242",), T0 + 1)
    assert rec.selectors == ("unix:uid:4242",)
    assert (rec.version, rec.updated_at) == (2, T0 + 1)
    assert store.get_agent(AgentName("bot")) == rec
    assert store.epoch() > epoch
    assert store.set_agent_selectors(AgentName("bot"), (), T0 + 2).selectors == ()
    with pytest.raises(UnknownAgent):
        store.set_agent_selectors(AgentName("ghost"), (), T0)


def test_template_tasks_are_the_agents_live_and_recently_ended_ones_of_that_template(store: SqlStore) -> None:
    """A task keeps the template it was started from; template_tasks finds the agent's tasks of
    that template still active or ended since the given time (docs/adr/0029, amendment 2026-12-05)."""
    store.add_agent(agent("bot"))
    store.add_agent(agent("other"))
    live = replace(task("bot"), template="triage")
    old = replace(task("bot", created_at=T0 - 10), template="triage")
    recent = replace(task("bot", created_at=T0 - 5), template="triage")
    for t in (
        live,
        old,
        recent,
        replace(task("bot"), template="Triage"),
        replace(task("other"), template="triage"),
    ):
        store.add_task(t)
    store.add_task(task("bot"))  # no template
    store.end_task(old.id, TaskState.COMPLETED, T0 - 9, "done")
    store.end_task(recent.id, TaskState.CANCELLED, T0 - 1, "done")
    got = store.template_tasks(AgentName("bot"), "triage", T0 - 2)
    assert [t.id for t in got] == [recent.id, live.id]
    assert {t.template for t in got} == {"triage"}
    # None: of any template (not a task with none, not another agent's)
    anyt = store.template_tasks(AgentName("bot"), None, T0 - 2)
    assert sorted(t.template or "" for t in anyt) == ["Triage", "triage", "triage"]
    assert recent.id in {t.id for t in anyt}
    assert old.id not in {t.id for t in anyt}
    assert store.get_task(live.id) == live
    ended = store.get_task(old.id)
    assert ended is not None
    assert ended.template == "triage"
