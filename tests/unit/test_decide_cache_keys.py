"""The decision cache keys on what Cedar sees of the flow facts, never on more (issue 15, ADR 0025
§1 "Cache"): the task's count of outputs read and the names of their tools, an argument's source
tools, or a fact no policy of the action reads change with every output and would make every
decision miss; two calls with the same Cedar view share one outcome, and a cached decision is
always the one an uncached engine makes."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from importlib import resources
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.flow.model import ArgOrigin, FlowFacts, Origin, Provenance, Sensitivity, TaskLabels
from proctor.policy.engine import PolicyEngine
from proctor.policy.loader import compile_policies
from proctor.store.base import AgentRecord, TaskRecord, ToolRecord
from proctor.types import AgentName, AgentStatus, Email, SpiffeId, TaskId, TaskState, ToolName, Verdict

NOW = 1_767_225_600.0
PAY_SCHEMA = {
    "type": "object",
    "properties": {"amount": {"type": "number"}, "iban": {"type": "string"}, "memo": {"type": "string"}},
    "required": ["amount", "iban"],
}
#: reads the task's flow attributes, the provenance and the arguments of a payment
FLOW = """
@id("pay")
permit (principal, action == Proctor::Action::"billing.send_money", resource)
when { !context.args.amount.greaterThan(decimal("1000.0")) };

@id("hold-untrusted-iban")
forbid (principal, action in Proctor::Action::"pay", resource)
when { context.provenance.destination_untrusted && context.task.read_untrusted };

@id("no-secret-pay")
forbid (principal, action == Proctor::Action::"billing.send_money", resource)
when { context.task.sensitivity_level >= 3 };
"""
#: reads neither the task's flow attributes nor the provenance
PLAIN = """
@id("pay")
permit (principal, action == Proctor::Action::"billing.send_money", resource)
when { !context.args.amount.greaterThan(decimal("1000.0")) };
"""


def schema_text() -> str:
    return (resources.files("proctor") / "starter" / "schema.cedarschema").read_text()


def pay_tool() -> ToolRecord:
    return ToolRecord(
        ToolName("billing.send_money"),
        "pay",
        resource_arg="-",
        financial=True,
        input_schema=json.dumps(PAY_SCHEMA, sort_keys=True),
        version=1,
    )


def agent() -> AgentRecord:
    n = AgentName("bot")
    return AgentRecord(
        n,
        SpiffeId(f"spiffe://acme.test/agent/{n}"),
        Email("o@acme.test"),
        AgentStatus.ACTIVE,
        (),
        NOW,
        NOW,
        1,
    )


def task() -> TaskRecord:
    return TaskRecord(
        TaskId("tsk_AAAAAAAAAAAAAAAAAAAAAA"),
        AgentName("bot"),
        "pay the invoice",
        ("*",),
        (),
        Email("r@acme.test"),
        TaskState.ACTIVE,
        NOW - 1,
        NOW + 600,
    )


def engine(policies: str, *, cache: bool = True) -> PolicyEngine:
    ps = compile_policies({"p.cedar": policies}, schema_text(), tools=(pay_tool(),))
    return PolicyEngine(ps, cache=cache)


def args(amount: float = 10.0) -> dict[str, Any]:
    return {"amount": amount, "iban": "DE89370400440532013000"}


def facts(outputs: int, sources: tuple[str, ...], origin: Origin = Origin.UNTRUSTED) -> FlowFacts:
    return FlowFacts(
        task=TaskLabels(
            read_untrusted=True,
            max_sensitivity=Sensitivity.CONFIDENTIAL,
            untrusted_sources=sources,
            outputs=outputs,
        ),
        provenance=Provenance(True, (ArgOrigin("iban", origin, sources, True),)),
    )


def test_the_count_of_outputs_read_and_their_tools_are_not_in_the_key() -> None:
    """Every output raises the task's count of outputs (and may add a source tool): Cedar never
    sees them, so the next call with the same view is a cache hit."""
    eng = engine(FLOW)
    first = eng.decide(agent(), task(), pay_tool(), args(), NOW, facts(1, ("mail.read",)))
    assert first.verdict is Verdict.DENY
    assert first.policies == ("hold-untrusted-iban",)
    again = eng.decide(agent(), task(), pay_tool(), args(), NOW, facts(7, ("mail.read", "web.fetch")))
    assert again.cached
    assert (again.verdict, again.policies, again.reasons) == (first.verdict, first.policies, first.reasons)
    # what Cedar sees still keys it: the argument's origin, the task's sensitivity
    trusted = eng.decide(agent(), task(), pay_tool(), args(), NOW, facts(1, ("m",), Origin.TRUSTED))
    assert trusted.allowed
    assert not trusted.cached
    secret = FlowFacts(task=TaskLabels(max_sensitivity=Sensitivity.SECRET))
    d = eng.decide(agent(), task(), pay_tool(), args(), NOW, secret)
    assert d.policies == ("no-secret-pay",)
    assert not d.cached


ORIGINS = st.sampled_from(list(Origin))
TOOLS = st.lists(st.sampled_from(["mail.read", "web.fetch", "docs.read"]), max_size=3, unique=True)


@settings(max_examples=120, deadline=None)
@given(
    policies=st.sampled_from([FLOW, PLAIN]),
    calls=st.lists(
        st.tuples(
            st.sampled_from([10.0, 999.5, 1000.0, 2500.25]),  # amount
            st.booleans(),  # read_untrusted
            st.sampled_from(list(Sensitivity)),
            st.integers(min_value=0, max_value=50),  # outputs read: never seen by Cedar
            TOOLS,  # untrusted sources, source tools: never seen by Cedar
            ORIGINS,
            st.booleans(),  # destination
        ),
        min_size=1,
        max_size=20,
    ),
)
def test_a_cached_decision_equals_an_uncached_one_and_an_equal_view_hits(
    policies: str, calls: list[tuple[float, bool, Sensitivity, int, list[str], Origin, bool]]
) -> None:
    cached = engine(policies)
    fresh = engine(policies, cache=False)
    views: set[tuple[Any, ...]] = set()
    for amount, untrusted, sens, outputs, tools, origin, dest in calls:
        f = FlowFacts(
            task=TaskLabels(untrusted, sens, tuple(sorted(tools)), outputs),
            provenance=Provenance(True, (ArgOrigin("iban", origin, tuple(tools), dest),)),
            history=(("spend", Decimal(outputs)),),  # no policy reads it
        )
        x = cached.decide(agent(), task(), pay_tool(), args(amount), NOW, f)
        y = fresh.decide(agent(), task(), pay_tool(), args(amount), NOW, f)
        assert (x.verdict, x.policies, x.reasons, x.shadow) == (y.verdict, y.policies, y.reasons, y.shadow)
        # what Cedar can see of this call (a superset: equal views decide alike)
        view = (amount, untrusted, sens, origin, dest)
        if view in views:
            assert x.cached
        views.add(view)


# only the policies whose action scope can match are evaluated ------------------------------------
SCOPES = [
    "action",
    'action == Proctor::Action::"pay"',
    'action in Proctor::Action::"pay"',
    'action in [Proctor::Action::"send", Proctor::Action::"pay"]',
    'action == Proctor::Action::"billing.send_money"',
    'action in [Proctor::Action::"billing.send_money", Proctor::Action::"read"]',
    'action == Proctor::Action::"read"',
    'action in Proctor::Action::"send"',
]
CONDITIONS = [
    "true",
    'context.args.amount.greaterThan(decimal("500.0"))',  # only valid on the tool's own action
    "context.task.read_untrusted",
    "context.provenance.destination_untrusted",
    'action in Proctor::Action::"pay"',
]


@settings(max_examples=60, deadline=None)
@given(
    policies=st.lists(
        st.tuples(
            st.sampled_from(["permit", "forbid", "approval", "shadow"]),
            st.sampled_from(SCOPES),
            st.sampled_from(CONDITIONS),
        ),
        min_size=1,
        max_size=8,
    ),
    calls=st.lists(st.tuples(st.sampled_from([10.0, 900.0]), st.booleans(), st.booleans()), max_size=6),
)
def test_evaluating_the_policies_an_action_can_match_decides_as_the_whole_set(
    policies: list[tuple[str, str, str]], calls: list[tuple[float, bool, bool]]
) -> None:
    text = []
    for i, (kind, scope, cond) in enumerate(policies):
        # the effect actions have no arguments (validation refuses reading them there)
        when = "true" if "context.args" in cond and scope != SCOPES[4] else cond
        effect = "forbid" if kind == "forbid" else "permit"
        ann = {"approval": '@approval("owner")\n', "shadow": "@shadow\n"}.get(kind, "")
        text.append(
            f'@id("p{i}")\n{ann}{effect} (principal, {scope}, resource is Proctor::Tool) when {{ {when} }};'
        )
    ps = compile_policies({"p.cedar": "\n".join(text)}, schema_text(), tools=(pay_tool(),))
    subset = PolicyEngine(ps, cache=False)
    whole = PolicyEngine(dataclasses.replace(ps, bodies={}, _memo={}), cache=False)
    read = ToolRecord(ToolName("fs.read"), "read", resource_arg="path")
    for amount, untrusted, dest in calls:
        f = FlowFacts(
            task=TaskLabels(read_untrusted=untrusted),
            provenance=Provenance(True, (ArgOrigin("iban", Origin.UNTRUSTED, ("m",), dest),)),
        )
        for tool, a in ((pay_tool(), args(amount)), (read, {"path": "/a"})):
            x = subset.decide(agent(), task(), tool, a, NOW, f)
            y = whole.decide(agent(), task(), tool, a, NOW, f)
            assert (x.verdict, x.policies, x.reasons, x.errors, x.shadow) == (
                y.verdict,
                y.policies,
                y.reasons,
                y.errors,
                y.shadow,
            )
