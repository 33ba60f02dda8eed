"""The retry of a held call against a decision landing at any point of its own decision (issue:
the check-then-act gap between "is there a grant?" and "file a request"). The approval stage
reads the grants, then files (or joins) a request: a person's approval committed between the two
must be used by that very retry — once — and never make it file a second request; a deny or an
expiry in between never lets it run; two identical retries never both run on one grant.

Deterministic: the store is interposed so a decision lands exactly between the stage's read of
the grants and its filing (in this thread, or from another thread while the retry waits)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from tests.unit.conftest import Env
from tests.unit.test_approvals import OWNER, held, pay, records

from proctor.approvals.model import ApprovalState
from proctor.errors import ApprovalNotPending
from proctor.types import ApprovalId, Verdict


@contextmanager
def between_read_and_filing(
    env: Env, land: Callable[[], object], read: str = "approved_for"
) -> Iterator[list[int]]:
    """Run ``land`` once, right after the approval stage has read the grants of the call (the
    single-use ones, or with ``read="scoped_grants"`` the scoped ones) and before it files or
    joins a request."""
    store = env.p.approvals.store
    original = getattr(store, read)
    fired: list[int] = []

    def reading(*args: Any) -> Any:
        got = original(*args)
        if not fired:
            fired.append(1)
            land()
        return got

    setattr(store, read, reading)
    try:
        yield fired
    finally:
        delattr(store, read)


def _requests(env: Env) -> list[str]:
    return sorted(str(r.id) for r in env.p.approvals.list())


def test_an_approval_landing_between_the_grant_check_and_the_filing_runs_the_retry(env: Env) -> None:
    aid = held(env, pay(env))
    with between_read_and_filing(env, lambda: env.p.approvals.approve(aid, OWNER, "fine")) as fired:
        d = env.p.decide(pay(env))
    assert fired
    assert d.verdict is Verdict.ALLOW, d
    assert d.approval_id == aid
    assert env.p.approvals.get(aid).state is ApprovalState.USED
    assert _requests(env) == [aid]  # no second request was filed
    assert len(records(env, "approval.requested")) == 1
    assert [r["approval_id"] for r in records(env, "approval.used")] == [aid]
    # the grant ran one call: the next identical call is held anew
    again = env.p.decide(pay(env))
    assert again.verdict is Verdict.APPROVAL_REQUIRED
    assert again.approval_id != aid


def test_an_approval_from_another_thread_while_the_retry_is_decided_runs_it_once(env: Env) -> None:
    """The person approves on another thread (the page, the API) while the retry sits between
    its read of the grants and its filing."""
    aid = held(env, pay(env))
    read = threading.Event()
    landed = threading.Event()

    def wait_for_the_approval() -> None:
        read.set()
        assert landed.wait(10)

    def approver() -> None:
        assert read.wait(10)
        env.p.approvals.approve(aid, OWNER, "fine")
        landed.set()

    th = threading.Thread(target=approver)
    th.start()
    with between_read_and_filing(env, wait_for_the_approval):
        d = env.p.decide(pay(env))
    th.join(10)
    assert d.verdict is Verdict.ALLOW, d
    assert d.approval_id == aid
    assert _requests(env) == [aid]
    assert env.p.approvals.get(aid).state is ApprovalState.USED


def test_a_scoped_approval_landing_between_covers_the_retry(env: Env) -> None:
    aid = held(env, pay(env, 100))
    with between_read_and_filing(
        env,
        lambda: env.p.approvals.approve(aid, OWNER, "up to 500", {"amount": {"max": 500}}),
        read="scoped_grants",
    ):
        d = env.p.decide(pay(env, 100))
    assert d.verdict is Verdict.ALLOW, d
    assert d.approval_id == aid
    assert _requests(env) == [aid]
    assert env.p.approvals.get(aid).state is ApprovalState.APPROVED  # scoped: not consumed


def test_a_deny_landing_between_never_lets_the_retry_run(env: Env) -> None:
    aid = held(env, pay(env))
    with between_read_and_filing(env, lambda: env.p.approvals.deny(aid, OWNER, "no")):
        d = env.p.decide(pay(env))
    assert d.verdict is Verdict.APPROVAL_REQUIRED, d
    assert d.approval_id != aid  # a denied request is not joined: the retry is another request
    assert env.p.approvals.get(aid).state is ApprovalState.DENIED
    assert records(env, "approval.used") == []


def _long(env: Env) -> dict[str, object]:
    long = env.p.tasks.start(
        agent="bot",
        purpose="pay",
        allow=["payments.*"],
        resources=["acct-*"],
        requested_by="req@acme.test",
        ttl_s=7200,
    )
    return {"svid": None, "agent": "bot", "task_token": long.token}


def test_an_approval_after_the_request_expired_grants_nothing(env: Env) -> None:
    kw = _long(env)
    aid = held(env, pay(env, 100, "acct-1", **kw))
    env.clock.advance(env.p.settings.approval_ttl_s + 1)

    def late() -> None:
        with pytest.raises(ApprovalNotPending):
            env.p.approvals.approve(aid, OWNER, "late")

    with between_read_and_filing(env, late) as fired:
        d = env.p.decide(pay(env, 100, "acct-1", **kw))
    assert fired
    assert d.verdict is Verdict.APPROVAL_REQUIRED, d
    assert d.approval_id != aid
    assert records(env, "approval.used") == []


def test_a_grant_that_expires_between_is_not_used(env: Env) -> None:
    kw = _long(env)
    aid = held(env, pay(env, 100, "acct-1", **kw))
    env.p.approvals.approve(aid, OWNER, "fine")
    grant_expires = env.p.approvals.get(aid).expires_at
    store = env.p.approvals.store
    original = store.approved_for

    def approved_for(digest: str) -> Any:
        return []  # the stage read before the approval committed

    store.approved_for = approved_for  # type: ignore[method-assign]
    try:
        env.clock.advance(grant_expires - env.clock.now())
        d = env.p.decide(pay(env, 100, "acct-1", **kw))
    finally:
        del store.approved_for
    assert original is not None
    assert d.verdict is Verdict.APPROVAL_REQUIRED, d
    assert d.approval_id != aid
    assert records(env, "approval.used") == []


def test_two_retries_at_once_never_both_run_on_one_grant(env: Env) -> None:
    """Both read the grant before either uses it (another process's identical retry uses it in
    between): this one is held again, on a new request, and never runs."""
    aid = held(env, pay(env))
    env.p.approvals.approve(aid, OWNER, "fine")
    store = env.p.approvals.store
    original = store.approved_for
    other: list[object] = []

    def approved_for(digest: str) -> Any:
        got = original(digest)
        if not other:
            other.append(store.use_approval(ApprovalId(aid), env.clock.now(), "dec_OTHERPROCESSRETRYxxx"))
        return got

    store.approved_for = approved_for  # type: ignore[method-assign]
    try:
        d = env.p.decide(pay(env))
    finally:
        del store.approved_for
    assert other
    assert other[0] is not None  # the other retry used the grant
    assert d.verdict is Verdict.APPROVAL_REQUIRED, d
    assert d.approval_id != aid
    assert records(env, "approval.used") == []  # this retry used nothing
    assert env.p.approvals.get(aid).used_by == "dec_OTHERPROCESSRETRYxxx"
