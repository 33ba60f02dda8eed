"""Incremental counters (proctor.flow.counters.Tally) give exactly what a recomputation over every
event gives (proctor.flow.counters.evaluate), over random histories, scopes, windows and clock
moves, and drop what left a window (ADR 0025 §4)."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proctor.errors import ValidationError
from proctor.flow import counters
from proctor.flow.counters import CounterSpec, HistoryEvent, Tally, evaluate, event_for, parse_counters
from proctor.store.base import ToolRecord
from proctor.types import ToolName

KEY = b"k" * 32
SCHEMA = json.dumps({"type": "object", "properties": {"amount": {}, "currency": {}, "iban": {}}})
PAY = ToolRecord(name=ToolName("billing.send_money"), effect="pay", input_schema=SCHEMA)
REFUND = ToolRecord(name=ToolName("billing.refund"), effect="pay")
MAIL = ToolRecord(name=ToolName("mail.send"), effect="send")
READ = ToolRecord(name=ToolName("mail.read"), effect="read")
TOOLS = (PAY, REFUND, MAIL, READ)
SPECS = parse_counters("""\
counters:
  spend_task: {kind: sum, arg: amount, match: {effects: [pay]}}
  spend_eur: {kind: sum, arg: amount, match: {effects: [pay]}, scope: agent, window: 30s,
              currency: {arg: currency, unit: EUR}}
  spend_all: {kind: sum, arg: amount, match: {tools: ["billing.*"]}, scope: agent}
  payments: {kind: count, match: {effects: [pay]}, scope: agent, window: 20s}
  payments_task: {kind: count, match: {effects: [pay]}, window: 15s}
  read_mail: {kind: seen, match: {tools: [mail.read]}, window: 10s}
  read_ever: {kind: seen, match: {tools: [mail.read]}, scope: agent}
  new_payee: {kind: first_time, arg: iban, match: {effects: [pay]}, scope: agent, window: 25s}
  new_recipient: {kind: first_time, arg: "to[]", match: {tools: [mail.send]}}
""")

amounts = st.one_of(
    st.integers(-10_000, 10_000),
    st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False),
    st.sampled_from(["1,500.00", "4900 BTC", "EUR 12", "€49", "$10", "-3"]),
)
arguments = st.one_of(
    st.fixed_dictionaries(
        {
            "amount": amounts,
            "currency": st.sampled_from(["EUR", "EUR", "eur", "BTC"]),
            "iban": st.sampled_from(["DE01", "de 01", "FR02", "GB03"]),
            "to": st.lists(st.sampled_from(["a@x.example", "B@x.example", "c@y.example"]), max_size=2),
        }
    ),
    st.fixed_dictionaries(
        {},
        optional={
            "amount": amounts,
            "currency": st.sampled_from(["EUR", "USD", None]),
            "iban": st.sampled_from(["DE01", "FR02"]),
        },
    ),
)
#: the calls decided at every tick: each kind of counter matching and not
PROBES: tuple[tuple[ToolRecord, dict[str, Any]], ...] = (
    (PAY, {"amount": 10, "currency": "EUR", "iban": "DE01"}),
    (PAY, {"amount": 10, "currency": "EUR", "iban": "FR02"}),
    (REFUND, {"amount": "2.5", "iban": "GB03"}),
    (MAIL, {"to": ["a@x.example", "c@y.example"]}),
    (MAIL, {"to": ["b@x.example"]}),
    (READ, {}),
)
#: one step: an allowed call recorded (tool, args, task, agent, time offset: late or early), or the
#: clock moving on, then every task and agent deciding one call
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("call"),
            st.sampled_from(TOOLS),
            arguments,
            st.sampled_from(["t1", "t2", "t3"]),
            st.sampled_from(["bot", "other"]),
            st.sampled_from([0.0, 0.0, 0.0, -3.0, -10.0, -10.5, -15.0, -20.0, -25.0, -25.5, 2.0]),
        ),
        st.tuples(st.just("tick"), st.sampled_from([0.0, 0.5, 1.0, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0])),
    ),
    min_size=10,
    max_size=120,
)
OWNER = {"t1": "bot", "t2": "bot", "t3": "other"}


def _live(tally: Tally) -> dict[str, int]:
    return {agg.spec.name: len(agg.ats) - agg.start for agg in tally._aggs}


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=steps)
def test_incremental_counters_equal_a_recomputation(
    steps: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(counters, "_COMPACT", 2)  # compact often: every path of eviction runs
    task_specs = [s for s in SPECS if s.scope == "task"]
    agent_specs = [s for s in SPECS if s.scope == "agent"]
    tasks: dict[str, Tally] = defaultdict(lambda: Tally(task_specs))
    agents: dict[str, Tally] = defaultdict(lambda: Tally(agent_specs))
    events: list[HistoryEvent] = []
    now = 1000.0
    for step in steps:
        if step[0] == "call":
            _, t, a, task, _agent, offset = step
            agent = OWNER[task]
            ev = event_for(SPECS, task_id=task, agent=agent, tool=t, args=a, at=now + offset, key=KEY)
            if ev is not None:
                events.append(ev)
                tasks[task].add(ev)
                agents[agent].add(ev)
            continue
        now += step[1]
        for (task, agent), (tool, args) in itertools.product(OWNER.items(), PROBES):
            try:
                want = evaluate(
                    SPECS, events, task_id=task, agent=agent, tool=tool, args=args, now=now, key=KEY
                )
            except ValidationError:
                with pytest.raises(ValidationError):
                    tasks[task].values(tool=tool, args=args, now=now, key=KEY)
                continue
            got = [
                *tasks[task].values(tool=tool, args=args, now=now, key=KEY),
                *agents[agent].values(tool=tool, args=args, now=now, key=KEY),
            ]
            assert sorted(got, key=lambda kv: kv[0]) == list(want)
            # what left a window is dropped: the tally keeps no more than the window holds
            for tally, scope, name in ((tasks[task], "task", task), (agents[agent], "agent", agent)):
                for spec_name, live in _live(tally).items():
                    spec = next(s for s in SPECS if s.name == spec_name)
                    if spec.window_s is None:
                        continue
                    held = [
                        e
                        for e in events
                        if (e.task_id if scope == "task" else e.agent) == name
                        and spec.matches(e.tool, e.effect)
                        and e.at > now - spec.window_s
                    ]
                    assert live == len(held), spec_name


def test_a_tally_drops_an_event_once_it_left_the_window() -> None:
    """A windowed count forgets an event for good once the clock passed its window, and a late
    event (stored after, with an earlier time) still inside the window counts."""
    spec: CounterSpec = next(s for s in SPECS if s.name == "payments")
    tally = Tally([spec])
    for at in (100.0, 105.0, 110.0):
        tally.add(HistoryEvent("t1", "bot", "billing.refund", "pay", at, ()))
    assert tally.values(tool=READ, args={}, now=121.0, key=KEY) == [("payments", 2)]
    assert _live(tally) == {"payments": 2}
    tally.add(HistoryEvent("t1", "bot", "billing.refund", "pay", 100.5, ()))  # late and out: ignored
    tally.add(HistoryEvent("t1", "bot", "billing.refund", "pay", 107.0, ()))  # late, in the window
    assert tally.values(tool=READ, args={}, now=121.0, key=KEY) == [("payments", 3)]
    assert tally.values(tool=READ, args={}, now=200.0, key=KEY) == [("payments", 0)]
    assert _live(tally) == {"payments": 0}


def test_an_unknown_amount_inside_the_window_survives_compaction(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dropping what left the window keeps an unknown amount (another currency) that is still in
    it: the total stays unknown until it leaves."""
    monkeypatch.setattr(counters, "_COMPACT", 1)
    monkeypatch.setattr(counters, "_COMPACT_RATIO", 10**9)
    spec = next(s for s in SPECS if s.name == "spend_eur")  # agent, 30 s, EUR
    tally = Tally([spec])
    for at, value in ((90.0, "5"), (99.0, "7"), (100.0, counters.UNKNOWN), (101.0, "3")):
        tally.add(HistoryEvent("t1", "bot", "billing.refund", "pay", at, (("spend_eur", value),)))
    probe = {"amount": 1, "currency": "EUR"}
    assert tally.values(tool=PAY, args=probe, now=129.5, key=KEY) == []  # 100 in the window: unknown
    assert tally.values(tool=PAY, args=probe, now=130.0, key=KEY) == [("spend_eur", 4)]
