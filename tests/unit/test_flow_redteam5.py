"""Red team 5: the history sweep (``SWEEP``: reads between sweeps start at the latest event read)
and the clamp of events stored ahead of this process's clock. Each test is an attack or a failure
path that under-counted a limit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.flow_harness import IBAN, RATE_POLICY, rate_sandbox
from tests.unit.flow_harness import rate_pay as _pay
from tests.unit.flow_harness import service_sandbox as _sandbox
from tests.unit.flow_harness import service_start as _start

from proctor.app import Proctor
from proctor.clock import FrozenClock
from proctor.flow.counters import evaluate
from proctor.pipeline import CallInput
from proctor.testing import Sandbox
from proctor.types import AgentName, Verdict


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[Sandbox]:
    yield from rate_sandbox(tmp_path)


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


# ---- incremental against a recomputation, with another process and clock moves --------------------

MIXED = """\
counters:
  payments_today: {kind: count, match: {effects: [pay]}, scope: agent, window: 1d}
  payments_minute: {kind: count, match: {effects: [pay]}, scope: agent, window: 1m}
  payments_task: {kind: count, match: {effects: [pay]}}
  spend_task: {kind: sum, arg: amount, match: {effects: [pay]}}
  new_payee: {kind: first_time, arg: iban, match: {effects: [pay]}, scope: agent, window: 30s}
"""
#: one step: this process decides a payment (then records it when ``record``), the other process
#: records one at its own clock (``skew`` from this process's clock, relative to the agent's time
#: here, never more than 4 s behind it: the documented reach of a sweep is LATE = 5 s), or this
#: process's clock moves (back too)
moves = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.sampled_from(["A", "B"]), st.integers(1, 3), st.booleans()),
        st.tuples(
            st.just("other"),
            st.sampled_from(["A", "B"]),
            st.integers(1, 3),
            st.sampled_from([-4.0, -2.0, -0.5, -0.001, 0.0, 0.001, 1.0, 3.0, 4.9, 6.0, 3600.0]),
        ),
        st.tuples(
            st.just("tick"),
            st.sampled_from([0.0, 0.001, 0.01, 0.1, 0.3, 0.5, 0.6, 2.0, 7.0, 40.0, -0.2, -3.0]),
        ),
    ),
    min_size=5,
    max_size=60,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=moves)
def test_incremental_history_equals_a_recomputation_with_another_process(
    tmp_path_factory: pytest.TempPathFactory, steps: list[Any]
) -> None:
    """This process decides payments of one agent while another process on the same store records
    some (its clock behind or ahead, far ahead too), and this clock moves forward and back. Each
    decision's history equals a recomputation over every stored event at the time it decided at:
    no event counted twice or missed, between sweeps too (an event the other process stored late
    with an earlier time is counted at the next decision, not at the next sweep)."""
    for sb in _sandbox(tmp_path_factory.mktemp("h"), counters=MIXED):
        p = sb.proctor
        (sb.workspace.policies_dir / "41-rate.cedar").write_text(RATE_POLICY, encoding="utf-8")
        assert p.policies.reload()
        task_id, _ = _start(p)
        ag, task, pay = p.agents.get("bot"), p.tasks.get(task_id), p.tools.get("bank.pay")
        flow = p.flow
        specs, key = flow._counters(), flow.fingerprint_key()
        clock = sb.clock.now()
        with Proctor.open(sb.workspace, clock=FrozenClock(clock)) as other:
            for step in steps:
                if step[0] == "tick":
                    clock += step[1]
                    continue
                args = {"iban": f"DE{step[1]}", "amount": step[2]}
                if step[0] == "other":
                    at = flow._moments.get("bot", clock) + step[3]
                    other.flow.record_call("bot", task_id, pay, args, at)
                    continue
                got = dict(flow.facts(ag, task, pay, args, clock).history_dict())
                at = flow._moments["bot"]  # the agent's time this decision counted at
                want = dict(
                    evaluate(
                        specs,
                        p.store.flow_events(agent=AgentName("bot")),
                        task_id=task_id,
                        agent="bot",
                        tool=pay,
                        args=args,
                        now=at,
                        key=key,
                    )
                )
                assert got == want, (step, got, want)
                if step[3]:
                    flow.record_call("bot", task_id, pay, args, clock)


def test_events_another_process_stores_late_are_counted_at_the_next_decision(sb: Sandbox) -> None:
    """Two gateways on one store pay for one agent, its calls spread over both. Each payment the
    other process decides is stored after this process has decided two with a later time (its
    decision takes longer): between sweeps a read started at the latest event read, so all of the
    other's payments of the last half second were missing from this process's count, not only the
    one in flight (ADR 0025 §4: two processes can both pass a limit by one call each). Five rounds
    in 50 ms: this process's count lacked four of the other's payments, a limit passed by four."""
    t = sb.clock.now()
    task_id, _ = _start(sb.proctor)
    _pay(sb, task_id, t)  # a sweep at t
    with Proctor.open(sb.workspace, clock=FrozenClock(t)) as other:
        pay = other.tools.get("bank.pay")
        for i in range(1, 6):
            at = t + i * 0.01
            # the other process decided at `at`; it stores its event after two calls here
            _pay(sb, task_id, at + 0.001)
            seen = _pay(sb, task_id, at + 0.002)
            # this one's 1 + 2 * i, the other's stored ones (its call in flight is not)
            assert seen["payments_task"] == 1 + 2 * i + (i - 1), (i, seen)
            other.flow.record_call("bot", task_id, pay, {"iban": IBAN, "amount": 10}, at)
