"""``decide.args``: a cold decision (a cache miss) of a call with 10 typed arguments that the
policies read, against a raw cedarpy call on the same pre-parsed policies, entities and request
(``cedarpy.raw.args``) measured in the same run."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import cedarpy

from proctor.policy.argschema import cedar_args
from proctor.policy.engine import PolicyEngine, entities_json
from proctor.policy.loader import compile_policies
from proctor.store.base import AgentRecord, TaskRecord, ToolRecord
from proctor.types import AgentName, AgentStatus, Email, SpiffeId, TaskId, TaskState, ToolName

NOW = 1_767_225_600.0
SCHEMA = {
    "type": "object",
    "properties": {
        "amount": {"type": "number"},
        "iban": {"type": "string"},
        "currency": {"type": "string"},
        "memo": {"type": "string"},
        "count": {"type": "integer"},
        "urgent": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "payee": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "country": {"type": "string"}},
            "required": ["name", "country"],
        },
        "due_days": {"type": "integer"},
        "reference": {"type": "string"},
    },
    "required": [
        "amount",
        "iban",
        "currency",
        "memo",
        "count",
        "urgent",
        "tags",
        "payee",
        "due_days",
        "reference",
    ],
}
POLICIES = """
@id("pay.small")
permit (principal, action == Proctor::Action::"billing.send_money", resource)
when { !context.args.amount.greaterThan(decimal("1000.0")) && context.args.currency == "EUR" };

@id("pay.large")
@approval("finance")
permit (principal, action == Proctor::Action::"billing.send_money", resource)
when { context.args.amount.greaterThan(decimal("1000.0")) };

@id("pay.no-sanctioned")
forbid (principal, action in Proctor::Action::"pay", resource)
when { context has args && context.args has payee && context.args.payee.country == "XX" };

@id("pay.hold-untrusted")
forbid (principal, action in Proctor::Action::"pay", resource)
when { context.provenance.destination_untrusted };
"""


def _records() -> tuple[AgentRecord, TaskRecord, ToolRecord]:
    n = AgentName("bot")
    agent = AgentRecord(
        n,
        SpiffeId(f"spiffe://acme.test/agent/{n}"),
        Email("o@acme.test"),
        AgentStatus.ACTIVE,
        (),
        NOW,
        NOW,
        1,
    )
    task = TaskRecord(
        TaskId("tsk_AAAAAAAAAAAAAAAAAAAAAA"),
        n,
        "pay the invoice",
        ("*",),
        (),
        Email("r@acme.test"),
        TaskState.ACTIVE,
        NOW - 1,
        NOW + 3600,
    )
    tool = ToolRecord(
        ToolName("billing.send_money"),
        "pay",
        resource_arg="-",
        input_schema=json.dumps(SCHEMA, sort_keys=True),
    )
    return agent, task, tool


def _args(i: int) -> dict[str, Any]:
    return {
        "amount": round(10 + (i % 100_000) / 100, 2),
        "iban": "DE89370400440532013000",
        "currency": "EUR",
        "memo": f"invoice {i}",
        "count": i % 7,
        "urgent": bool(i % 2),
        "tags": ["invoice", "energy"],
        "payee": {"name": "ACME Energy", "country": "DE"},
        "due_days": 30,
        "reference": f"RF{i:08d}",
    }


def bench_decide_args(timed: Any) -> list[dict[str, Any]]:
    """``timed(name, fn, n)`` is the runner of ``bench/__main__.py``."""
    agent, task, tool = _records()
    schema = (resources.files("proctor") / "starter" / "schema.cedarschema").read_text()
    ps = compile_policies({"bench.cedar": POLICIES}, schema, tools=[tool])
    engine = PolicyEngine(ps)
    assert engine.decide(agent, task, tool, _args(1), NOW).allowed
    rows = [timed("decide.args", lambda i: engine.decide(agent, task, tool, _args(i + 10), NOW), 20_000)]
    assert not engine.decide(agent, task, tool, _args(10**7), NOW).cached

    ents = cedarpy.Entities.from_json_str(json.dumps(entities_json(agent, task, tool, None, tool.name)))
    base_ctx = {
        "task": {"__entity": {"type": "Proctor::Task", "id": str(task.id)}},
        "resource": "",
        "in_scope": True,
        "provenance": {
            "checked": False,
            "untrusted_args": [],
            "unsourced_args": [],
            "intent_args": [],
            "trusted_args": [],
            "destination_untrusted": False,
            "destination_unsourced": False,
            "all_traced": False,
        },
        "destinations": {"domains": []},
        "history": {},
    }

    def raw(i: int) -> Any:
        # the same request with its arguments already converted (the conversion is Proctor's work)
        return cedarpy.is_authorized(
            {
                "principal": {"type": "Proctor::Agent", "id": "bot"},
                "action": {"type": "Proctor::Action", "id": tool.name},
                "resource": {"type": "Proctor::Tool", "id": tool.name},
                "context": {**base_ctx, "args": converted[i % len(converted)]},
            },
            ps.cedar,
            ents,
        )

    converted = [cedar_args(tool, _args(i)) for i in range(1000)]
    assert raw(1).allowed
    rows.append(timed("cedarpy.raw.args", raw, 20_000))
    return rows
