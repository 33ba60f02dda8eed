"""Pydantic AI's real ``Agent`` with a ``FunctionModel`` script (no network): guarded tools
allowed, denied (a terminal tool failure the model reads; the run goes on) and held for approval
(approved from another thread); each call in the audit chain with its agent and task."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from tests.e2e.sdk_harness import World, audit_records, decide_held, make_world

from proctor.sdk import Guard
from proctor.sdk.adapters.pydantic_ai import tool
from proctor.testing import temporary_workspace


@pytest.fixture
def world() -> Iterator[World]:
    with temporary_workspace() as sandbox:
        yield make_world(sandbox)


def _script(name: str, args: dict[str, Any], seen: list[str]) -> FunctionModel:
    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        last = messages[-1]
        back = [p for p in getattr(last, "parts", []) if getattr(p, "tool_call_id", None) == "call_1"]
        if not back:
            return ModelResponse(parts=[ToolCallPart(tool_name=name, args=args, tool_call_id="call_1")])
        part = back[0]
        text = str(getattr(part, "content", ""))
        seen.append(f"{part.part_kind} ({getattr(part, 'outcome', None)}): {text}")
        return ModelResponse(parts=[TextPart(f"tool said: {text}")])

    return FunctionModel(respond)


def _agent(w: World, guard: Guard, model: FunctionModel) -> Agent[None, str]:
    def read_note(path: str) -> str:
        """Read a note."""
        w.calls.append(("fs.read", {"path": path}))
        return f"note {path}"

    async def send_payment(iban: str, amount: int) -> str:
        """Pay a supplier."""
        w.calls.append(("pay.send", {"iban": iban, "amount": amount}))
        return f"paid {amount}"

    def run_command(command: str) -> str:
        """Run a shell command."""
        w.calls.append(("shell.run", {"command": command}))
        return "done"

    return Agent(
        model,
        tools=[
            tool(guard, read_note, name="fs.read", effect="read"),
            tool(guard, send_payment, name="pay.send", effect="pay", flags=["financial"]),
            tool(guard, run_command, name="shell.run", effect="execute"),
        ],
    )


def test_allowed_tool_runs_and_is_recorded(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token)
    seen: list[str] = []
    out = _agent(world, guard, _script("fs__read", {"path": "/notes/a"}, seen)).run_sync("go").output
    assert out == "tool said: note /notes/a"
    assert world.calls == [("fs.read", {"path": "/notes/a"})]
    [d] = audit_records(world.p, kind="decision")
    assert (d["decision"], d["agent"], d["task"], d["tool"]) == ("allow", "bot", world.task_id, "fs.read")
    assert audit_records(world.p, kind="call.output_reported")[0]["decision_id"] == d["decision_id"]


def test_denied_tool_is_a_tool_failure_the_model_reads(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token)
    seen: list[str] = []
    out = _agent(world, guard, _script("shell__run", {"command": "rm -rf /"}, seen)).run_sync("go").output
    assert world.calls == []
    [d] = audit_records(world.p, kind="decision")
    assert (d["decision"], d["agent"], d["task"]) == ("deny", "bot", world.task_id)
    assert seen[0].startswith("tool-return (failed): Proctor denied this call")
    assert d["decision_id"] in seen[0]
    assert out.startswith("tool said: ")


def test_held_tool_waits_for_the_owner_then_runs(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token, hold_s=20)
    seen: list[str] = []
    agent = _agent(
        world, guard, _script("pay__send", {"iban": "DE89370400440532013000", "amount": 120}, seen)
    )
    with decide_held(world.p, "approve") as decided:
        out = agent.run_sync("go").output
    assert decided() is not None
    assert out == "tool said: paid 120"
    assert [d["decision"] for d in audit_records(world.p, kind="decision")] == ["approval_required", "allow"]


def test_held_tool_still_pending_is_a_failure_naming_the_request(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token, hold_s=0)
    seen: list[str] = []
    _agent(
        world, guard, _script("pay__send", {"iban": "DE89370400440532013000", "amount": 5}, seen)
    ).run_sync("go")
    [req] = world.p.approvals.list(states=("pending",))
    assert f"/approvals/{req.id}" in seen[0]
    assert world.calls == []
