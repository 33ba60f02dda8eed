"""Lazy policy loading in `Proctor` and what a refused set leaves behind (unit level; the CLI and
server are tested as processes in tests/e2e/test_cli_policy.py)."""

from __future__ import annotations

import pytest
from tests.unit.conftest import Env

from proctor.app import Proctor
from proctor.errors import PolicyLoadError
from proctor.pipeline import CallInput
from proctor.policy.loader import compile_policies, policy_errors, read_policy_dir
from proctor.store.base import AuditQuery
from proctor.types import AgentStatus, TaskState

BAD = "\n\npermit(principal, action, resource) when { principal.nope };\n"


def test_a_lazy_proctor_stops_agents_and_ends_tasks_without_a_valid_set(env: Env) -> None:
    (env.ws.policies_dir / "77-bad.cedar").write_text(BAD)
    with pytest.raises(PolicyLoadError):
        Proctor.open(env.ws, clock=env.clock)  # eager: whatever serves refuses to start
    with Proctor.open(env.ws, clock=env.clock, lazy_policies=True) as p:
        p.agents.set_status("bot", AgentStatus.SUSPENDED, reason="incident")
        assert p.tasks.end(env.task.task.id).state is TaskState.COMPLETED
        with pytest.raises(PolicyLoadError, match=r"77-bad\.cedar:3"):
            p.decide(CallInput(tool="fs.read", args={"path": "/data/a"}, agent="bot", task=env.task.task.id))
        with pytest.raises(PolicyLoadError, match=r"77-bad\.cedar:3"):
            _ = p.policies.engine
        p.audit.flush()
        assert not p.store.search_audit(AuditQuery(kind="decision"))  # nothing decided, nothing allowed


def test_a_refused_reload_is_reported_with_its_errors_until_undone(env: Env) -> None:
    p = env.p
    before = p.policies.engine.version
    assert p.policies.health() == {"active_version": before, "rejected": None}
    bad = env.ws.policies_dir / "77-bad.cedar"
    bad.write_text(BAD)
    with pytest.raises(PolicyLoadError):
        p.policies.reload()
    health = p.policies.health()
    assert health["active_version"] == before
    errors = health["rejected"]["errors"]
    assert [(e["file"], e["line"]) for e in errors] == [("77-bad.cedar", 3)]
    p.audit.flush()
    (row,) = p.store.search_audit(AuditQuery(kind="policy.rejected"))
    assert b"77-bad.cedar" in row.body
    bad.unlink()
    assert not p.policies.reload()  # the files are the active set again
    assert p.policies.health()["rejected"] is None


def test_every_load_error_names_file_and_line_as_structured_errors(env: Env) -> None:
    files, schema = read_policy_dir(env.ws.policies_dir)
    for text, line in (
        ("permit(principal, action resource);", 1),  # parse error
        ("\npermit(principal, action, resource) when { principal.nope };", 2),  # validation error
        ('\n\n@id("baseline.read")\npermit(principal, action, resource);', 3),  # duplicate id
        ('permit(principal, action, resource) when { "' + "a" * 17000 + '" == "b" };', 1),  # too long
    ):
        with pytest.raises(PolicyLoadError) as info:
            compile_policies({**files, "z.cedar": text}, schema)
        (err,) = policy_errors(info.value)
        assert (err["file"], err["line"]) == ("z.cedar", line), (text[:40], err)
        assert err["message"]
        assert not err["message"].startswith("z.cedar")
        assert info.value.message.startswith(f"z.cedar:{line}: ")
