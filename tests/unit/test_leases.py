"""Credential leases: issue, revoke (one, a task's, an agent's), expiry, retries, restart, CLI.

Every test runs on a real SQLite workspace with a :class:`FrozenClock`; the provider is a fake defined
here that can be made to fail a number of times or always.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any

import pytest
from tests.unit.conftest import Env
from typer.testing import CliRunner

from proctor.app import Proctor
from proctor.cli.main import app as cli
from proctor.credentials.leases import Lease, LeaseManager, RevocationSummary
from proctor.credentials.providers import Issued, IssueRequest, ProviderRegistry, RevocationUnrecoverable
from proctor.errors import (
    AgentSuspended,
    Conflict,
    LeaseIssueFailed,
    LeaseNotOwned,
    StoreError,
    StoreUnavailable,
    TaskNotActive,
    UnknownCredentialProvider,
)
from proctor.store.base import AuditQuery, TaskRecord
from proctor.types import AgentStatus, LeaseState, TaskState

SECRET = "SECRET-VALUE-never-logged"


class FakeProvider:
    """Issues ``SECRET-…`` tokens; ``fail_issue``/``fail_revoke`` fail that many calls (-1: always)."""

    def __init__(self, kind: str = "fake", *, ttl: float = 300.0, fail_issue: int = 0, fail_revoke: int = 0):
        self.kind = kind
        self.ttl = ttl
        self.fail_issue = fail_issue
        self.fail_revoke = fail_revoke
        self.unrecoverable = False
        self.issued: list[str] = []
        self.revoked: list[str] = []
        self.revoke_calls = 0
        self.requests: list[IssueRequest] = []

    def issue(self, req: IssueRequest) -> Issued:
        now = req.now
        self.requests.append(req)
        if self.fail_issue:
            self.fail_issue -= 1 if self.fail_issue > 0 else 0
            raise ConnectionError(f"provider down; password={SECRET}")
        cid = f"cred-{len(self.issued) + 1}"
        self.issued.append(cid)
        return Issued(
            data={"token": f"{SECRET}-{cid}"}, expires_at=now + self.ttl, revoke_handle={"cid": cid}
        )

    def revoke(self, handle: Mapping[str, Any]) -> None:
        self.revoke_calls += 1
        if self.unrecoverable:
            raise RevocationUnrecoverable("role is gone with its owner")
        if self.fail_revoke:
            self.fail_revoke -= 1 if self.fail_revoke > 0 else 0
            raise ConnectionError(f"provider down; password={SECRET}")
        self.revoked.append(str(handle["cid"]))


class FixedJitter(random.Random):
    """``random()`` always answers 0.5: every backoff is exactly 3/4 of its exponential step."""

    def random(self) -> float:
        return 0.5


@pytest.fixture
def fake(env: Env) -> FakeProvider:
    """A fake provider registered with the env's Proctor."""
    prov = FakeProvider()
    env.p.credentials.register_provider(prov)
    return prov


def issue(env: Env, task: TaskRecord | None = None, name: str = "db") -> tuple[Lease, dict[str, Any]]:
    return env.p.credentials.leases.issue(
        task or env.task.task, env.agent, "fake", {"name": name, "role": "reader"}
    )


def audit_bodies(p: Proctor) -> list[str]:
    p.audit.flush()
    return [r.body.decode() for r in p.store.iter_audit()]


def kinds(p: Proctor, prefix: str = "lease.") -> list[str]:
    p.audit.flush()
    return [r.kind for r in p.store.iter_audit() if r.kind.startswith(prefix)]


def second_task(env: Env, agent: str = "bot") -> TaskRecord:
    return env.p.tasks.start(
        agent=agent, purpose="other work", allow=["fs.*"], requested_by="req@acme.test", ttl_s=600
    ).task


# issue and revoke -----------------------------------------------------------------------------
def test_issue_then_revoke(env: Env, fake: FakeProvider) -> None:
    """An issued lease is active and hands back the data; revoking it calls the provider once and
    audits both steps by id, kind and name, never the value."""
    lease, data = issue(env)
    assert data == {"token": f"{SECRET}-cred-1"}
    assert lease.state is LeaseState.ACTIVE
    assert lease.id.startswith("lse_")
    assert lease.task_id == env.task.task.id
    assert lease.name == "db"
    assert lease.expires_at == env.clock.now() + 300
    assert lease.data_summary == {"spec_keys": ["name", "role"], "data_keys": ["token"]}
    assert env.p.credentials.leases.get(lease.id) == lease

    env.clock.advance(5)
    done = env.p.credentials.leases.revoke(lease.id, "done with it")
    assert done.state is LeaseState.REVOKED
    assert done.revoked_at == env.clock.now()
    assert not done.pending
    assert done.attempts == 1
    assert fake.revoked == ["cred-1"]
    assert env.p.credentials.leases.revoke(lease.id).state is LeaseState.REVOKED  # idempotent
    assert fake.revoke_calls == 1
    assert kinds(env.p) == ["lease.issued", "lease.ended", "lease.revoked"]
    assert not any(SECRET in b for b in audit_bodies(env.p))


def test_ending_a_task_revokes_all_its_leases_at_once(
    env: Env, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """end_task marks every lease of the task in one store call, then revokes each at the provider;
    another task's lease is untouched."""
    mine = [issue(env, name=f"c{i}")[0] for i in range(3)]
    other, _ = issue(env, second_task(env), name="other")
    calls: list[int] = []
    real = env.p.store.mark_leases

    def spy(*a: Any, **kw: Any) -> list[Lease]:
        out = real(*a, **kw)
        calls.append(len(out))
        return out

    monkeypatch.setattr(env.p.store, "mark_leases", spy)
    env.p.tasks.end(env.task.task.id)
    assert calls == [3]
    assert sorted(fake.revoked) == ["cred-1", "cred-2", "cred-3"]
    for x in mine:
        got = env.p.credentials.leases.get(x.id)
        assert got.state is LeaseState.REVOKED
        assert not got.pending
    assert env.p.credentials.leases.get(other.id).state is LeaseState.ACTIVE


def test_suspending_the_agent_revokes_every_lease_of_every_task(env: Env, fake: FakeProvider) -> None:
    """The kill switch: suspending an agent revokes the leases of all its tasks, and no other agent's."""
    t2 = second_task(env)
    a = issue(env)[0]
    b = issue(env, t2)[0]
    env.p.agents.add("helper", "owner@acme.test")
    helper = env.p.agents.get("helper")
    ht = second_task(env, "helper")
    c, _ = env.p.credentials.leases.issue(ht, helper, "fake", {"name": "h"})
    env.p.agents.set_status("bot", AgentStatus.SUSPENDED, reason="compromised")
    assert {env.p.credentials.leases.get(x.id).state for x in (a, b)} == {LeaseState.REVOKED}
    assert sorted(fake.revoked) == ["cred-1", "cred-2"]
    assert env.p.credentials.leases.get(c.id).state is LeaseState.ACTIVE


# failures -------------------------------------------------------------------------------------
def test_provider_down_at_issue_is_denied_audited_and_stores_nothing(env: Env, fake: FakeProvider) -> None:
    """A provider failure at issue raises lease_issue_failed, is audited without the provider's words,
    and leaves no lease behind."""
    fake.fail_issue = -1
    with pytest.raises(LeaseIssueFailed) as exc:
        issue(env)
    assert exc.value.code == "lease_issue_failed"
    assert SECRET not in exc.value.message
    assert env.p.store.list_leases() == []
    env.p.audit.flush()
    rows = env.p.store.search_audit(AuditQuery(kind="lease.issue_failed"))
    assert len(rows) == 1
    body = json.loads(rows[0].body)
    assert body["error"] == "ConnectionError"
    assert body["task"] == env.task.task.id
    assert not any(SECRET in b for b in audit_bodies(env.p))


def test_unknown_provider_kind_is_refused(env: Env) -> None:
    """Issuing a kind nobody registered is refused before anything happens."""
    with pytest.raises(UnknownCredentialProvider):
        env.p.credentials.leases.issue(env.task.task, env.agent, "nope", {})
    assert env.p.store.list_leases() == []


def test_provider_down_at_revoke_retries_with_backoff_then_goes_irrevocable(env: Env) -> None:
    """A provider that never answers is retried on an exponential schedule with jitter, six tries in
    all, then the lease is irrevocable, listed by list(irrevocable=True) and `lease list --irrevocable`."""
    prov = FakeProvider(fail_revoke=-1)
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        env.clock.advance(s)

    mgr = LeaseManager(
        env.p.store, ProviderRegistry([prov]), env.clock, env.p.audit, jitter=FixedJitter(), sleep=sleep
    )
    lease, _ = mgr.issue(env.task.task, env.agent, "fake", {"name": "db"})
    t0 = env.clock.now()
    summary = mgr.revoke_task(env.task.task.id)
    assert summary == RevocationSummary(ended=(lease.id,), pending=(lease.id,))
    first = mgr.get(lease.id)
    assert first.state is LeaseState.REVOKED
    assert first.pending
    assert first.attempts == 1
    assert first.next_attempt_at == t0 + 0.375
    assert first.last_error == "ConnectionError"

    assert mgr.retry_pending() == RevocationSummary()  # not due yet: nothing tried
    assert prov.revoke_calls == 1

    result = mgr.drain(timeout_s=120)
    assert slept == [0.375, 0.75, 1.5, 3.0, 6.0]  # base 0.5 doubling, x(0.5 + 0.5*0.5)
    assert result.irrevocable == (lease.id,)
    assert prov.revoke_calls == 6
    gone = mgr.get(lease.id)
    assert gone.state is LeaseState.IRREVOCABLE
    assert not gone.pending
    assert gone.attempts == 6
    assert mgr.list(irrevocable=True) == [gone]
    assert mgr.list(state=LeaseState.ACTIVE) == []
    assert kinds(env.p).count("lease.revoke_failed") == 5
    assert kinds(env.p)[-1] == "lease.irrevocable"
    assert not any(SECRET in b for b in audit_bodies(env.p))

    env.p.audit.flush()
    res = CliRunner().invoke(cli, ["lease", "list", "--irrevocable", "--json", "-w", str(env.ws.root)])
    assert res.exit_code == 0, res.output
    assert [x["id"] for x in json.loads(res.output)] == [lease.id]
    assert json.loads(res.output)[0]["state"] == "irrevocable"


def test_retry_succeeds_once_the_provider_is_back(env: Env, fake: FakeProvider) -> None:
    """Two failures, then success: the lease ends revoked (not irrevocable) after 3 attempts."""
    fake.fail_revoke = 2
    lease, _ = issue(env)
    env.p.tasks.end(env.task.task.id)
    assert env.p.credentials.leases.get(lease.id).pending
    for _ in range(5):
        env.clock.advance(5)
        env.p.tasks.sweep()
    got = env.p.credentials.leases.get(lease.id)
    assert got.state is LeaseState.REVOKED
    assert not got.pending
    assert got.attempts == 3
    assert fake.revoked == ["cred-1"]


def test_unrecoverable_revocation_is_irrevocable_at_once(env: Env, fake: FakeProvider) -> None:
    """A provider that says retrying cannot help makes the lease irrevocable on the first attempt."""
    fake.unrecoverable = True
    lease, _ = issue(env)
    summary = env.p.credentials.leases.revoke_task(env.task.task.id)
    assert summary.irrevocable == (lease.id,)
    assert env.p.credentials.leases.get(lease.id).last_error == "revocation_unrecoverable"


def test_a_failing_revocation_never_stops_the_task_from_ending(
    env: Env, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even when the lease store call fails, end_task completes; the next sweep revokes the orphan."""
    lease, _ = issue(env)

    def broken(*a: Any, **kw: Any) -> Any:
        raise StoreError("database error: disk I/O")

    monkeypatch.setattr(env.p.credentials.leases, "revoke_task", broken)
    ended = env.p.tasks.end(env.task.task.id)
    assert ended.state is TaskState.COMPLETED
    assert env.p.credentials.leases.get(lease.id).state is LeaseState.ACTIVE
    monkeypatch.undo()
    env.p.tasks.sweep()
    assert env.p.credentials.leases.get(lease.id).state is LeaseState.REVOKED
    assert fake.revoked == ["cred-1"]


# time -----------------------------------------------------------------------------------------
def test_leases_survive_a_restart_and_expire_if_due_while_down(env: Env) -> None:
    """A new Proctor on the same workspace sees the leases; one whose time ran out while it was down is
    expired at start-up, and revoked at the provider once a process with the provider sweeps."""
    prov = FakeProvider(ttl=300)
    env.p.credentials.register_provider(prov)
    short, _ = issue(env, name="short")
    prov.ttl = 10_000
    long, _ = issue(env, name="long")
    env.p.close()

    env.clock.advance(400)  # "down" past the short lease's expiry, not the task's deadline (600)
    p2 = Proctor.open(env.ws, clock=env.clock)
    try:
        s = p2.credentials.leases.get(short.id)
        assert s.state is LeaseState.EXPIRED
        assert s.revoked_at == env.clock.now()
        assert s.pending  # no provider in this process yet
        assert s.attempts == 0
        assert p2.credentials.leases.get(long.id) == long
        p2.credentials.register_provider(prov)
        p2.tasks.sweep()
        assert not p2.credentials.leases.get(short.id).pending
        assert prov.revoked == ["cred-1"]
        assert p2.credentials.leases.get(long.id).state is LeaseState.ACTIVE
    finally:
        p2.close()
        env.p = Proctor.open(env.ws, clock=env.clock)  # the fixture closes it


def test_expiry_is_clamped_to_the_task_deadline(env: Env, fake: FakeProvider) -> None:
    """Clock skew: a provider expiry beyond the task's deadline is cut to the deadline; one already
    past is refused and revoked at the provider."""
    fake.ttl = 1_000_000
    lease, _ = issue(env)
    assert lease.expires_at == env.task.task.deadline
    env.p.audit.flush()
    body = json.loads(env.p.store.search_audit(AuditQuery(kind="lease.issued"))[0].body)
    assert body["clamped_to_deadline"] is True

    fake.ttl = -30
    with pytest.raises(LeaseIssueFailed):
        issue(env)
    assert fake.revoked == ["cred-2"]
    assert [x.id for x in env.p.store.list_leases()] == [lease.id]


def test_issue_is_refused_for_an_ended_or_overdue_task(env: Env, fake: FakeProvider) -> None:
    """No credential for a task that ended or whose deadline passed (even before any sweep)."""
    t2 = second_task(env)
    env.p.tasks.end(env.task.task.id)
    with pytest.raises(TaskNotActive):
        issue(env)
    env.clock.advance(601)
    with pytest.raises(TaskNotActive):
        issue(env, t2)
    assert fake.issued == []
    assert env.p.store.list_leases() == []


def test_a_deadline_that_passes_while_the_provider_works_ends_the_credential(env: Env) -> None:
    """The expiry check used the time from before the provider call: a task whose deadline
    passed while a slow provider worked still got its credential handed back."""

    class Slow(FakeProvider):
        def issue(self, req: IssueRequest) -> Issued:
            env.clock.advance(601)  # the task's deadline passes during the provider's work
            return super().issue(req)

    slow = Slow("slow")
    env.p.credentials.register_provider(slow)
    with pytest.raises(LeaseIssueFailed, match="already expired"):
        env.p.credentials.leases.issue(env.task.task, env.agent, "slow", {"name": "db", "role": "reader"})
    assert slow.revoked == slow.issued == ["cred-1"]  # what the provider made is revoked, not leaked
    assert env.p.store.list_leases() == []


def test_sweep_expires_leases_past_their_expiry(env: Env, fake: FakeProvider) -> None:
    """Tasks.sweep expires a lease at its expiry even though its task is still live."""
    lease, _ = issue(env)
    env.clock.advance(299)
    env.p.tasks.sweep()
    assert env.p.credentials.leases.get(lease.id).state is LeaseState.ACTIVE
    env.clock.advance(1)
    env.p.tasks.sweep()
    assert env.p.credentials.leases.get(lease.id).state is LeaseState.EXPIRED
    assert fake.revoked == ["cred-1"]


# ownership and use ----------------------------------------------------------------------------
def test_a_lease_of_another_task_is_refused(env: Env, fake: FakeProvider) -> None:
    """Presenting a lease id with a task that does not hold it fails with lease_not_owned."""
    lease, _ = issue(env)
    other = second_task(env)
    with pytest.raises(LeaseNotOwned) as exc:
        env.p.credentials.leases.get(lease.id, task_id=other.id)
    assert exc.value.code == "lease_not_owned"
    with pytest.raises(LeaseNotOwned):
        env.p.credentials.leases.revoke(lease.id, task_id=other.id)
    assert env.p.credentials.leases.get(lease.id, task_id=env.task.task.id).state is LeaseState.ACTIVE


def test_registering_a_kind_twice_is_refused(env: Env, fake: FakeProvider) -> None:
    """One provider per kind unless replaced explicitly."""
    with pytest.raises(Conflict):
        env.p.credentials.register_provider(FakeProvider())
    env.p.credentials.register_provider(FakeProvider(), replace=True)


# CLI ------------------------------------------------------------------------------------------
def test_cli_lease_list_show_and_revoke(env: Env, fake: FakeProvider) -> None:
    """`proctor lease list/show/revoke` work on the workspace; the CLI process has no provider, so
    the revocation stays pending for the server, which completes it."""
    lease, _ = issue(env)
    env.p.audit.flush()
    root = str(env.ws.root)
    runner = CliRunner()
    res = runner.invoke(cli, ["lease", "list", "--task", env.task.task.id, "--json", "-w", root])
    assert res.exit_code == 0, res.output
    assert [x["id"] for x in json.loads(res.output)] == [lease.id]
    res = runner.invoke(cli, ["lease", "show", lease.id, "-w", root])
    assert res.exit_code == 0, res.output
    shown = json.loads(res.output)
    assert shown["name"] == "db"
    assert SECRET not in res.output
    res = runner.invoke(cli, ["lease", "revoke", lease.id, "--reason", "test", "-w", root])
    assert res.exit_code == 0, res.output
    # the CLI runs on the real clock, which may already be past this frozen test's expiry
    assert res.output.strip().endswith(
        ("revoked (provider revocation pending)", "expired (provider revocation pending)")
    )
    assert env.p.credentials.leases.get(lease.id).state in (LeaseState.REVOKED, LeaseState.EXPIRED)
    due = env.p.credentials.leases.get(lease.id).next_attempt_at
    assert due is not None
    env.clock.set(max(due, env.clock.now()))  # the CLI stamped it with the real clock
    env.p.tasks.sweep()
    assert fake.revoked == ["cred-1"]
    res = runner.invoke(cli, ["lease", "list", "--state", "bogus", "-w", root])
    assert res.exit_code == 2


def test_provider_gets_lease_id_and_task_effects(env: Env, fake: FakeProvider) -> None:
    """The provider learns the id the lease will have and the effects of the tools the task
    declared (what a database role may be granted), nothing wider."""
    lease, _ = issue(env)
    req = fake.requests[-1]
    assert req.lease_id == lease.id
    assert req.task.id == env.task.task.id
    # the task allows fs.*, payments.*, db.*: fs.read, fs.write, payments.transfer, db.drop (not prod.deploy)
    assert req.effects == frozenset({"read", "write", "pay"})


@pytest.mark.parametrize("race", ["suspend", "end"])
def test_kill_switch_during_issue_leaves_no_active_lease(env: Env, race: str) -> None:
    """The agent is suspended (or the task ends) while the provider is issuing: the lease is not
    stored, the provider's credential is revoked at once, and the failure is audited."""

    class Racing(FakeProvider):
        def issue(self, req: IssueRequest) -> Issued:
            out = super().issue(req)
            if race == "suspend":
                env.p.agents.set_status("bot", AgentStatus.SUSPENDED, reason="kill switch")
            else:
                env.p.tasks.end(str(req.task.id))
            return out

    prov = Racing()
    env.p.credentials.register_provider(prov)
    with pytest.raises((AgentSuspended, TaskNotActive)):
        issue(env)
    assert env.p.credentials.leases.list() == []
    assert prov.revoked == ["cred-1"]
    assert kinds(env.p) == ["lease.issue_failed"]


def test_only_leases_whose_loss_fails_closed_skip_the_fsync(
    env: Env, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider that does not declare `loss_fails_closed` (a database role would outlive a lost
    lease) gets a durable lease row and a durable `lease.issued` record before its data is handed
    out; the injected-secret provider (nothing usable is left if its lease is lost) does not wait."""
    seen: list[bool] = []
    real = env.p.store.add_lease

    def spy(lease: Lease, *, durable: bool = True) -> None:
        seen.append(durable)
        real(lease, durable=durable)

    monkeypatch.setattr(env.p.store, "add_lease", spy)
    issue(env)
    env.p.credentials.secrets.put("api.key", "a-value-for-injection", env.clock.now())
    env.p.credentials.leases.issue(env.task.task, env.agent, "injected", {"name": "api", "secret": "api.key"})
    assert seen == [True, False]
    assert getattr(fake, "loss_fails_closed", False) is False


def test_an_irrevocable_lease_keeps_being_retried_until_its_provider_is_back(
    env: Env, fake: FakeProvider
) -> None:
    """Issue 12.3: a lease given up on after the retries (its database down at task end) is not
    forgotten: the sweeper of any Proctor process retries it on a slower schedule (one log line
    per attempt, no audit record per failure), and once the provider answers it ends `revoked`,
    audited with `after_irrevocable`."""
    fake.fail_revoke = -1
    lease, _ = issue(env)
    env.p.tasks.end(env.task.task.id)
    for _ in range(12):  # past the six fast tries: irrevocable
        env.clock.advance(40)
        env.p.tasks.sweep()
    gone = env.p.credentials.leases.get(lease.id)
    assert gone.state is LeaseState.IRREVOCABLE
    assert gone.next_attempt_at is not None  # still scheduled
    tried = fake.revoke_calls
    assert tried > 6
    assert kinds(env.p).count("lease.irrevocable") == 1
    fake.fail_revoke = 0  # the database is back
    env.clock.advance(600)
    env.p.tasks.sweep()
    back = env.p.credentials.leases.get(lease.id)
    assert back.state is LeaseState.REVOKED
    assert back.next_attempt_at is None
    assert fake.revoked == ["cred-1"]
    assert any('"after_irrevocable":true' in b for b in audit_bodies(env.p))


def test_lease_revoke_retries_an_irrevocable_lease_for_real(env: Env, fake: FakeProvider) -> None:
    """`proctor lease revoke` on a lease given up for good (the provider said retrying cannot help)
    calls the provider again and says what happened."""
    fake.unrecoverable = True
    lease, _ = issue(env)
    env.p.credentials.leases.revoke_task(env.task.task.id)
    gone = env.p.credentials.leases.get(lease.id)
    assert gone.state is LeaseState.IRREVOCABLE
    assert gone.next_attempt_at is None  # given up for good
    calls = fake.revoke_calls
    still = env.p.credentials.leases.revoke(lease.id, "try again")
    assert fake.revoke_calls == calls + 1
    assert still.state is LeaseState.IRREVOCABLE
    fake.unrecoverable = False
    done = env.p.credentials.leases.revoke(lease.id, "try again")
    assert done.state is LeaseState.REVOKED
    assert fake.revoked == ["cred-1"]


class RenewingProvider(FakeProvider):
    """A fake whose credentials can be renewed; ``fail_renew`` makes renewals fail."""

    def __init__(self) -> None:
        super().__init__(ttl=300.0)
        self.renewed: list[float] = []
        self.fail_renew = False

    def renew(self, handle: Mapping[str, Any], until: float) -> None:
        if self.fail_renew:
            raise ConnectionError("provider down")
        self.renewed.append(until)


def test_a_lease_is_renewed_while_its_task_lives_and_never_past_it(env: Env) -> None:
    """Issue 12.3: a renewable lease is renewed by the sweep in the last third of its life, up to its
    task's deadline and never past it; a lease whose task ended, or whose provider is down, is not."""
    prov = RenewingProvider()
    env.p.credentials.register_provider(prov, replace=True)
    lease, _ = env.p.credentials.leases.issue(env.task.task, env.agent, "fake", {"name": "db"})
    t0 = env.clock.now()
    assert lease.expires_at == t0 + 300
    env.clock.advance(150)
    env.p.tasks.sweep()
    assert prov.renewed == []  # two thirds left: not due
    env.clock.advance(60)
    env.p.tasks.sweep()
    assert prov.renewed == [min(t0 + 210 + 300, env.task.task.deadline)]
    assert env.p.credentials.leases.get(lease.id).expires_at == prov.renewed[-1]
    prov.fail_renew = True
    before = env.p.credentials.leases.get(lease.id).expires_at
    env.clock.advance(before - env.clock.now() - 10)
    env.p.tasks.sweep()
    assert env.p.credentials.leases.get(lease.id).expires_at == before  # not renewed: it ends at its own time
    env.clock.advance(20)
    env.p.tasks.sweep()
    assert env.p.credentials.leases.get(lease.id).state is LeaseState.EXPIRED


def test_an_end_whose_records_could_not_be_written_is_recorded_late(
    env: Env, fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lease is ended in the store and revoked at its provider, then its `lease.ended` and
    `lease.revoked` cannot be written (the audit store refuses the write): the caller hears the
    error, and the records are carried and written, marked `recorded_late`, by the next sweep."""
    lease, _ = issue(env)
    env.p.audit.flush()

    def refused(*_a: object, **_k: object) -> object:
        raise StoreUnavailable("injected: the audit store refuses writes")

    with monkeypatch.context() as m:
        m.setattr(env.p.store, "append_audit", refused)
        with pytest.raises(StoreUnavailable):
            env.p.credentials.leases.revoke_task(env.task.task.id, "task ended")
    assert env.p.credentials.leases.get(lease.id).state is LeaseState.REVOKED
    assert kinds(env.p) == ["lease.issued"]
    assert env.p.credentials.leases.sweep() == RevocationSummary()  # nothing due: the carry is written
    assert kinds(env.p) == ["lease.issued", "lease.ended", "lease.revoked"]
    env.p.audit.flush()
    late = [
        json.loads(r.body) for r in env.p.store.iter_audit() if r.kind in ("lease.ended", "lease.revoked")
    ]
    assert all(r["recorded_late"] is True for r in late)
    assert late[0]["leases"][0]["lease_id"] == str(lease.id)
    env.p.credentials.leases.sweep()
    assert kinds(env.p) == ["lease.issued", "lease.ended", "lease.revoked"]  # written once
