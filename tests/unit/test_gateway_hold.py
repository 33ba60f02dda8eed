"""What the gateway answers for a call held for approval (proctor.gateway.hold), on a real
workspace: the request as it ended decides the text; no client answer is ever read as a decision."""

from __future__ import annotations

import dataclasses

from tests.unit.conftest import Env

from proctor.approvals.model import ApprovalState
from proctor.gateway.calls import refusal
from proctor.gateway.hold import INPUT_KEY, Holds, answered, holdable
from proctor.pipeline import CallInput
from proctor.policy.engine import Decision
from proctor.types import Email, Verdict


def held(env: Env) -> tuple[Holds, Decision, str]:
    d = env.p.decide(
        CallInput(
            tool="payments.transfer",
            args={"account": "acct-1", "amount": 10},
            svid=env.svid,
            task_token=env.task.token,
        )
    )
    assert d.verdict is Verdict.APPROVAL_REQUIRED
    assert holdable(d)
    text = refusal(d)
    assert text is not None
    return Holds(env.p), d, text


def test_the_answer_follows_the_request_as_it_ended(env: Env) -> None:
    """Pending: the retry text and the page; denied: who and why; expired: said so."""
    holds, d, refused = held(env)
    req = env.p.approvals.get(str(d.approval_id))
    pending = holds.answer(d, req, refused)
    assert str(req.id) in pending
    assert "may be retried" in pending
    assert f"/approvals/{req.id}" in pending
    assert holds.answer(d, None, refused) == pending  # unreadable: answered as still waiting
    denied = dataclasses.replace(
        req, state=ApprovalState.DENIED, decided_by=Email("owner@acme.test"), reason="no"
    )
    assert "was denied by owner@acme.test: no" in holds.answer(d, denied, refused)
    expired = dataclasses.replace(req, state=ApprovalState.EXPIRED)
    assert "expired without a decision" in holds.answer(d, expired, refused)
    used = dataclasses.replace(req, state=ApprovalState.USED)
    assert "used already" in holds.answer(d, used, refused)


def test_only_a_retry_thatanswered_our_key_skips_the_link() -> None:
    """2026-07-28: the retry after `input_required` carries an answer under our key; whatever it
    says is not read."""
    assert answered({"inputResponses": {INPUT_KEY: {"action": "decline"}}})
    assert not answered({"inputResponses": {"other": {}}})
    assert not answered({"name": "x"})
    assert not answered(None)
