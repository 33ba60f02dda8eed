"""Decisions that see the data (ADR 0025 §1, §5): one Cedar action per tool with typed arguments,
effect-level policies still working, validation against the generated schema, the cache keyed on
what the policies read, shadow policies, and tools registered after the set was compiled."""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import cedarpy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.flow_harness import NOW, PAY_POLICIES, PAY_SCHEMA, agent, engine, pay_tool, schema_text
from tests.unit.flow_harness import pay_task as task

from proctor.config import tool_from_mapping, tool_to_mapping
from proctor.errors import PolicyLoadError, ValidationError
from proctor.flow.model import ArgOrigin, FlowFacts, Origin, Provenance, Sensitivity, TaskLabels
from proctor.policy.argschema import cedar_args, cedar_type_text, parse_input_schema
from proctor.policy.engine import PolicyEngine, entities_json
from proctor.policy.loader import compile_policies, load_policy_dir
from proctor.policy.schemagen import generate_schema
from proctor.store.base import TaskRecord, ToolRecord
from proctor.types import AgentName, AgentStatus, Email, TaskId, TaskState, ToolName, Verdict


def read_tool() -> ToolRecord:
    return ToolRecord(ToolName("fs.read"), "read", resource_arg="path")


def args(amount: Any = 10, **more: Any) -> dict[str, Any]:
    return {"amount": amount, "iban": "DE89370400440532013000", **more}


# the argument schema ---------------------------------------------------------------------------
def test_json_schema_types_become_cedar_types() -> None:
    t = cedar_type_text(parse_input_schema(json.dumps(PAY_SCHEMA)))
    assert t == (
        '{"amount": decimal, "count"?: Long, "iban": String, "memo"?: String, "payee"?: {"name": String},'
        ' "tags"?: Set<String>, "urgent"?: Bool, "x-ref"?: String}'
    )  # `anything` (no type) and `either` (anyOf) are left out; `x-ref` is quoted


def test_deep_schemas_are_bounded() -> None:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(20):
        node = {"type": "object", "properties": {"a": node}}
    t = cedar_type_text(parse_input_schema(json.dumps(node)))
    assert t.count("{") <= 7
    assert "String" not in t
    wide = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(1000)}}
    assert cedar_type_text(parse_input_schema(json.dumps(wide))).count("String") == 256


def test_cedar_args_converts_and_drops_undeclared_arguments() -> None:
    got = cedar_args(
        pay_tool(),
        args(12.5, count=3.0, urgent=True, tags=["a"], payee={"name": "ACME", "x": 1}, extra="dropped"),
    )
    assert got == {
        "amount": {"__extn": {"fn": "decimal", "arg": "12.5"}},
        "iban": "DE89370400440532013000",
        "count": 3,
        "urgent": True,
        "tags": ["a"],
        "payee": {"name": "ACME"},
    }
    assert cedar_args(pay_tool(None), args(1)) == {}  # a tool without a schema has no typed args


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (args(True), "`amount` must be a number"),
        (args("12.5"), "`amount` must be a number"),
        (args(0.12345), "`amount` has more than 4 decimal places"),
        (args(10**20), "`amount` is out of the range"),
        (args(1, count=2**63), "`count` is out of the range of a 64-bit integer"),
        (args(1, count=1.5), "`count` must be an integer"),
        (args(1, tags=["a", 3]), r"`tags\[\]` must be a string"),
        (args(1, payee={"name": 7}), "`payee.name` must be a string"),
        (args(1, payee={}), "`payee.name` is required"),
        ({"iban": "x"}, "`amount` is required"),
        (args(1, urgent="yes"), "`urgent` must be true or false"),
    ],
)
def test_a_type_mismatch_names_the_argument(bad: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        cedar_args(pay_tool(), bad)


# typed arguments in decisions -------------------------------------------------------------------
def test_an_amount_above_a_limit_needs_approval_and_below_it_is_allowed() -> None:
    eng = engine(tools=(pay_tool(),))
    small = eng.decide(agent(), task(), pay_tool(), args(999.99), NOW)
    assert small.verdict is Verdict.ALLOW
    assert small.policies == ("pay.small",)
    large = eng.decide(agent(), task(), pay_tool(), args(1000.01), NOW)
    assert large.verdict is Verdict.APPROVAL_REQUIRED
    assert large.approval == "finance"
    edge = eng.decide(agent(), task(), pay_tool(), args(1000), NOW)
    assert edge.verdict is Verdict.ALLOW


def test_a_type_mismatch_is_a_deny_naming_the_argument() -> None:
    d = engine(tools=(pay_tool(),)).decide(agent(), task(), pay_tool(), args("lots"), NOW)
    assert d.verdict is Verdict.DENY
    assert "`amount` must be a number" in d.reasons[0]


def test_effect_level_policies_hold_for_a_tools_own_action() -> None:
    """`action == Action::"read"` (the starter's) is rewritten to `in`: it permits every read tool;
    `action in Action::"pay"` forbids for every pay tool."""
    eng = engine(tools=(pay_tool(), read_tool()))
    assert eng.decide(agent(), task(), read_tool(), {"path": "/a"}, NOW).verdict is Verdict.ALLOW
    d = eng.decide(agent(AgentStatus.ACTIVE), task(), pay_tool(), args(1), NOW)
    assert d.allowed
    # the `in` forbid applies to the tool action (precheck bypassed by an agent record marked active
    # but a policy reading its status as inactive is covered by the suspended precheck; use a flag)
    eng2 = engine(
        PAY_POLICIES + '@id("no-financial")\nforbid (principal, action in Proctor::Action::"pay", resource)'
        " when { resource.financial };",
        (pay_tool(),),
    )
    d2 = eng2.decide(agent(), task(), pay_tool(), args(1), NOW)
    assert d2.verdict is Verdict.DENY
    assert d2.policies == ("no-financial",)


def test_effect_equality_in_a_condition_is_rewritten_too() -> None:
    pol = '@id("p") permit (principal, action, resource) when { action == Proctor::Action::"pay" };'
    eng = engine(pol, (pay_tool(),))
    assert eng.decide(agent(), task(), pay_tool(), args(1), NOW).verdict is Verdict.ALLOW
    neg = '@id("p") permit (principal, action, resource) when { action != Proctor::Action::"pay" };'
    eng = engine(neg, (pay_tool(), read_tool()))
    assert eng.decide(agent(), task(), pay_tool(), args(1), NOW).verdict is Verdict.DENY
    assert eng.decide(agent(), task(), read_tool(), {"path": "/a"}, NOW).verdict is Verdict.ALLOW


def test_the_starter_set_loads_with_registered_tools(tmp_path: Path) -> None:
    d = tmp_path / "policies"
    with resources.as_file(resources.files("proctor") / "starter") as src:
        shutil.copytree(src, d)
    (d / "counters.yaml").unlink(missing_ok=True)
    ps = load_policy_dir(d, tools=[pay_tool(), read_tool()])
    assert 'action "billing.send_money" in [Action::"pay"]' in ps.generated_schema_text
    d1 = PolicyEngine(ps).decide(agent(), task(), pay_tool(), args(5), NOW)
    assert d1.verdict is Verdict.APPROVAL_REQUIRED
    assert "approval.payments" in d1.policies


# validation --------------------------------------------------------------------------------------
def test_validation_refuses_an_argument_the_tool_does_not_have() -> None:
    bad = '\n\n@id("x")\npermit (principal, action == Proctor::Action::"billing.send_money", resource)\nwhen { context.args.nope == "a" };'
    with pytest.raises(PolicyLoadError, match=r"q\.cedar:3: .*nope") as info:
        compile_policies({"p.cedar": PAY_POLICIES, "q.cedar": bad}, schema_text(), tools=(pay_tool(),))
    assert "input schema" in info.value.message


def test_validation_refuses_an_optional_argument_read_without_has() -> None:
    pol = '@id("x") permit (principal, action == Proctor::Action::"billing.send_money", resource) when { context.args.memo == "a" };'
    with pytest.raises(PolicyLoadError, match="optional attribute"):
        compile_policies({"p.cedar": pol}, schema_text(), tools=(pay_tool(),))
    ok = pol.replace("context.args.memo", "context.args has memo && context.args.memo")
    compile_policies({"p.cedar": ok}, schema_text(), tools=(pay_tool(),))


def test_a_policy_naming_an_unregistered_tool_cannot_read_its_arguments() -> None:
    pol = '@id("x") permit (principal, action == Proctor::Action::"crm.export", resource) when { context.args.n == 1 };'
    with pytest.raises(PolicyLoadError, match="register the tool with its input schema"):
        compile_policies({"p.cedar": pol}, schema_text())
    plain = '@id("x") permit (principal, action == Proctor::Action::"crm.export", resource);'
    ps = compile_policies({"p.cedar": plain}, schema_text())
    assert 'action "crm.export"' in ps.generated_schema_text


def test_an_older_base_schema_gets_the_flow_attributes(tmp_path: Path) -> None:
    old = subprocess.run(
        ["git", "show", "380c63c:src/proctor/starter/schema.cedarschema"],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parent,
    ).stdout
    if not old:  # not a git checkout: an equivalent older schema, without any flow attribute
        old = schema_text()
        for drop in (
            "read_untrusted",
            "max_sensitivity",
            "sensitivity_level",
            "access_control",
            "credential_change",
            "egress",
        ):
            old = "\n".join(ln for ln in old.splitlines() if not ln.strip().startswith(drop))
    assert "read_untrusted" not in old
    pol = '@id("x") forbid (principal, action, resource is Proctor::Tool) when { context.task.read_untrusted && context.provenance.destination_untrusted && resource.egress };'
    ps = compile_policies({"p.cedar": pol}, old, tools=(pay_tool(),))
    assert "read_untrusted: Bool" in ps.generated_schema_text


# flow facts and the cache ------------------------------------------------------------------------
def _untrusted_iban() -> FlowFacts:
    return FlowFacts(
        task=TaskLabels(read_untrusted=True, max_sensitivity=Sensitivity.CONFIDENTIAL),
        provenance=Provenance(True, (ArgOrigin("iban", Origin.UNTRUSTED, ("mail.read",), True),)),
        destinations=("evil.example",),
    )


FLOW_POLICY = """
@id("pay")
permit (principal, action in Proctor::Action::"pay", resource);

@id("hold-untrusted-iban")
forbid (principal, action in Proctor::Action::"pay", resource)
when { context.provenance.destination_untrusted && context.task.read_untrusted };
"""


def test_flow_facts_reach_cedar_and_key_the_cache() -> None:
    eng = engine(FLOW_POLICY, (pay_tool(),))
    clean = eng.decide(agent(), task(), pay_tool(), args(1), NOW)
    assert clean.allowed
    dirty = eng.decide(agent(), task(), pay_tool(), args(1), NOW, _untrusted_iban())
    assert dirty.verdict is Verdict.DENY
    assert dirty.policies == ("hold-untrusted-iban",)
    again = eng.decide(agent(), task(), pay_tool(), args(1), NOW)
    assert again.allowed
    assert again.cached


def test_the_reads_analysis_sees_what_each_action_reads() -> None:
    ps = compile_policies(
        {"p.cedar": PAY_POLICIES + FLOW_POLICY.replace('"pay"\n', '"pay2"\n')},
        schema_text(),
        tools=(pay_tool(), read_tool()),
    )
    assert ps.reads("billing.send_money") == {
        "args",
        "args.amount",
        "provenance",
        "provenance.destination_untrusted",
        "task_flow",
    }
    assert ps.reads("fs.read") == frozenset()


def test_only_the_arguments_policies_read_reach_cedar_and_the_key() -> None:
    """A call differing only in an argument no policy reads is a cache hit; a mistyped argument no
    policy reads is not refused (its value never reaches Cedar)."""
    eng = engine(tools=(pay_tool(),))
    assert eng.decide(agent(), task(), pay_tool(), args(5, memo="a"), NOW).allowed
    d = eng.decide(agent(), task(), pay_tool(), args(5, memo="b", count="x"), NOW)
    assert d.allowed
    assert d.cached


def test_a_call_whose_policies_read_no_arguments_stays_a_cache_hit() -> None:
    eng = engine(tools=(pay_tool(), read_tool()))
    eng.decide(agent(), task(), read_tool(), {"path": "/a", "other": 1}, NOW)
    again = eng.decide(agent(), task(), read_tool(), {"path": "/a", "other": 2}, NOW, _untrusted_iban())
    assert again.cached
    assert again.allowed


def test_different_arguments_a_policy_reads_get_different_decisions_from_the_cache() -> None:
    eng = engine(tools=(pay_tool(),))
    assert eng.decide(agent(), task(), pay_tool(), args(5), NOW).verdict is Verdict.ALLOW
    d = eng.decide(agent(), task(), pay_tool(), args(5000), NOW)
    assert d.verdict is Verdict.APPROVAL_REQUIRED
    assert not d.cached
    assert eng.decide(agent(), task(), pay_tool(), args(5), NOW).cached


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    calls=st.lists(
        st.tuples(
            st.decimals(min_value=-5000, max_value=5000, places=2, allow_nan=False, allow_infinity=False),
            st.sampled_from(["a", "b", "c"]),
            st.booleans(),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_a_cached_decision_equals_an_uncached_one(calls: list[tuple[Decimal, str, bool]]) -> None:
    pol = PAY_POLICIES + FLOW_POLICY.replace('"pay"', '"billing.send_money"')
    cached = engine(pol, (pay_tool(),))
    fresh = engine(pol, (pay_tool(),), cache=False)
    for amount, memo, untrusted in calls:
        a = args(float(amount), memo=memo)
        facts = _untrusted_iban() if untrusted else None
        x = cached.decide(agent(), task(), pay_tool(), a, NOW, facts)
        y = fresh.decide(agent(), task(), pay_tool(), a, NOW, facts)
        assert (x.verdict, x.policies, x.reasons) == (y.verdict, y.policies, y.reasons)


# shadow policies ---------------------------------------------------------------------------------
def test_a_shadow_policy_is_recorded_not_enforced() -> None:
    pol = (
        PAY_POLICIES
        + '@id("shadow.big")\n@shadow\nforbid (principal, action in Proctor::Action::"pay", resource) when { context has args && context.args has amount && context.args.amount.greaterThan(decimal("100.0")) };'
    )
    eng = engine(pol, (pay_tool(),))
    d = eng.decide(agent(), task(), pay_tool(), args(500), NOW)
    assert d.verdict is Verdict.ALLOW
    assert d.shadow == ("deny", ("shadow.big",))
    assert d.to_dict()["shadow"] == {"decision": "deny", "policies": ["shadow.big"]}
    assert eng.decide(agent(), task(), pay_tool(), args(500), NOW).shadow == ("deny", ("shadow.big",))
    assert eng.decide(agent(), task(), pay_tool(), args(50), NOW).shadow is None


# tools registered after the set was compiled ------------------------------------------------------
def test_a_tool_registered_later_is_validated_before_its_first_decision() -> None:
    pol = '@id("p") permit (principal, action in Proctor::Action::"pay", resource) when { context has args && context.args has amount && !context.args.amount.greaterThan(decimal("10.0")) };'
    eng = engine(pol)  # compiled with no tool
    late = pay_tool(name="bank.wire")
    assert eng.decide(agent(), task(), late, args(5), NOW).verdict is Verdict.ALLOW
    assert eng.decide(agent(), task(), late, args(50), NOW).verdict is Verdict.DENY
    bad = '@id("p") permit (principal, action == Proctor::Action::"billing.send_money", resource) when { context.args.amount.greaterThan(decimal("10.0")) };'
    eng = engine(bad, (pay_tool(),))
    changed = pay_tool({"type": "object", "properties": {"sum": {"type": "number"}}}, version=2)
    d = eng.decide(agent(), task(), changed, {"sum": 1}, NOW)
    assert d.verdict is Verdict.DENY
    assert "do not validate with tool `billing.send_money`" in d.reasons[0]
    assert "amount" in d.reasons[0]
    assert eng.decide(agent(), task(), pay_tool(), args(50), NOW).verdict is Verdict.ALLOW


def test_multi_resource_calls_are_still_decided_per_resource() -> None:
    mv = ToolRecord(ToolName("fs.move"), "write", resource_arg="source,destination")
    t = TaskRecord(
        TaskId("tsk_AAAAAAAAAAAAAAAAAAAAAA"),
        AgentName("bot"),
        "p",
        ("*",),
        (),
        Email("r@acme.test"),
        TaskState.ACTIVE,
        NOW - 1,
        NOW + 600,
    )
    pol = '@id("w") permit (principal, action == Proctor::Action::"write", resource) when { context.resource like "/ok/*" };'
    eng = engine(pol, (mv,))
    assert eng.decide(agent(), t, mv, {"source": "/ok/a", "destination": "/ok/b"}, NOW).allowed
    assert not eng.decide(agent(), t, mv, {"source": "/ok/a", "destination": "/etc/b"}, NOW).allowed


@pytest.mark.parametrize("amount", [5, 2000])
def test_decide_agrees_with_cedar_validating_the_request_against_the_generated_schema(amount: int) -> None:
    """The entities and context the engine builds conform to the schema it generated (Cedar checks
    them when given the schema), and the decision is the one Cedar makes."""
    eng = engine(PAY_POLICIES + FLOW_POLICY.replace('"pay"', '"billing.send_money"'), (pay_tool(),))
    ps = eng.policy_set
    facts = _untrusted_iban()
    a = args(amount, memo="m", tags=["x"], payee={"name": "ACME"})
    ents = entities_json(agent(), task(), pay_tool(), facts.task, "billing.send_money")
    request = {
        "principal": {"type": "Proctor::Agent", "id": "bot"},
        "action": {"type": "Proctor::Action", "id": "billing.send_money"},
        "resource": {"type": "Proctor::Tool", "id": "billing.send_money"},
        "context": {
            "task": {"__entity": {"type": "Proctor::Task", "id": str(task().id)}},
            "resource": "",
            "in_scope": True,
            **facts.context(),
            "args": cedar_args(pay_tool(), a),
        },
    }
    raw = cedarpy.is_authorized(request, ps.cedar, json.dumps(ents), schema=ps.schema)
    assert not raw.diagnostics.errors
    d = eng.decide(agent(), task(), pay_tool(), a, NOW, facts)
    assert d.verdict is Verdict.DENY
    assert sorted(raw.diagnostics.reasons) == list(d.policies)
    clean = FlowFacts()
    request["context"].update(clean.context())
    ents = entities_json(agent(), task(), pay_tool(), clean.task, "billing.send_money")
    raw = cedarpy.is_authorized(request, ps.cedar, json.dumps(ents), schema=ps.schema)
    d = eng.decide(agent(), task(), pay_tool(), a, NOW)
    assert raw.allowed
    assert sorted(raw.diagnostics.reasons) == list(d.policies)


# registration -------------------------------------------------------------------------------------
def test_tool_mapping_round_trips_the_new_fields() -> None:
    raw = {
        "name": "mail.send",
        "effect": "send",
        "flags": ["egress", "access_control", "credential_change"],
        "input_schema": {"type": "object", "properties": {"to": {"type": "string"}}},
        "destinations": ["to", "cc[]"],
    }
    rec = tool_from_mapping(raw)
    assert rec.egress
    assert rec.access_control
    assert rec.credential_change
    assert rec.input_schema == '{"properties":{"to":{"type":"string"}},"type":"object"}'
    assert rec.destinations == ("cc[]", "to")
    back = tool_to_mapping(rec)
    assert tool_from_mapping(back) == rec
    with pytest.raises(ValidationError, match="destinations"):
        tool_from_mapping({**raw, "destinations": ["to; drop"]})
    with pytest.raises(ValidationError, match="input_schema"):
        tool_from_mapping({**raw, "input_schema": [1]})


def test_the_generated_schema_parses_with_counters() -> None:
    class C:
        def __init__(self, name: str, kind: str) -> None:
            self.name, self.kind = name, kind

    gen = generate_schema(
        schema_text(),
        tools=[pay_tool()],
        counters=[C("spend_today", "sum"), C("n", "count"), C("new-iban", "first_time")],
    )
    assert 'type History = {"spend_today": decimal, "n": Long, "new-iban": Bool};' in gen.text
    cedarpy.Schema.from_str(gen.text)


def test_counters_yaml_types_the_history_and_is_part_of_the_version(tmp_path: Path) -> None:
    d = tmp_path / "p"
    d.mkdir()
    (d / "schema.cedarschema").write_text(schema_text())
    (d / "p.cedar").write_text(
        PAY_POLICIES + '@id("limit")\nforbid (principal, action in Proctor::Action::"pay", resource)'
        ' when { context.history.spend_today.greaterThan(decimal("5000.0")) };\n'
    )
    with pytest.raises(PolicyLoadError, match="spend_today"):
        load_policy_dir(d, tools=[pay_tool()])  # no counters.yaml: no such counter
    (d / "counters.yaml").write_text(
        "counters:\n  spend_today: {kind: sum, arg: amount, match: {effects: [pay]}, scope: agent, window: 1d}\n"
    )
    ps = load_policy_dir(d, tools=[pay_tool()])
    assert 'type History = {"spend_today": decimal};' in ps.generated_schema_text
    eng = PolicyEngine(ps)
    over = FlowFacts(history=(("spend_today", Decimal("6000.5")),))
    assert eng.decide(agent(), task(), pay_tool(), args(5), NOW, over).policies == ("limit",)
    under = FlowFacts(history=(("spend_today", Decimal("60")),))
    assert eng.decide(agent(), task(), pay_tool(), args(5), NOW, under).allowed
    # no facts given: the counters count this call alone
    assert eng.decide(agent(), task(), pay_tool(), args(5), NOW).allowed
    assert eng.decide(agent(), task(), pay_tool(), args(5001), NOW).verdict is Verdict.DENY
    (d / "counters.yaml").write_text(
        "counters:\n  spend_today: {kind: sum, arg: amount, match: {effects: [pay]}, scope: task}\n"
    )
    assert load_policy_dir(d, tools=[pay_tool()]).version != ps.version


def test_policy_test_cases_give_flow_facts_and_expect_shadow_verdicts() -> None:
    from proctor.policy.cases import case_tools, run_cases

    data: dict[str, Any] = {
        "agents": {"bot": {}},
        "tools": {
            "billing.send_money": {"effect": "pay", "resource_arg": "-", "input_schema": PAY_SCHEMA},
        },
        "tasks": {"t": {"agent": "bot"}},
        "cases": [
            {"name": "clean", "agent": "bot", "task": "t", "tool": "billing.send_money", "args": args(5),
             "expect": "allow", "shadow": "deny"},
            {"name": "injected", "agent": "bot", "task": "t", "tool": "billing.send_money", "args": args(5),
             "facts": {"read_untrusted": True, "args": {"iban": {"origin": "untrusted", "destination": True}}},
             "expect": "deny", "policies": ["hold-untrusted-iban"], "shadow": None},
            {"name": "wrong", "agent": "bot", "task": "t", "tool": "billing.send_money", "args": args(5),
             "facts": {"read_untrusted": True, "args": {"iban": "untrusted"}}, "expect": "deny"},
        ],
    }  # fmt: skip
    pol = (
        FLOW_POLICY
        + '@id("shadow.all-pay")\n@shadow\nforbid (principal, action in Proctor::Action::"pay", resource);'
    )
    ps = compile_policies({"p.cedar": pol}, schema_text(), tools=case_tools(data))
    results = run_cases(data, PolicyEngine(ps, cache=False))
    assert [r.ok for r in results] == [True, True, False]
    assert "expected deny, got allow" in results[2].problem  # `iban` is a destination only when said so


def test_a_credential_policy_can_read_the_tasks_flow_attributes() -> None:
    from proctor.policy.engine import CredentialRef

    pol = (
        '@id("cred") permit (principal, action == Proctor::Action::"use_credential", resource)'
        " when { !context.task.read_untrusted };"
    )
    eng = engine(pol)
    d = eng.decide_credential(
        agent(),
        task(),
        CredentialRef("k", "injected", "billing"),
        upstream_declared=True,
        effects=frozenset(),
        now=NOW,
    )
    assert d.allowed, d.reasons
