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

from proctor.flow.counters import parse_counters
from proctor.flow.model import FlowFacts
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


#: a tool with a Long, a decimal, a string and a nested record argument, all required
MIXED = ToolRecord(
    ToolName("billing.send_money"),
    "pay",
    resource_arg="-",
    financial=True,
    input_schema=json.dumps(
        {
            "type": "object",
            "properties": {
                "n": {"type": "integer"},
                "m": {"type": "integer"},
                "amount": {"type": "number"},
                "s": {"type": "string"},
                "rec": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]},
            },
            "required": ["n", "m", "amount", "s", "rec"],
        },
        sort_keys=True,
    ),
    version=1,
)
_LONGS = st.sampled_from([-5, -1, 0, 1, 2, 5, 1000, 2**63 - 1, -(2**63)])
_DECS = st.sampled_from(["0.0", "1.0", "1.5", "-1.0", "1000.0", "1000.00", "2.5001", "-0.0001"])
_LONG_FIELD = st.sampled_from(
    ["context.args.n", "context.args.m", 'context["args"]["n"]', 'context.args["n"]', "context.args.rec.x"]
)
_CMP = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
_METHOD = st.sampled_from(["lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual"])
_LONG_ATOM = st.one_of(
    st.builds(lambda f, op, c: f"{f} {op} {c}", _LONG_FIELD, _CMP, _LONGS),
    st.builds(lambda f, op, c: f"{c} {op} {f}", _LONG_FIELD, _CMP, _LONGS),
)
_DEC_ATOM = st.one_of(
    st.builds(lambda m, d: f'context.args.amount.{m}(decimal("{d}"))', _METHOD, _DECS),
    st.builds(lambda m, d: f'decimal("{d}").{m}(context.args.amount)', _METHOD, _DECS),
)
#: the same fields used otherwise: each keeps the field keyed on its value
_OTHER_ATOM = st.one_of(
    st.builds(lambda f, c: f"{f} * 2 > {c}", _LONG_FIELD, st.integers(-3, 12)),
    st.builds(lambda f, c: f"-{f} < {c}", _LONG_FIELD, st.integers(-3, 12)),
    st.builds(lambda f, c: f"[{c}, 7].contains({f})", _LONG_FIELD, st.integers(-3, 12)),
    st.builds(lambda f, g: f"{f} == {g}", _LONG_FIELD, _LONG_FIELD),
    st.sampled_from(
        [
            "context.args has n",
            'context.args.s like "1*"',
            'context.args.s == "context.args.n > 1 // x"',
            'context.args.rec == {"x": 3}',
            'context.args.amount == decimal("1.5")',
        ]
    ),
)
_ATOM = st.one_of(
    _LONG_ATOM,
    _DEC_ATOM,
    _OTHER_ATOM,
    st.builds(lambda c, t, e: f"(if {c} then {t} else {e})", _LONG_ATOM, _DEC_ATOM, _LONG_ATOM),
)
_COND = st.recursive(
    _ATOM,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a} && {b})", inner, inner),
        st.builds(lambda a, b: f"({a} || {b})", inner, inner),
        st.builds(lambda a: f"!({a})", inner),
    ),
    max_leaves=4,
)
_POLICY = st.tuples(
    st.sampled_from(["permit", "forbid"]), st.sampled_from(["when", "unless"]), st.booleans(), _COND
)
_CALL = st.fixed_dictionaries(
    {
        "n": st.one_of(st.integers(-3, 12), _LONGS, st.integers(-8, 1005)),
        "m": st.one_of(st.integers(-3, 12), _LONGS),
        "amount": st.one_of(
            st.sampled_from([0, 1, 1.5, 2, 1000, 1000.0, 999.9999, 1000.0001, -0.0001, 2.5001, 2.5]),
            st.decimals(min_value=-3, max_value=1003, places=4, allow_nan=False).map(float),
        ),
        "s": st.sampled_from(["1x", "abc", "context.args.n", "2.5", "1.0"]),
        "rec": st.fixed_dictionaries({"x": st.one_of(st.integers(-3, 12), _LONGS)}),
    }
)


@settings(max_examples=100, deadline=None)
@given(st.booleans(), st.lists(_POLICY, min_size=1, max_size=4), st.lists(_CALL, min_size=2, max_size=16))
def test_any_set_decides_by_thresholds_as_without_them(
    permit_all: bool, policies: list[tuple[str, str, bool, str]], calls: list[dict[str, Any]]
) -> None:
    """Random sets from a grammar of comparisons (either side, negative and boundary constants,
    decimals of different scales, ``context["args"]["n"]``), other uses of the same fields
    (arithmetic, ``contains``, another field, ``if``, ``has``, a string holding policy text),
    ``unless`` and @shadow policies: the engine keyed by thresholds answers every call as one
    without any cache — decision, policies, reasons, errors and shadow outcome."""
    text = PERMIT_ALL if permit_all else ""
    for i, (effect, clause, shadow, cond) in enumerate(policies):
        text += "@shadow\n" if shadow else ""
        text += (
            f'@id("p{i}")\n{effect} (principal, action == Proctor::Action::"billing.send_money", resource)'
        )
        text += f" {clause} {{ {cond} }};\n"
    ps = compile_policies({"p.cedar": text}, schema_text(), tools=(MIXED,))
    eng, uncached = PolicyEngine(ps, by_thresholds=True), PolicyEngine(ps, cache=False)
    for args in calls:
        d = eng.decide(agent(), task(), MIXED, args, NOW)
        ref = uncached.decide(agent(), task(), MIXED, args, NOW)
        assert (d.verdict, d.policies, d.reasons, d.errors, d.shadow) == (
            ref.verdict,
            ref.policies,
            ref.reasons,
            ref.errors,
            ref.shadow,
        ), (text, args)


_HIST_COUNTERS = parse_counters(
    """\
counters:
  spent: {kind: sum, arg: amount, match: {tools: ["billing.*"]}}
  payments: {kind: count, match: {tools: ["*"]}}
  been: {kind: seen, match: {tools: ["*"]}}
"""
)
_HIST_DECS = st.sampled_from(["150.0", "150.00", "1.0", "-1.0"])
_HIST_ATOM = st.one_of(
    st.builds(lambda op, c: f"context.history.payments {op} {c}", _CMP, st.integers(-1, 6)),
    st.builds(lambda op, c: f"{c} {op} context.history.payments", _CMP, st.integers(-1, 6)),
    st.builds(
        lambda m, d: f'(context.history has spent && context.history.spent.{m}(decimal("{d}")))',
        _METHOD,
        _HIST_DECS,
    ),
    st.builds(lambda op, c: f"context.args.n {op} {c}", _CMP, st.integers(-1, 6)),
    st.sampled_from(
        [
            "context.history.been",
            "context.history has spent",
            "context.history.payments == context.args.n",
            "context.history.payments + 1 > 4",
            "(if context.history.been then context.history.payments > 2 else context.args.n < 3)",
        ]
    ),
)
_HIST_COND = st.recursive(
    _HIST_ATOM,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a} && {b})", inner, inner),
        st.builds(lambda a, b: f"({a} || {b})", inner, inner),
        st.builds(lambda a: f"!({a})", inner),
    ),
    max_leaves=4,
)
#: what a call holds besides the sum: two of these per example, so calls differ mostly in the sum
_HIST_BASE = st.tuples(
    st.fixed_dictionaries(
        {
            "n": st.sampled_from([-1, 2, 5]),
            "m": st.just(0),
            "amount": st.sampled_from([1, 1.5]),
            "s": st.just("x"),
            "rec": st.just({"x": 1}),
        }
    ),
    st.sampled_from([0, 2, 3, 7]),
    st.booleans(),
)
_HIST_CALL = st.tuples(
    st.integers(0, 1),
    st.one_of(
        st.none(),
        st.sampled_from([D("0"), D("1"), D("150"), D("150.0001"), D("149.99995"), D("-3")]),
        st.decimals(min_value=0, max_value=300, places=3, allow_nan=False),
    ),
)


@settings(max_examples=60, deadline=None)
@given(
    st.booleans(),
    st.lists(
        st.tuples(st.sampled_from(["permit", "forbid"]), st.booleans(), _HIST_COND), min_size=1, max_size=4
    ),
    st.lists(_HIST_BASE, min_size=2, max_size=2),
    st.lists(_HIST_CALL, min_size=2, max_size=16),
)
def test_any_set_decides_on_history_by_thresholds_as_without_them(
    permit_all: bool,
    policies: list[tuple[str, bool, str]],
    bases: list[tuple[Any, ...]],
    calls: list[tuple[Any, ...]],
) -> None:
    """History counters of each kind (a Long count, a decimal sum that may be absent, a Bool),
    compared with constants or used otherwise, next to an argument: the engine keyed by
    thresholds answers each call as one without any cache."""
    text = PERMIT_ALL if permit_all else ""
    for i, (effect, shadow, cond) in enumerate(policies):
        text += "@shadow\n" if shadow else ""
        text += (
            f'@id("p{i}")\n{effect} (principal, action == Proctor::Action::"billing.send_money", resource)'
        )
        text += f" when {{ {cond} }};\n"
    ps = compile_policies({"p.cedar": text}, schema_text(), tools=(MIXED,), counters=_HIST_COUNTERS)
    eng, uncached = PolicyEngine(ps, by_thresholds=True), PolicyEngine(ps, cache=False)
    for base, spent in calls:
        args, payments, been = bases[base]
        hist: dict[str, Any] = {"payments": payments, "been": been}
        if spent is not None:
            hist["spent"] = spent
        facts = FlowFacts(history=tuple(sorted(hist.items())))
        d = eng.decide(agent(), task(), MIXED, args, NOW, facts)
        ref = uncached.decide(agent(), task(), MIXED, args, NOW, facts)
        assert (d.verdict, d.policies, d.reasons, d.errors, d.shadow) == (
            ref.verdict,
            ref.policies,
            ref.reasons,
            ref.errors,
            ref.shadow,
        ), (text, args, hist)
