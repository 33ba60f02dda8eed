"""Red team 5: the history sweep (``SWEEP``: reads between sweeps start at the latest event read)
and the clamp of events stored ahead of this process's clock. Each test is an attack or a failure
path that under-counted a limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.unit.test_flow_redteam4 import RATE, RATE_POLICY, _pay
from tests.unit.test_flow_service import IBAN, _sandbox, _start

from proctor.app import Proctor
from proctor.clock import FrozenClock
from proctor.pipeline import CallInput
from proctor.testing import Sandbox
from proctor.types import Verdict


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[Sandbox]:
    for box in _sandbox(tmp_path, counters=RATE):
        (box.workspace.policies_dir / "41-rate.cedar").write_text(RATE_POLICY, encoding="utf-8")
        assert box.proctor.policies.reload()
        yield box


def _ahead(sb: Sandbox, task_id: str, seconds: float) -> None:
    """A payment of the agent recorded by another process (a gateway on the same store) whose
    clock is ``seconds`` ahead of this one's."""
    t = sb.clock.now() + seconds
    with Proctor.open(sb.workspace, clock=FrozenClock(t)) as other:
        pay = other.tools.get("bank.pay")
        other.flow.record_call("bot", task_id, pay, {"iban": IBAN, "amount": 10}, t)


def test_an_event_far_ahead_does_not_hide_this_process_s_own_payments(sb: Sandbox) -> None:
    """Another process whose clock is an hour ahead (or was, before NTP corrected it) stored one
    payment of the agent. Between sweeps a read started at the latest event read, an hour ahead,
    while this process records the agent's events at its own clock (at most ``LATE`` ahead): its
    own payments were never returned between sweeps, so every other payment was decided on a
    history that lacked the one before it."""
    t = sb.clock.now()
    task_id, _ = _start(sb.proctor)
    _ahead(sb, task_id, 3600)
    seen = [_pay(sb, task_id, t + 1.0 + i * 0.01)["payments_task"] for i in range(30)]
    assert seen == list(range(1, 31))


MINUTE = """\
counters:
  payments_minute: {kind: count, match: {effects: [pay]}, scope: agent, window: 1m}
"""
MINUTE_POLICY = """
@id("t.rate-minute")
forbid (principal, action == Proctor::Action::"pay", resource)
when { context.history has payments_minute && context.history.payments_minute > 10 };
"""


def test_an_event_far_ahead_does_not_run_the_agent_s_clock_away(tmp_path: Path) -> None:
    """A payment stored an hour ahead (another process's clock): each decision moved the agent's
    time ``LATE`` seconds further ahead of the real clock (the clamp was taken from the time already
    moved, not from the clock), and its payments were recorded at those times, five seconds apart
    however fast they came: a limit of 10 payments a minute let through any number (at most 12
    fell in any minute of the agent's runaway time)."""
    for sb in _sandbox(tmp_path, counters=MINUTE):
        p = sb.proctor
        (sb.workspace.policies_dir / "41-rate.cedar").write_text(MINUTE_POLICY, encoding="utf-8")
        assert p.policies.reload()
        task_id, token = _start(p, iban=IBAN)
        _ahead(sb, task_id, 3600)
        allowed = 0
        for _ in range(40):  # 40 payments in 4 seconds
            sb.clock.advance(0.1)
            d = p.decide(
                CallInput(tool="bank.pay", args={"iban": IBAN, "amount": 10}, agent="bot", task_token=token)
            )
            allowed += d.verdict is Verdict.ALLOW
        assert allowed == 10
