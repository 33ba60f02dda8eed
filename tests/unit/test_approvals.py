"""Approvals end to end through the pipeline on a real workspace (SQLite store, keys, starter
policies): a held call files a request bound to the exact call; a person's approval yields a signed
single-use grant that runs that call once; everything else — another argument, another task, a new
policy version, a second use, an expired, forged or foreign grant, the wrong person — is refused
and audited."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest
from tests.unit.conftest import CONFIG, Env

from proctor.approvals.model import ApprovalState, Approver, Narrowing
from proctor.errors import ApprovalNotPending, ApproverNotAllowed, StoreUnavailable, ValidationError
from proctor.pipeline import CallInput
from proctor.store.base import AuditQuery
from proctor.testing import temporary_workspace
from proctor.types import Email, Verdict

OWNER = Approver(Email("owner@acme.test"))
REQUESTER = Approver(Email("req@acme.test"))
STRANGER = Approver(Email("eve@acme.test"), frozenset({"ops"}))


def pay(env: Env, amount: int = 100, account: str = "acct-1", **kw: object) -> CallInput:
    base: dict[str, object] = {"svid": env.svid, "task_token": env.task.token}
    base.update(kw)
    return CallInput(tool="payments.transfer", args={"account": account, "amount": amount}, **base)  # type: ignore[arg-type]


def records(env: Env, kind: str) -> list[dict[str, object]]:
    env.p.audit.flush()
    return [json.loads(r.body) for r in env.p.store.search_audit(AuditQuery(kind=kind, limit=1000))]


def held(env: Env, c: CallInput) -> str:
    d = env.p.decide(c)
    assert d.verdict is Verdict.APPROVAL_REQUIRED, d
    assert d.approval_id is not None
    return d.approval_id


def test_a_held_call_runs_once_after_approval_and_never_again(env: Env) -> None:
    aid = held(env, pay(env))
    req = env.p.approvals.get(aid)
    assert req.state is ApprovalState.PENDING
    assert req.approvers == ("owner",)
    assert req.requester == "req@acme.test"
    assert req.owner == "owner@acme.test"
    env.p.approvals.approve(aid, OWNER, "known supplier")
    d = env.p.decide(pay(env))
    assert d.verdict is Verdict.ALLOW
    assert d.approval_id == aid
    assert env.p.approvals.get(aid).state is ApprovalState.USED
    # replaying the identical call: the grant is spent, a new request is filed
    again = env.p.decide(pay(env))
    assert again.verdict is Verdict.APPROVAL_REQUIRED
    assert again.approval_id != aid
    assert [r["approval_id"] for r in records(env, "approval.used")] == [aid]
    approved = records(env, "approval.approved")
    assert approved[0]["approver"] == "owner@acme.test"
    assert approved[0]["reason"] == "known supplier"


def test_a_changed_argument_or_another_task_is_not_covered(env: Env) -> None:
    aid = held(env, pay(env, 100))
    env.p.approvals.approve(aid, OWNER, "ok")
    other = held(env, pay(env, 101))
    assert other != aid
    task2 = env.p.tasks.start(
        agent="bot", purpose="pay", allow=["payments.*"], resources=["acct-*"], requested_by="req@acme.test"
    )
    d = env.p.decide(pay(env, 100, task_token=task2.token))
    assert d.verdict is Verdict.APPROVAL_REQUIRED
    assert d.approval_id not in (aid, other)
    assert env.p.decide(pay(env, 100)).verdict is Verdict.ALLOW  # the approved call itself still runs


def test_identical_pending_requests_are_grouped(env: Env) -> None:
    a = held(env, pay(env))
    b = held(env, pay(env))
    assert a == b
    assert env.p.approvals.get(a).attempts == 2
    assert len(records(env, "approval.requested")) == 1


def test_who_may_decide(env: Env) -> None:
    aid = held(env, pay(env))
    with pytest.raises(ApproverNotAllowed):
        env.p.approvals.approve(aid, STRANGER, "me")
    with pytest.raises(ApproverNotAllowed):
        env.p.approvals.view(aid, STRANGER)
    with pytest.raises(ValidationError):
        env.p.approvals.approve(aid, OWNER, "  ")
    refused = records(env, "approval.refused")
    assert refused
    assert refused[0]["approver"] == "eve@acme.test"
    env.p.approvals.deny(aid, OWNER, "not expected")
    with pytest.raises(ApprovalNotPending):
        env.p.approvals.approve(aid, OWNER, "changed my mind")
    assert env.p.decide(pay(env)).verdict is Verdict.APPROVAL_REQUIRED  # a deny grants nothing


def test_expired_requests_and_grants_are_refused(env: Env) -> None:
    long = env.p.tasks.start(
        agent="bot",
        purpose="pay",
        allow=["payments.*"],
        resources=["acct-*"],
        requested_by="req@acme.test",
        ttl_s=7200,
    )
    kw: dict[str, object] = {"svid": None, "agent": "bot", "task_token": long.token}
    aid = held(env, pay(env, 100, "acct-1", **kw))
    env.clock.advance(601)
    with pytest.raises(ApprovalNotPending):
        env.p.approvals.approve(aid, OWNER, "late")
    assert [r.id for r in env.p.approvals.sweep()] == [aid]
    assert any(r["approval_id"] == aid for r in records(env, "approval.expired"))
    aid2 = held(env, pay(env, 100, "acct-1", **kw))
    assert aid2 != aid
    env.p.approvals.approve(aid2, OWNER, "ok")
    env.clock.advance(601)
    d = env.p.decide(pay(env, 100, "acct-1", **kw))
    assert d.verdict is Verdict.APPROVAL_REQUIRED
    assert d.approval_id not in (aid, aid2)


def _raw(env: Env) -> sqlite3.Connection:
    return sqlite3.connect(env.ws.root / "proctor.db")


def test_a_forged_or_edited_grant_allows_nothing(env: Env) -> None:
    aid = held(env, pay(env))
    env.p.approvals.approve(aid, OWNER, "ok")
    grant = env.p.approvals.get(aid).grant
    assert grant is not None
    head, body, sig = grant.split(".")
    forged = f"{head}.{body}.{sig[:-4]}AAAA"
    with _raw(env) as db:
        db.execute("UPDATE approvals SET grant_token = ? WHERE id = ?", (forged, aid))
    d = env.p.decide(pay(env))
    assert d.verdict is Verdict.APPROVAL_REQUIRED
    assert d.approval_id != aid
    assert any(r["approval_id"] == aid for r in records(env, "approval.grant_refused"))


def test_a_row_moved_to_another_call_in_the_database_allows_nothing(env: Env) -> None:
    """The binding is read from the signed grant, not from the row."""
    a = held(env, pay(env, 1))
    env.p.approvals.approve(a, OWNER, "ok")
    b = held(env, pay(env, 999_999))
    digest_b = env.p.approvals.get(b).digest
    with _raw(env) as db:
        db.execute("UPDATE approvals SET digest = ? WHERE id = ?", (digest_b, a))
    d = env.p.decide(pay(env, 999_999))
    assert d.verdict is Verdict.APPROVAL_REQUIRED
    assert env.p.approvals.get(a).state is ApprovalState.APPROVED  # not consumed


def test_a_grant_from_another_workspace_allows_nothing(env: Env, tmp_path: Path) -> None:
    aid = held(env, pay(env))
    with temporary_workspace(tmp_path / "other", config_text=CONFIG) as other:
        foreign = other.proctor.approvals.keys.sign_claims(
            {
                "aud": "proctor:approval-grant",
                "iss": env.p.audience,
                "sub": aid,
                "kind": "single",
                "dig": env.p.approvals.get(aid).digest,
                "pv": env.p.approvals.get(aid).policy_version,
                "agent": "bot",
                "task": str(env.task.task.id),
                "tool": "payments.transfer",
                "nar": None,
            },
            other.clock.now(),
            300,
        )
    with _raw(env) as db:
        db.execute(
            "UPDATE approvals SET state = 'approved', grant_token = ?, decided_by = 'x@y.test' WHERE id = ?",
            (foreign, aid),
        )
    assert env.p.decide(pay(env)).verdict is Verdict.APPROVAL_REQUIRED
    assert any(r["approval_id"] == aid for r in records(env, "approval.grant_refused"))


def test_a_new_policy_version_invalidates_the_grant(env: Env) -> None:
    aid = held(env, pay(env))
    env.p.approvals.approve(aid, OWNER, "ok")
    extra = env.ws.policies_dir / "99-extra.cedar"
    extra.write_text('@id("noop") forbid (principal, action, resource) when { false };\n')
    assert env.p.policies.reload()
    d = env.p.decide(pay(env))
    assert d.verdict is Verdict.APPROVAL_REQUIRED
    assert d.approval_id != aid


def test_four_eyes_refuses_the_requester(tmp_path: Path) -> None:
    with temporary_workspace(tmp_path / "ws", config_text=CONFIG) as sb:
        (sb.workspace.policies_dir / "25-four-eyes.cedar").write_text(
            '@id("deploy.four-eyes") @approval("owner") @four_eyes\n'
            'permit (principal, action == Proctor::Action::"deploy", resource);\n'
        )
        p = sb.proctor
        assert p.policies.reload()
        p.agents.add("bot", "owner@acme.test")
        task = p.tasks.start(
            agent="bot", purpose="ship", allow=["prod.*"], requested_by="owner@acme.test", ttl_s=600
        )
        d = p.decide(CallInput(tool="prod.deploy", args={}, agent="bot", task_token=task.token))
        assert d.verdict is Verdict.APPROVAL_REQUIRED
        assert d.approval_id
        req = p.approvals.get(d.approval_id)
        assert req.four_eyes
        with pytest.raises(ApproverNotAllowed, match="four eyes"):
            p.approvals.approve(d.approval_id, OWNER, "mine")


def test_a_group_approver(tmp_path: Path) -> None:
    with temporary_workspace(tmp_path / "ws", config_text=CONFIG) as sb:
        (sb.workspace.policies_dir / "20-approvals.cedar").write_text(
            '@id("pay.team") @approval("payments-team")\n'
            'permit (principal, action == Proctor::Action::"pay", resource);\n'
        )
        # the starter's flow holds (40-flow.cedar) would add the owner as a second approver
        (sb.workspace.policies_dir / "40-flow.cedar").unlink()
        p = sb.proctor
        assert p.policies.reload()
        p.agents.add("bot", "owner@acme.test")
        task = p.tasks.start(
            agent="bot", purpose="pay", allow=["payments.*"], requested_by="req@acme.test", ttl_s=600
        )
        c = CallInput(
            tool="payments.transfer", args={"account": "a", "amount": 5}, agent="bot", task_token=task.token
        )
        aid = p.decide(c).approval_id
        assert aid is not None
        with pytest.raises(ApproverNotAllowed, match="payments-team"):
            p.approvals.approve(aid, OWNER, "owner is not enough")
        p.approvals.approve(aid, Approver(Email("pat@acme.test"), frozenset({"payments-team"})), "ok")
        assert p.decide(c).verdict is Verdict.ALLOW


def test_a_scoped_grant_allows_only_inside_its_narrowing_until_the_task_ends(env: Env) -> None:
    aid = held(env, pay(env, 100, "acct-1"))
    with pytest.raises(ValidationError, match="does not cover"):
        env.p.approvals.approve(aid, OWNER, "x", narrowing={"amount": {"max": 50}})
    env.p.approvals.approve(
        aid, OWNER, "this account, up to 500", narrowing={"account": {"eq": "acct-1"}, "amount": {"max": 500}}
    )
    assert env.p.decide(pay(env, 100, "acct-1")).verdict is Verdict.ALLOW
    assert env.p.decide(pay(env, 500, "acct-1")).verdict is Verdict.ALLOW  # not single-use
    assert env.p.decide(pay(env, 501, "acct-1")).verdict is Verdict.APPROVAL_REQUIRED
    assert env.p.decide(pay(env, 10, "acct-2")).verdict is Verdict.APPROVAL_REQUIRED
    env.p.tasks.end(str(env.task.task.id))
    assert env.p.decide(pay(env, 100, "acct-1")).verdict is Verdict.DENY


def test_the_cap_on_pending_requests_denies_beyond_it(tmp_path: Path) -> None:
    with temporary_workspace(tmp_path / "ws", config_text=CONFIG + "approvals: {max_pending: 2}\n") as sb:
        p = sb.proctor
        p.agents.add("bot", "owner@acme.test")
        task = p.tasks.start(
            agent="bot", purpose="pay", allow=["payments.*"], requested_by="req@acme.test", ttl_s=600
        )

        def c(n: int) -> CallInput:
            return CallInput(
                tool="payments.transfer",
                args={"account": "a", "amount": n},
                agent="bot",
                task_token=task.token,
            )

        assert p.decide(c(1)).verdict is Verdict.APPROVAL_REQUIRED
        assert p.decide(c(2)).verdict is Verdict.APPROVAL_REQUIRED
        assert p.decide(c(1)).verdict is Verdict.APPROVAL_REQUIRED  # grouped: not a third request
        d = p.decide(c(3))
        assert d.verdict is Verdict.DENY
        assert "approval_cap_reached" in d.errors


def test_the_approver_sees_the_arguments_but_the_log_does_not(env: Env) -> None:
    c = CallInput(
        tool="payments.transfer",
        args={
            "account": "acct-9",
            "amount": 1234,
            "note": "x" * 1000,
            "api_key": "sk-live-aaaaaaaaaaaaaaaaaaaa",
        },
        svid=env.svid,
        task_token=env.task.token,
    )
    aid = held(env, c)
    view = env.p.approvals.view(aid, OWNER)
    lines = {a.name: a for a in view.args}
    assert lines["account"].text == "acct-9"
    assert lines["amount"].text == "1234"
    assert lines["note"].folded > 0
    assert len(lines["note"].text) < 1000
    assert lines["api_key"].masked
    assert "sk-live" not in lines["api_key"].text
    assert view.purpose == "read data and pay"
    assert view.requester == "req@acme.test"
    assert any("first request" in u for u in view.unusual)
    env.p.audit.flush()
    with _raw(env) as db:
        log_text = " ".join(bytes(r[0]).decode() for r in db.execute("SELECT body FROM audit_records"))
        stored = b"".join(r[0] for r in db.execute("SELECT ciphertext FROM approvals"))
    # the resource (account) is in the decision's scope as before; the other values are not logged
    assert "xxxxxxxx" not in log_text
    assert "sk-live" not in log_text
    assert '"amount":1234' not in log_text
    assert b"acct-9" not in stored
    assert b"sk-live" not in stored


def test_the_page_shows_what_is_unusual(env: Env) -> None:
    a = held(env, pay(env, 100, "acct-1"))
    env.p.approvals.approve(a, OWNER, "ok")
    env.p.decide(pay(env, 100, "acct-1"))
    b = held(env, pay(env, 5000, "acct-7"))
    unusual = " ".join(env.p.approvals.view(b, OWNER).unusual)
    assert "amount" in unusual
    assert "higher than any approved" in unusual
    assert "account" in unusual
    assert "never approved" in unusual


def test_a_dry_run_files_nothing(env: Env) -> None:
    d = env.p.decide(pay(env, dry_run=True))
    assert d.verdict is Verdict.APPROVAL_REQUIRED
    assert d.approval_id is None
    assert env.p.approvals.list() == []


def test_narrowing_parse_refuses_blanket_and_bad_constraints() -> None:
    bad: object
    for bad in ({}, {"a": {}}, {"a": {"max": "x"}}, {"a": {"gt": 1}}, {"a": {"in": []}}, [1]):
        with pytest.raises(ValidationError):
            Narrowing.parse(bad)
    n = Narrowing.parse({"amount": {"max": 10}, "to": {"in": ["a", "b"]}})
    assert n.allows({"amount": 10, "to": "a"}) is None
    assert n.allows({"amount": True, "to": "a"}) is not None
    assert n.allows({"to": "a"}) is not None


def test_audit_show_of_the_call_that_ran_tells_the_approval_story(env: Env) -> None:
    from proctor.audit.query import decision_records

    aid = held(env, pay(env))
    env.p.approvals.approve(aid, OWNER, "known supplier")
    d = env.p.decide(pay(env))
    env.p.audit.flush()
    kinds = [r.kind for r in decision_records(env.p.store, d.decision_id)]
    assert kinds == ["approval.requested", "approval.approved", "approval.used", "decision"]


# -- red team (issue 14) ---------------------------------------------------------------------------


def test_a_scoped_grant_does_not_stand_in_for_an_approval_another_group_must_give(env: Env) -> None:
    """The owner's narrowing names the amount only; a call on an account that also needs the
    treasury's approval stays inside it but must not run on the owner's grant."""
    (env.ws.policies_dir / "25-treasury.cedar").write_text(
        '@id("pay.treasury") @approval("treasury")\n'
        'permit (principal, action == Proctor::Action::"pay", resource)'
        ' when { context.resource like "acct-big*" };\n'
    )
    assert env.p.policies.reload()
    aid = held(env, pay(env, 100, "acct-1"))
    assert env.p.approvals.get(aid).approvers == ("owner",)
    env.p.approvals.approve(aid, OWNER, "small amounts", narrowing={"amount": {"max": 500}})
    assert env.p.decide(pay(env, 100, "acct-1")).verdict is Verdict.ALLOW
    d = env.p.decide(pay(env, 100, "acct-big-1"))
    assert d.verdict is Verdict.APPROVAL_REQUIRED, d
    assert env.p.approvals.get(str(d.approval_id)).approvers == ("owner", "treasury")


def test_a_scoped_grant_without_four_eyes_does_not_cover_a_four_eyes_call(env: Env) -> None:
    (env.ws.policies_dir / "25-four-eyes.cedar").write_text(
        '@id("pay.big.four-eyes") @approval("owner") @four_eyes\n'
        'permit (principal, action == Proctor::Action::"pay", resource)'
        ' when { context.resource like "acct-big*" };\n'
    )
    assert env.p.policies.reload()
    aid = held(env, pay(env, 100, "acct-1"))
    assert not env.p.approvals.get(aid).four_eyes
    env.p.approvals.approve(aid, OWNER, "small amounts", narrowing={"amount": {"max": 500}})
    d = env.p.decide(pay(env, 100, "acct-big-1"))
    assert d.verdict is Verdict.APPROVAL_REQUIRED, d
    assert env.p.approvals.get(str(d.approval_id)).four_eyes


def test_a_person_who_may_not_decide_cannot_read_a_decided_requests_arguments(env: Env) -> None:
    aid = held(env, pay(env, 4321, "acct-secret"))
    env.p.approvals.approve(aid, OWNER, "ok")
    for state_after in ("approved", "used"):
        with pytest.raises(ApproverNotAllowed):
            env.p.approvals.view(aid, STRANGER)
        assert {a.name: a.text for a in env.p.approvals.view(aid, OWNER).args}["amount"] == "4321"
        if state_after == "approved":
            assert env.p.decide(pay(env, 4321, "acct-secret")).verdict is Verdict.ALLOW
    assert env.p.approvals.get(aid).state is ApprovalState.USED


def test_secrets_nested_in_an_argument_are_masked_too(env: Env) -> None:
    c = CallInput(
        tool="payments.transfer",
        args={
            "account": "acct-9",
            "amount": 5,
            "request": {"headers": {"Authorization": "Bearer abcdefghijklmnopqrstuvwxyz0123"}},
            "keys": ["ghp_abcdefghijklmnopqrstuvwxyz0123"],
        },
        svid=env.svid,
        task_token=env.task.token,
    )
    aid = held(env, c)
    lines = {a.name: a for a in env.p.approvals.view(aid, OWNER).args}
    assert "abcdefghijklmnop" not in lines["request"].text
    assert "abcdefghijklmnop" not in lines["keys"].text
    assert lines["request"].masked
    assert lines["keys"].masked
    assert lines["amount"].text == "5"
    assert not lines["amount"].masked


def test_a_scoped_grant_does_not_cover_an_argument_the_approver_never_saw(env: Env) -> None:
    aid = held(env, pay(env, 100, "acct-1"))
    env.p.approvals.approve(aid, OWNER, "this account", narrowing={"account": {"eq": "acct-1"}})
    assert env.p.decide(pay(env, 300, "acct-1")).verdict is Verdict.ALLOW  # a named-free argument varies
    extra = CallInput(
        tool="payments.transfer",
        args={"account": "acct-1", "amount": 100, "also_send_to": "acct-evil"},
        svid=env.svid,
        task_token=env.task.token,
    )
    assert env.p.decide(extra).verdict is Verdict.APPROVAL_REQUIRED
    assert env.p.decide(pay(env, 100, "acct-1")).verdict is Verdict.ALLOW


def test_a_narrowings_values_stay_out_of_the_audit_log(env: Env) -> None:
    """An `eq` narrowing holds an argument value; the log keeps arguments as digests only."""
    c = CallInput(
        tool="payments.transfer",
        args={"account": "acct-1", "amount": 5, "memo": "diagnosis-of-patient-4711"},
        svid=env.svid,
        task_token=env.task.token,
    )
    aid = held(env, c)
    env.p.approvals.approve(aid, OWNER, "ok", narrowing={"memo": {"eq": "diagnosis-of-patient-4711"}})
    assert env.p.decide(c).verdict is Verdict.ALLOW
    env.p.audit.flush()
    with _raw(env) as db:
        log_text = " ".join(bytes(r[0]).decode() for r in db.execute("SELECT body FROM audit_records"))
    assert "patient-4711" not in log_text
    [approved] = records(env, "approval.approved")
    assert str(approved["narrowing"]["memo"]["eq"]).startswith("sha256:")  # type: ignore[index]


def test_a_range_narrowing_has_a_floor_and_a_max_alone_does_not() -> None:
    rng = Narrowing.parse({"amount": {"min": 0, "max": 500}})
    assert rng.allows({"amount": 500}) is None
    assert rng.allows({"amount": -1}) is not None
    assert rng.allows({"amount": 501}) is not None
    assert Narrowing.parse({"amount": {"max": 500}}).allows({"amount": -(10**15)}) is None  # documented
    for bad in ({"amount": {"min": 5, "max": 1}}, {"amount": {"eq": 1, "max": 5}}):
        with pytest.raises(ValidationError):
            Narrowing.parse(bad)
    assert rng.describe() == "amount ≥ 0, amount ≤ 500"


def test_a_grant_is_not_spent_on_a_call_the_budget_refuses(env: Env) -> None:
    small = env.p.tasks.start(
        agent="bot",
        purpose="pay once",
        allow=["payments.*"],
        resources=["acct-*"],
        requested_by="req@acme.test",
        max_calls=1,
    )
    kw: dict[str, object] = {"svid": None, "agent": "bot", "task_token": small.token}
    aid = held(env, pay(env, 100, "acct-1", **kw))
    env.p.approvals.approve(aid, OWNER, "ok")
    env.p.store.consume_call(small.task.id)  # another call of the task used its one unit
    d = env.p.decide(pay(env, 100, "acct-1", **kw))
    assert d.verdict is Verdict.DENY
    assert "task_budget_exhausted" in d.errors
    assert env.p.approvals.get(aid).state is ApprovalState.APPROVED  # still unspent


def test_a_grant_is_looked_up_by_its_digest_not_among_every_request(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The look-ups of the approval stage (a filing, a redeemed single-use grant, a scoped grant)
    go through the digest or task index: SQLite, with no statistics, preferred the state index for
    its ordering and read every approved or pending request of the workspace on each held call."""
    from proctor.store import _sql

    seen: list[tuple[str, tuple[object, ...]]] = []
    execute = _sql.Cursor.execute

    def spy(self: _sql.Cursor, sql: str, params: Sequence[object] = ()) -> object:
        if "FROM approvals WHERE" in sql and ("digest = ?" in sql or "task_id = ?" in sql):
            seen.append((sql, tuple(params)))
        return execute(self, sql, params)

    monkeypatch.setattr(_sql.Cursor, "execute", spy)
    aid = held(env, pay(env, 100, "acct-1"))
    env.p.approvals.approve(aid, OWNER, "ok")
    assert env.p.decide(pay(env, 100, "acct-1")).verdict is Verdict.ALLOW
    scoped = held(env, pay(env, 7, "acct-2"))
    env.p.approvals.approve(scoped, OWNER, "ok", narrowing={"account": {"eq": "acct-2"}})
    assert env.p.decide(pay(env, 8, "acct-2")).verdict is Verdict.ALLOW
    monkeypatch.undo()
    shapes = dict(seen)
    assert len(shapes) >= 4, shapes  # filing (pending, approved meanwhile), single-use, scoped
    with _raw(env) as raw:
        for sql, params in shapes.items():
            plan = " | ".join(str(r[-1]) for r in raw.execute("EXPLAIN QUERY PLAN " + sql, params))
            assert "approvals_by_state" not in plan, (sql, plan)
            assert "approvals_by_digest" in plan or "approvals_by_task" in plan, (sql, plan)


def test_an_expiry_whose_record_could_not_be_written_is_recorded_late(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep expires a request in the store, then cannot write its `approval.expired` (the audit
    store refuses the write): the record is carried and the next sweep writes it, marked
    `recorded_late`, rather than only logging its loss."""
    long = env.p.tasks.start(
        agent="bot",
        purpose="pay",
        allow=["payments.*"],
        resources=["acct-*"],
        requested_by="req@acme.test",
        ttl_s=7200,
    )
    aid = held(env, pay(env, 100, "acct-1", svid=None, agent="bot", task_token=long.token))
    env.p.audit.flush()
    env.clock.advance(601)

    def refused(*_a: object, **_k: object) -> object:
        raise StoreUnavailable("injected: the audit store refuses writes")

    with monkeypatch.context() as m:
        m.setattr(env.p.store, "append_audit", refused)
        assert [r.id for r in env.p.approvals.sweep()] == [aid]  # expired in the store all the same
    assert env.p.approvals.get(aid).state is ApprovalState.EXPIRED
    assert not records(env, "approval.expired")
    assert env.p.approvals.sweep() == []  # nothing new: the carried record is written now
    (rec,) = [r for r in records(env, "approval.expired") if r["approval_id"] == aid]
    assert rec["recorded_late"] is True
    env.p.approvals.sweep()
    assert len(records(env, "approval.expired")) == 1  # written once
