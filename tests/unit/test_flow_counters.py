"""Declared counters (proctor.flow.counters): counters.yaml parsing with clear errors, the events
recorded for allowed calls (values as Decimal text or keyed fingerprints, never in clear), and the
values each kind gives the call being decided (ADR 0025 §4), by scope and window."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from proctor.errors import PolicyLoadError, ValidationError
from proctor.flow.counters import (
    CounterSpec,
    HistoryEvent,
    evaluate,
    event_for,
    keyed_fingerprint,
    load_counters,
    parse_counters,
)
from proctor.store.base import ToolRecord
from proctor.types import ToolName

KEY = b"k" * 32
PAY = ToolRecord(name=ToolName("billing.send_money"), effect="pay")
REFUND = ToolRecord(name=ToolName("billing.refund"), effect="pay")
MAIL = ToolRecord(name=ToolName("mail.send"), effect="send")
READ = ToolRecord(name=ToolName("mail.read"), effect="read")
YAML = """\
counters:
  spend_today:
    kind: sum
    arg: amount
    match: {effects: [pay], tools: ["billing.*"]}
    scope: agent
    window: 1d
  payments: {kind: count, match: {effects: [pay]}}
  read_mail: {kind: seen, match: {tools: [mail.read]}}
  new_payee: {kind: first_time, arg: iban, match: {effects: [pay]}, scope: agent}
  new_recipient: {kind: first_time, arg: "to[]", match: {tools: [mail.send]}}
"""


Call = tuple[ToolRecord, dict[str, Any], float, str, str]


@pytest.fixture
def specs() -> tuple[CounterSpec, ...]:
    return parse_counters(YAML)


def run(
    specs: tuple[CounterSpec, ...],
    calls: list[Call],
    tool: ToolRecord,
    args: dict[str, Any],
    *,
    now: float,
    task: str = "t1",
    agent: str = "bot",
) -> dict[str, Any]:
    """Record ``calls`` (tool, args, at, task, agent) as allowed events, then evaluate one call."""
    events = [
        ev
        for t, a, at, tk, ag in calls
        if (ev := event_for(specs, task_id=tk, agent=ag, tool=t, args=a, at=at, key=KEY)) is not None
    ]
    return dict(evaluate(specs, events, task_id=task, agent=agent, tool=tool, args=args, now=now, key=KEY))


def test_parse_reads_every_field(specs: tuple[CounterSpec, ...]) -> None:
    by = {s.name: s for s in specs}
    assert [s.name for s in specs] == sorted(by)
    assert by["spend_today"] == CounterSpec(
        name="spend_today",
        kind="sum",
        arg="amount",
        tools=("billing.*",),
        effects=("pay",),
        scope="agent",
        window_s=86400.0,
    )
    assert by["payments"].scope == "task"
    assert by["payments"].window_s is None
    assert by["new_recipient"].arg == "to[]"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "counters:\n  spend-today: {kind: count, match: {effects: [pay]}}\n",
            "counter name `spend-today` is not a Cedar identifier",
        ),
        (
            "counters:\n  if: {kind: count, match: {effects: [pay]}}\n",
            "counter name `if` is not a Cedar identifier",
        ),
        (
            "counters:\n  __cedar_x: {kind: count, match: {effects: [pay]}}\n",
            "counter name `__cedar_x` is not",
        ),
        ("counters:\n  x: {kind: total, match: {effects: [pay]}}\n", "counter `x`: kind must be one of"),
        ("counters:\n  x: {kind: sum, match: {effects: [pay]}}\n", "counter `x`: kind sum needs `arg`"),
        (
            "counters:\n  x: {kind: first_time, match: {effects: [pay]}}\n",
            "counter `x`: kind first_time needs `arg`",
        ),
        (
            "counters:\n  x: {kind: count, arg: a, match: {effects: [pay]}}\n",
            "counter `x`: kind count reads no argument",
        ),
        ("counters:\n  x: {kind: count}\n", "counter `x`: match must name"),
        ("counters:\n  x: {kind: count, match: {tool: [a]}}\n", "counter `x`: unknown key `match.tool`"),
        (
            "counters:\n  x: {kind: count, match: {effects: [pay]}, scop: task}\n",
            "counter `x`: unknown key `scop`",
        ),
        (
            "counters:\n  x: {kind: count, match: {effects: [pay]}, scope: world}\n",
            "counter `x`: scope must be task or agent",
        ),
        (
            "counters:\n  x: {kind: count, match: {effects: [pay]}, window: 1 day}\n",
            "counter `x`: invalid window `1 day`",
        ),
        (
            "counters:\n  x: {kind: count, match: {effects: [pay]}, window: -5}\n",
            "counter `x`: invalid window",
        ),
        ("counters:\n  x: {kind: count, match: {effects: pay, tools: [1]}}\n", "counter `x`: match.tools"),
        ("counter:\n  x: {}\n", "unknown key `counter`"),
        ("counters: [a, b]\n", "`counters` must map counter names"),
        ("counters: {x: [1\n", "not valid YAML"),
    ],
)
def test_parse_errors_name_the_file_and_counter(text: str, message: str) -> None:
    with pytest.raises(PolicyLoadError) as err:
        parse_counters(text, "policies/counters.yaml")
    assert err.value.message.startswith("policies/counters.yaml: ")
    assert message in err.value.message


def test_parse_empty_and_load_from_a_directory(tmp_path: Path) -> None:
    assert parse_counters("") == ()
    assert parse_counters("counters:\n") == ()
    assert load_counters(tmp_path) == ()
    (tmp_path / "counters.yaml").write_text(YAML)
    assert [s.name for s in load_counters(tmp_path)] == [
        "new_payee",
        "new_recipient",
        "payments",
        "read_mail",
        "spend_today",
    ]
    (tmp_path / "counters.yaml").write_text("#" * (300 << 10))
    with pytest.raises(PolicyLoadError, match="larger than"):
        load_counters(tmp_path)


def test_event_for_keeps_no_value_in_clear(specs: tuple[CounterSpec, ...]) -> None:
    ev = event_for(
        specs,
        task_id="t1",
        agent="bot",
        tool=PAY,
        args={"amount": "1,500.00", "iban": "DE89 3704 0044 0532 0130 00"},
        at=5.0,
        key=KEY,
    )
    assert ev is not None
    values = dict(ev.values)
    assert values["spend_today"] == "1500.00"
    assert values["new_payee"] == keyed_fingerprint(KEY, "de89370400440532013000")
    assert "3704" not in repr(ev)
    assert keyed_fingerprint(KEY, "DE89370400440532013000") == keyed_fingerprint(
        KEY, "de89 3704 0044 0532 0130 00"
    )
    assert keyed_fingerprint(b"other", "DE89370400440532013000") != values["new_payee"]
    assert (ev.task_id, ev.agent, ev.tool, ev.effect, ev.at) == (
        "t1",
        "bot",
        "billing.send_money",
        "pay",
        5.0,
    )


def test_event_for_is_none_when_no_counter_matches(specs: tuple[CounterSpec, ...]) -> None:
    other = ToolRecord(name=ToolName("fs.write"), effect="write")
    assert event_for(specs, task_id="t1", agent="bot", tool=other, args={}, at=1.0, key=KEY) is None
    assert event_for((), task_id="t1", agent="bot", tool=PAY, args={}, at=1.0, key=KEY) is None


def test_count_includes_this_call_and_only_matching_calls(specs: tuple[CounterSpec, ...]) -> None:
    calls: list[Call] = [
        (PAY, {"amount": 1}, 1.0, "t1", "bot"),
        (MAIL, {"to": ["a@x.example"]}, 2.0, "t1", "bot"),
    ]
    assert run(specs, calls, PAY, {"amount": 1}, now=3.0)["payments"] == 2
    assert run(specs, calls, MAIL, {"to": []}, now=3.0)["payments"] == 1  # this call does not match
    assert run(specs, [], PAY, {"amount": 1}, now=3.0)["payments"] == 1


def test_count_scope_task_ignores_other_tasks(specs: tuple[CounterSpec, ...]) -> None:
    calls: list[Call] = [(PAY, {"amount": 1}, 1.0, "t2", "bot"), (PAY, {"amount": 1}, 2.0, "t3", "other")]
    assert run(specs, calls, PAY, {"amount": 1}, now=3.0)["payments"] == 1
    assert run(specs, calls, PAY, {"amount": 1}, now=3.0, task="t2")["payments"] == 2


def test_sum_adds_this_calls_value_across_the_agents_tasks_in_the_window(
    specs: tuple[CounterSpec, ...],
) -> None:
    day = 86400.0
    calls: list[Call] = [
        (PAY, {"amount": 100}, 10.0, "t0", "bot"),  # out of the window at now
        (PAY, {"amount": "1,500.00"}, day, "t1", "bot"),
        (REFUND, {"amount": 20.5}, day + 5, "t2", "bot"),  # another task, same agent
        (PAY, {"amount": 999}, day + 6, "t3", "other"),  # another agent
    ]
    got = run(specs, calls, PAY, {"amount": Decimal("0.25")}, now=day + 10)
    assert got["spend_today"] == Decimal("1520.75")
    # a call that does not match adds nothing of its own
    assert run(specs, calls, MAIL, {"to": []}, now=day + 10)["spend_today"] == Decimal("1520.5")


def test_window_is_relative_to_now_and_excludes_future_events(specs: tuple[CounterSpec, ...]) -> None:
    calls: list[Call] = [
        (PAY, {"amount": 5}, 100.0, "t1", "bot"),
        (PAY, {"amount": 7}, 100.0 + 86400, "t1", "bot"),
    ]
    assert run(specs, calls, PAY, {"amount": 1}, now=100.0 + 86399)["spend_today"] == Decimal(6)
    assert run(specs, calls, PAY, {"amount": 1}, now=100.0 + 86400)["spend_today"] == Decimal(8)


def test_sum_of_an_unreadable_amount_fails_the_decision(specs: tuple[CounterSpec, ...]) -> None:
    with pytest.raises(ValidationError, match="counter `spend_today`: argument `amount` is not a number"):
        run(specs, [], PAY, {"amount": "lots"}, now=1.0)
    # missing: the call's total is unknown, so the counter is absent (a policy's `has` is false)
    assert "spend_today" not in run(specs, [], PAY, {}, now=1.0)


def test_seen_is_an_earlier_matching_call_not_this_one(specs: tuple[CounterSpec, ...]) -> None:
    assert run(specs, [], READ, {}, now=1.0)["read_mail"] is False
    calls: list[Call] = [(READ, {"folder": "inbox"}, 1.0, "t1", "bot")]
    assert run(specs, calls, MAIL, {"to": ["a@x.example"]}, now=2.0)["read_mail"] is True
    assert run(specs, calls, MAIL, {"to": ["a@x.example"]}, now=2.0, task="t2")["read_mail"] is False


def test_first_time_compares_normalised_values(specs: tuple[CounterSpec, ...]) -> None:
    calls: list[Call] = [(PAY, {"amount": 1, "iban": "DE89 3704 0044 0532 0130 00"}, 1.0, "t9", "bot")]
    assert (
        run(specs, calls, PAY, {"amount": 1, "iban": "de89370400440532013000"}, now=2.0)["new_payee"] is False
    )
    assert (
        run(specs, calls, PAY, {"amount": 1, "iban": "DE89370400440532013001"}, now=2.0)["new_payee"] is True
    )
    assert (
        run(specs, calls, PAY, {"amount": 1, "iban": "de89370400440532013000"}, now=2.0, agent="b2")[
            "new_payee"
        ]
        is True
    )
    assert run(specs, calls, PAY, {"amount": 1}, now=2.0)["new_payee"] is True  # unknown is new
    assert run(specs, calls, MAIL, {"to": []}, now=2.0)["new_payee"] is False  # not a matching call


def test_first_time_over_a_list_is_true_when_any_element_is_new(specs: tuple[CounterSpec, ...]) -> None:
    calls: list[Call] = [(MAIL, {"to": ["Ann@Acme.example", "bob@acme.example"]}, 1.0, "t1", "bot")]
    assert run(specs, calls, MAIL, {"to": ["ann@acme.example"]}, now=2.0)["new_recipient"] is False
    assert (
        run(specs, calls, MAIL, {"to": ["bob@acme.example", "eve@evil.example"]}, now=2.0)["new_recipient"]
        is True
    )


def test_values_are_sorted_by_name_and_typed(specs: tuple[CounterSpec, ...]) -> None:
    out = evaluate(
        specs, [], task_id="t1", agent="bot", tool=PAY, args={"amount": 3, "iban": "x"}, now=1.0, key=KEY
    )
    assert [n for n, _ in out] == sorted(n for n, _ in out)
    kinds = {n: type(v) for n, v in out}
    assert kinds == {
        "new_payee": bool,
        "new_recipient": bool,
        "payments": int,
        "read_mail": bool,
        "spend_today": Decimal,
    }


def test_an_event_recorded_before_a_counter_existed_counts_but_adds_nothing(
    specs: tuple[CounterSpec, ...],
) -> None:
    old = HistoryEvent(task_id="t1", agent="bot", tool="billing.send_money", effect="pay", at=1.0, values=())
    out = dict(
        evaluate(specs, [old], task_id="t1", agent="bot", tool=PAY, args={"amount": 2}, now=2.0, key=KEY)
    )
    assert out["payments"] == 2
    assert out["spend_today"] == Decimal(2)


# ---- currency (a sum's limits are in one unit) ----------------------------------------------------

EUR_YAML = """\
counters:
  spend: {kind: sum, arg: amount, match: {effects: [pay]}, scope: agent, window: 1d,
          currency: {arg: currency, unit: eur}}
"""
#: a pay tool whose schema takes a currency, and one whose schema has none
TAKES = ToolRecord(
    name=ToolName("billing.send_money"),
    effect="pay",
    input_schema='{"properties": {"amount": {"type": "number"}, "currency": {"type": "string"}}}',
)


def test_a_sum_declares_the_unit_of_its_limits() -> None:
    (spec,) = parse_counters(EUR_YAML)
    assert (spec.currency_arg, spec.unit) == ("currency", "EUR")
    for bad, message in (
        ("{kind: count, match: {effects: [pay]}, currency: {arg: c, unit: EUR}}", "only a sum"),
        ("{kind: sum, arg: amount, match: {effects: [pay]}, currency: {arg: c, unit: euro}}", "three-letter"),
        ("{kind: sum, arg: amount, match: {effects: [pay]}, currency: {unit: EUR}}", "currency.arg"),
        ("{kind: sum, arg: amount, match: {effects: [pay]}, currency: EUR}", "mapping"),
    ):
        with pytest.raises(PolicyLoadError, match=message):
            parse_counters(f"counters:\n  s: {bad}\n")


@pytest.mark.parametrize(
    ("tool", "args", "known"),
    [
        (TAKES, {"amount": 10, "currency": "EUR"}, True),
        (TAKES, {"amount": 10, "currency": " eur "}, True),
        (TAKES, {"amount": "€10"}, False),  # the tool takes a currency, the call names none
        (TAKES, {"amount": 10, "currency": "BTC"}, False),
        (TAKES, {"amount": 10, "currency": ""}, False),
        (TAKES, {"amount": 10, "currency": ["EUR", "BTC"]}, False),
        (TAKES, {"amount": 10, "currency": {"code": "EUR"}}, False),
        (PAY, {"amount": 10}, True),  # no currency in the tool's schema: the unit
        (PAY, {"amount": "10 EUR"}, True),
        (PAY, {"amount": "€10"}, True),
        (PAY, {"amount": "4900 BTC"}, False),  # the amount names another currency
        (PAY, {"amount": "$10"}, False),  # `$` names several currencies
        (PAY, {"amount": 10, "currency": "USD"}, False),  # the call names one all the same
    ],
)
def test_a_sum_in_another_currency_is_unknown(tool: ToolRecord, args: dict[str, Any], known: bool) -> None:
    specs = parse_counters(EUR_YAML)
    got = run(specs, [(PAY, {"amount": 5}, 1.0, "t1", "bot")], tool, args, now=2.0)
    assert got == ({"spend": Decimal(15)} if known else {})


def test_a_payment_in_another_currency_leaves_the_sum_unknown_while_in_its_window() -> None:
    specs = parse_counters(EUR_YAML)
    btc = event_for(
        specs, task_id="t1", agent="bot", tool=PAY, args={"amount": 9, "currency": "BTC"}, at=10.0, key=KEY
    )
    assert btc is not None
    assert btc.values == (("spend", "?"),)
    calls: list[Call] = [
        (PAY, {"amount": 9, "currency": "BTC"}, 10.0, "t1", "bot"),
        (PAY, {"amount": 5}, 20.0, "t1", "bot"),
    ]
    assert run(specs, calls, PAY, {"amount": 1}, now=30.0) == {}
    assert run(specs, calls, MAIL, {}, now=30.0) == {}  # known to nobody, this call's or not
    assert run(specs, calls, PAY, {"amount": 1}, now=10.0 + 86400) == {"spend": Decimal(6)}  # it left


def test_an_unreadable_or_huge_amount_is_no_amount_and_sums_stay_exact() -> None:
    specs = parse_counters(EUR_YAML)
    with pytest.raises(ValidationError):
        run(specs, [], PAY, {"amount": 10**120}, now=1.0)
    with pytest.raises(ValidationError):
        run(specs, [], PAY, {"amount": "1e-150"}, now=1.0)
    big = 10**40
    calls: list[Call] = [
        (PAY, {"amount": big}, 1.0, "t1", "bot"),
        (PAY, {"amount": "0.000001"}, 2.0, "t1", "bot"),
    ]
    # 28 digits (Decimal's default) would round the millionth away
    assert run(specs, calls, PAY, {"amount": 1}, now=3.0)["spend"] == Decimal(f"{big + 1}.000001")
