"""Outcomes keyed by thresholds (``proctor.policy.thresholds``, the engines of ``proctor replay``): a
number every policy only compares with constants is keyed on the results of those comparisons, so
payments of different amounts share an outcome; any other use keeps it keyed on its value, and a
shared outcome is always the one an uncached engine decides."""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import cedarpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.test_decide_cache_keys import agent, pay_tool, schema_text, task
from tests.unit.test_flow_replay import LEGIT, TASK, TOOLS, policy_dir

from proctor.flow.replay import policies_for, replay
from proctor.flow.trace import parse_trace
from proctor.policy.engine import PolicyEngine
from proctor.policy.loader import compile_policies
from proctor.policy.thresholds import abstract, thresholds
from proctor.store.base import ToolRecord
from proctor.types import ToolName, Verdict

NOW = 1_767_225_600.0
PERMIT_ALL = '@id("all")\npermit (principal, action, resource);\n'
LIMITS = (
    PERMIT_ALL
    + """
@id("big")
forbid (principal, action == Proctor::Action::"billing.send_money", resource)
when { context.args.amount.greaterThan(decimal("1000.0")) };

@id("exactly-1000")
forbid (principal, action == Proctor::Action::"billing.send_money", resource)
when { decimal("1000.0").lessThanOrEqual(context.args.amount) && context.args.amount.lessThanOrEqual(decimal("1000.0")) };
"""
)
TICKETS = ToolRecord(
    ToolName("tickets.buy"),
    "pay",
    resource_arg="-",
    input_schema=json.dumps(
        {"type": "object", "properties": {"count": {"type": "integer"}}, "required": ["count"]},
        sort_keys=True,
    ),
)
COUNTERS = """\
counters:
  spent:
    kind: sum
    arg: amount
    match: {tools: ["billing.*"]}
  payments:
    kind: count
    match: {tools: ["billing.*"]}
"""
CAPS = (
    PERMIT_ALL
    + """
@id("spend-cap")
forbid (principal, action in Proctor::Action::"pay", resource)
when { context.history.spent.greaterThan(decimal("150.0")) };

@id("third-payment")
forbid (principal, action in Proctor::Action::"pay", resource)
when { context.history.payments >= 3 };
"""
)


def engines(policies: str, *tools: ToolRecord) -> tuple[PolicyEngine, PolicyEngine]:
    """The set as replay decides with it (outcomes by thresholds) and without any cache."""
    ps = compile_policies({"p.cedar": policies}, schema_text(), tools=tools or (pay_tool(),))
    return PolicyEngine(ps, by_thresholds=True), PolicyEngine(ps, cache=False)


def pay(amount: Any) -> dict[str, Any]:
    return {"amount": amount, "iban": LEGIT}


def test_amounts_on_one_side_of_every_threshold_share_an_outcome() -> None:
    eng, uncached = engines(LIMITS)
    got = []
    for amount in (500, 700, 999.9999, 1000, 1000.0, 1000.0001, 1500, 2_000_000):
        d = eng.decide(agent(), task(), pay_tool(), pay(amount), NOW)
        ref = uncached.decide(agent(), task(), pay_tool(), pay(amount), NOW)
        assert (d.verdict, d.policies, d.reasons) == (ref.verdict, ref.policies, ref.reasons), amount
        got.append((amount, d.verdict.value, d.policies, d.cached))
    assert got == [
        (500, "allow", ("all",), False),
        (700, "allow", ("all",), True),  # below 1000 as 500 is: no policy can tell them apart
        (999.9999, "allow", ("all",), True),
        (1000, "deny", ("exactly-1000",), False),  # equal to a constant: a key of its own
        (1000.0, "deny", ("exactly-1000",), True),
        (1000.0001, "deny", ("big",), False),
        (1500, "deny", ("big",), True),
        (2_000_000, "deny", ("big",), True),
    ]


def test_a_number_used_otherwise_is_keyed_on_its_value() -> None:
    """``count * 2 > 10`` is no comparison of the field with a constant: were ``count`` keyed by
    its only plain comparison (``< 100``), 7 would be served the outcome of 3."""
    eng, _ = engines(
        PERMIT_ALL
        + '@id("many")\nforbid (principal, action == Proctor::Action::"tickets.buy", resource)\n'
        + "when { context.args.count * 2 > 10 && context.args.count < 100 };\n",
        TICKETS,
    )
    first = eng.decide(agent(), task(), TICKETS, {"count": 3}, NOW)
    second = eng.decide(agent(), task(), TICKETS, {"count": 7}, NOW)
    assert (first.verdict, second.verdict, second.policies) == (Verdict.ALLOW, Verdict.DENY, ("many",))
    assert not second.cached
    assert eng.decide(agent(), task(), TICKETS, {"count": 3}, NOW).cached


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(-3, 3000),
            st.decimals(min_value=-10, max_value=3000, places=4, allow_nan=False).map(float),
            st.sampled_from([1000, 1000.0, 999.9999, 1000.0001, 0, -0.0001]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_a_shared_outcome_is_the_uncached_one(amounts: list[Any]) -> None:
    eng, uncached = engines(LIMITS)
    for amount in amounts:
        d = eng.decide(agent(), task(), pay_tool(), pay(amount), NOW)
        ref = uncached.decide(agent(), task(), pay_tool(), pay(amount), NOW)
        assert (d.verdict, d.policies, d.reasons, d.errors) == (
            ref.verdict,
            ref.policies,
            ref.reasons,
            ref.errors,
        )


def test_running_totals_and_counts_decide_as_without_a_cache() -> None:
    """History values (a decimal sum, a Long count) keyed by thresholds: the replay's decisions
    are those of a replay without any cache, call by call."""
    amounts = [40, 50, 60.5, 0.5, 10, 70]
    lines: list[dict[str, Any]] = [*TOOLS, TASK]
    lines += [
        {"type": "call", "id": str(i), "tool": "billing.send_money", "args": pay(a), "at": i}
        for i, a in enumerate(amounts)
    ]
    trace = parse_trace("".join(json.dumps(x) + "\n" for x in lines), "caps.jsonl")
    with tempfile.TemporaryDirectory() as tmp:
        d = policy_dir(Path(tmp), "caps", CAPS, COUNTERS)
        ps = policies_for(d, [trace])
        got = [(c.call, c.decision, c.policies) for c in replay([trace], ps).calls]
        ref = [(c.call, c.decision, c.policies) for c in replay([trace], ps, cache=False).calls]
    assert got == ref
    # 40, 90 allowed; the third payment is denied whatever its amount, and is not counted
    assert [(call, decision) for call, decision, _ in got] == [
        ("0", "allow"),
        ("1", "allow"),
        ("2", "deny"),
        ("3", "deny"),
        ("4", "deny"),
        ("5", "deny"),
    ]


def _bodies(text: str) -> dict[str, Any]:
    return {
        "p": json.loads(
            cedarpy.policies_to_json_str(f"forbid (principal, action, resource) when {{ {text} }};")
        )
    }


D = Decimal


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (
            'context.args.amount.greaterThan(decimal("1000.0"))',
            {("args", "amount"): ("decimal", (D("1000.0"),))},
        ),
        ('decimal("5.5").lessThan(context.args.amount)', {("args", "amount"): ("decimal", (D("5.5"),))}),
        ("context.history.n <= 20 && 3 < context.history.n", {("history", "n"): ("long", (3, 20))}),
        (
            "context.history has n && context.history.n != 2 && context.provenance.checked",
            {("history", "n"): ("long", (2,))},
        ),
        ("context.args.count * 2 > 10 && context.args.count < 100", {}),
        ('context.args.amount.greaterThan(decimal("1.0")) && context.args.amount > 3', {}),
        ("context.args.amount.greaterThan(context.args.limit)", {}),
        ('context.args.tags.contains("x") && context.args.n > 1', {("args", "n"): ("long", (1,))}),
        ('context.history.n > 1 && context.history == {"n": 2}', {}),
        ('context.args.n == 1 && context.args.n == "one"', {}),
        ('context.args.amount.greaterThan(decimal("1.00001"))', {}),  # not a decimal Cedar reads
        ("context.args.n > 1 && context.isEmpty()", {}),  # the whole context as a value
    ],
)
def test_which_fields_are_keyed_by_thresholds(condition: str, expected: dict[Any, Any]) -> None:
    assert thresholds(_bodies(condition)) == expected


def test_a_value_of_another_type_or_out_of_range_is_keyed_on_itself() -> None:
    dec = ("decimal", (D("1000.0"),))
    assert abstract({"__extn": {"fn": "decimal", "arg": "12.5"}}, dec) == ("decimal", (-1,))
    assert abstract({"__extn": {"fn": "decimal", "arg": "1000.0000"}}, dec) == ("decimal", (0,))
    # 15 integer digits may be out of Cedar's range: never shared
    big = {"__extn": {"fn": "decimal", "arg": "999999999999999.0"}}
    assert abstract(big, dec)[0] == "="
    assert abstract(5, dec)[0] == "="
    assert abstract(True, ("long", (1,)))[0] == "="  # a Bool is not a Long
    assert abstract(2**63, ("long", (1,)))[0] == "="
    assert abstract(7, ("long", (1, 7, 9))) == ("long", (1, 0, -1))
    assert abstract(7, None) != abstract(8, None)
