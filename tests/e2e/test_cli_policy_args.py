"""Typed arguments as a user meets them, with real `proctor` processes on a real workspace:
`tool add --input-schema`, `policy schema`, `policy validate` refusing an argument the tool does not
have (file:line), and `check` deciding on an argument's value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.e2e.test_cli import run

PAY_SCHEMA = {
    "type": "object",
    "properties": {"amount": {"type": "number"}, "iban": {"type": "string"}, "memo": {"type": "string"}},
    "required": ["amount", "iban"],
}
LIMIT = """// payments over 1,000 need finance; smaller ones need no one
@id("pay.small")
permit (principal, action == Proctor::Action::"billing.send_money", resource)
when { !context.args.amount.greaterThan(decimal("1000.0")) };

@id("pay.large")
@approval("finance")
permit (principal, action == Proctor::Action::"billing.send_money", resource)
when { context.args.amount.greaterThan(decimal("1000.0")) };
"""
NOPE = """

@id("pay.nope")
forbid (principal, action == Proctor::Action::"billing.send_money", resource)
when { context.args.currency == "XXX" };
"""


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    w = tmp_path / "ws"
    assert run(w, "init", str(w), "--trust-domain", "acme.test").returncode == 0
    assert run(w, "agent", "add", "bot", "--owner", "o@acme.test").returncode == 0
    return w


def _task(ws: Path) -> str:
    r = run(
        ws,
        "task",
        "start",
        "--agent",
        "bot",
        "--purpose",
        "pay the invoice",
        "--allow",
        "billing.*",
        "--requested-by",
        "r@acme.test",
        # the payee named by the request: the starter's flow holds (40-flow.cedar) let it through
        "--param",
        "iban=DE89",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    return str(json.loads(r.stdout)["task"]["id"])


def test_tool_add_with_an_input_schema_types_the_arguments_policies_read(ws: Path, tmp_path: Path) -> None:
    schema = tmp_path / "pay.json"
    schema.write_text(json.dumps(PAY_SCHEMA))
    r = run(
        ws,
        "tool",
        "add",
        "billing.send_money",
        "--effect",
        "pay",
        "--resource-arg",
        "-",
        "--input-schema",
        str(schema),
        "--destination",
        "iban",
    )
    assert r.returncode == 0, r.stderr
    printed = run(ws, "policy", "schema")
    assert printed.returncode == 0, printed.stderr
    assert 'action "billing.send_money" in [Action::"pay"]' in printed.stdout
    assert '"amount": decimal' in printed.stdout
    assert '"memo"?: String' in printed.stdout

    (ws / "policies" / "50-limit.cedar").write_text(LIMIT)
    ok = run(ws, "policy", "validate")
    assert ok.returncode == 0, ok.stderr
    (ws / "policies" / "60-nope.cedar").write_text(NOPE)
    bad = run(ws, "policy", "validate")
    assert bad.returncode == 2
    assert "60-nope.cedar:3" in bad.stderr
    assert "currency" in bad.stderr
    (ws / "policies" / "60-nope.cedar").unlink()

    task = _task(ws)
    small = run(ws, "check", "--agent", "bot", "--task", task, "--tool", "billing.send_money", "--args",
                json.dumps({"amount": 20.5, "iban": "DE89"}), "--json")  # fmt: skip
    assert small.returncode == 0, small.stdout + small.stderr
    assert json.loads(small.stdout)["policies"] == ["pay.small"]
    large = run(ws, "check", "--agent", "bot", "--task", task, "--tool", "billing.send_money", "--args",
                json.dumps({"amount": 2000, "iban": "DE89"}), "--json")  # fmt: skip
    assert large.returncode == 3, large.stdout + large.stderr
    mistyped = run(ws, "check", "--agent", "bot", "--task", task, "--tool", "billing.send_money", "--args",
                   json.dumps({"amount": "2000", "iban": "DE89"}), "--json")  # fmt: skip
    assert mistyped.returncode == 1
    assert "`amount` must be a number" in json.loads(mistyped.stdout)["reasons"][0]


def test_a_config_tool_with_an_input_schema_is_validated_against(ws: Path) -> None:
    """Tools declared in proctor.yaml are compiled in before they are registered (first start)."""
    cfg = ws / "proctor.yaml"
    tool = {"name": "billing.send_money", "effect": "pay", "resource_arg": "-", "input_schema": PAY_SCHEMA}
    cfg.write_text(cfg.read_text().replace("tools: []", "tools:\n  - " + json.dumps(tool)))
    (ws / "policies" / "50-limit.cedar").write_text(LIMIT)
    assert run(ws, "policy", "validate").returncode == 0
    (ws / "policies" / "60-nope.cedar").write_text(NOPE)
    bad = run(ws, "policy", "validate")
    assert bad.returncode == 2
    assert "60-nope.cedar:3" in bad.stderr
