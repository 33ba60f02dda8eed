"""The read analysis leaves out a policy only when it cannot apply to a tool (``may_apply``)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import cedarpy
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.policy.engine import PolicyEngine, tool_attrs
from proctor.policy.loader import load_policy_dir, may_apply
from proctor.store.base import ToolRecord
from proctor.types import ToolName

STARTER = Path(__file__).resolve().parents[2] / "src" / "proctor" / "starter"
FLAGS = ("egress", "financial", "customer_facing", "production", "access_control", "destructive")


def test_a_plain_read_needs_no_flow_facts_under_the_starter() -> None:
    tools = [
        ToolRecord(name=ToolName("fs.read"), effect="read"),
        ToolRecord(name=ToolName("web.fetch"), effect="read", egress=True),
        ToolRecord(name=ToolName("mail.send"), effect="send"),
    ]
    engine = PolicyEngine(load_policy_dir(STARTER, tools=tools))
    assert engine.reads(tools[0]) == frozenset()
    assert "task_flow" in engine.reads(tools[1])  # the egress hold reads what the task read
    assert "provenance" in engine.reads(tools[2])


ATOMS = [
    *(f"resource.{f}" for f in FLAGS),
    'action in [Proctor::Action::"send", Proctor::Action::"pay"]',
    'action == Proctor::Action::"read"',
    'action == Proctor::Action::"t.x"',
    "resource is Proctor::Tool",
    'resource.trust == "untrusted"',
    "context.flag",
    'principal.status == "active"',
]


@st.composite
def conditions(draw: st.DrawFn, depth: int = 2) -> str:
    if depth == 0 or draw(st.booleans()):
        atom = draw(st.sampled_from(ATOMS))
        return f"!({atom})" if draw(st.booleans()) else atom
    op = draw(st.sampled_from(["&&", "||"]))
    return f"({draw(conditions(depth - 1))} {op} {draw(conditions(depth - 1))})"


@settings(max_examples=150, deadline=None)
@given(
    when=conditions(),
    unless=st.none() | conditions(),
    flags=st.fixed_dictionaries({f: st.booleans() for f in FLAGS}),
    effect=st.sampled_from(["read", "send", "pay"]),
    named=st.booleans(),
    ctx=st.booleans(),
)
def test_a_policy_left_out_never_applies(
    when: str, unless: str | None, flags: dict[str, bool], effect: str, named: bool, ctx: bool
) -> None:
    """Whatever the context and the principal, a policy ``may_apply`` rules out for a tool is never
    satisfied by a request for that tool (checked with Cedar itself)."""
    text = f"permit (principal, action, resource) when {{ {when} }}"
    if unless:
        text += f" unless {{ {unless} }}"
    text += ";"
    body = next(iter(json.loads(cedarpy.policies_to_json_str(text))["staticPolicies"].values()))
    given: dict[str, Any] = dict(flags)
    tool = dataclasses.replace(ToolRecord(name=ToolName("t.x"), effect=effect), **given)
    action = "t.x" if named else effect
    if may_apply(body, action, effect, tool_attrs(tool)):
        return
    ents: list[dict[str, Any]] = [
        {"uid": {"type": "Proctor::Agent", "id": "a"}, "attrs": {"status": "active"}, "parents": []},
        {"uid": {"type": "Proctor::Tool", "id": "t.x"}, "attrs": tool_attrs(tool), "parents": []},
        {
            "uid": {"type": "Proctor::Action", "id": "t.x"},
            "attrs": {},
            "parents": [{"type": "Proctor::Action", "id": effect}],
        },
        {"uid": {"type": "Proctor::Action", "id": effect}, "attrs": {}, "parents": []},
    ]
    request = {
        "principal": {"type": "Proctor::Agent", "id": "a"},
        "action": {"type": "Proctor::Action", "id": action},
        "resource": {"type": "Proctor::Tool", "id": "t.x"},
        "context": {"flag": ctx},
    }
    result = cedarpy.is_authorized(request, text, ents)
    assert not result.allowed, (text, flags, action)
