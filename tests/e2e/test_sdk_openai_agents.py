"""The OpenAI Agents SDK's real ``Runner`` with a scripted model (no network): guarded function
tools allowed, denied (the model reads the denial as the tool's output; the run goes on) and held
for approval (approved from another thread through the approvals service), each in the audit chain
with its agent and task."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from agents import Agent, ModelSettings, RunConfig, Runner
from agents.items import ModelResponse
from agents.models.interface import Model
from agents.usage import Usage
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputText,
)
from tests.e2e.sdk_harness import World, audit_records, decide_held, make_world

from proctor.sdk import Guard
from proctor.sdk.adapters.openai_agents import function_tool
from proctor.testing import temporary_workspace


class ScriptedModel(Model):
    """Calls one tool with fixed arguments, then answers with what the tool gave back."""

    def __init__(self, tool: str, args: dict[str, Any]) -> None:
        self.tool, self.args = tool, args
        self.seen: list[str] = []

    async def get_response(
        self, system_instructions: Any, input: Any, *args: Any, **kwargs: Any
    ) -> ModelResponse:
        outputs = [
            i
            for i in (input if isinstance(input, list) else [])
            if isinstance(i, dict) and i.get("type") == "function_call_output"
        ]
        if not outputs:
            call = ResponseFunctionToolCall(
                type="function_call",
                call_id="call_1",
                name=self.tool,
                arguments=json.dumps(self.args),
                id="fc_1",
            )
            return ModelResponse(output=[call], usage=Usage(), response_id=None)
        text = str(outputs[-1].get("output"))
        self.seen.append(text)
        msg = ResponseOutputMessage(
            id="msg_1",
            type="message",
            role="assistant",
            status="completed",
            content=[ResponseOutputText(type="output_text", text=f"tool said: {text}", annotations=[])],
        )
        return ModelResponse(output=[msg], usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise NotImplementedError


@pytest.fixture
def world() -> Iterator[World]:
    with temporary_workspace() as sandbox:
        yield make_world(sandbox)


def _run(w: World, guard: Guard, tool: str, args: dict[str, Any]) -> tuple[str, ScriptedModel]:
    def read_note(path: str) -> str:
        """Read a note."""
        w.calls.append(("fs.read", {"path": path}))
        return f"note {path}: pay DE89370400440532013000"

    async def send_payment(iban: str, amount: int) -> str:
        """Pay a supplier."""
        w.calls.append(("pay.send", {"iban": iban, "amount": amount}))
        return f"paid {amount}"

    def run_command(command: str) -> str:
        """Run a shell command."""
        w.calls.append(("shell.run", {"command": command}))
        return "done"

    tools = [
        function_tool(guard, read_note, name="fs.read", effect="read"),
        function_tool(guard, send_payment, name="pay.send", effect="pay", flags=["financial"]),
        function_tool(guard, run_command, name="shell.run", effect="execute"),
    ]
    model = ScriptedModel(tool, args)
    agent = Agent(name="clerk", instructions="help", tools=tools, model=model, model_settings=ModelSettings())
    result = asyncio.run(Runner.run(agent, "go", run_config=RunConfig(tracing_disabled=True)))
    return str(result.final_output), model


def test_allowed_tool_runs_and_is_recorded(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token)
    out, _ = _run(world, guard, "fs__read", {"path": "/notes/a"})
    assert out == "tool said: note /notes/a: pay DE89370400440532013000"
    assert world.calls == [("fs.read", {"path": "/notes/a"})]
    [d] = audit_records(world.p, kind="decision")
    assert (d["decision"], d["agent"], d["task"], d["tool"]) == ("allow", "bot", world.task_id, "fs.read")
    [o] = audit_records(world.p, kind="call.output_reported")
    assert o["decision_id"] == d["decision_id"]


def test_denied_tool_is_a_tool_error_the_model_reads(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token)
    out, model = _run(world, guard, "shell__run", {"command": "rm -rf /"})
    assert world.calls == []
    [d] = audit_records(world.p, kind="decision")
    assert (d["decision"], d["agent"], d["task"]) == ("deny", "bot", world.task_id)
    assert model.seen[0].startswith("Proctor denied this call:")
    assert d["decision_id"] in model.seen[0]
    assert out.startswith("tool said: Proctor denied this call")


def test_held_tool_waits_for_the_owner_then_runs(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token, hold_s=20)
    with decide_held(world.p, "approve") as decided:
        out, _ = _run(world, guard, "pay__send", {"iban": "DE89370400440532013000", "amount": 120})
    assert decided() is not None
    assert out == "tool said: paid 120"
    assert world.calls == [("pay.send", {"iban": "DE89370400440532013000", "amount": 120})]
    assert [d["decision"] for d in audit_records(world.p, kind="decision")] == ["approval_required", "allow"]


def test_held_tool_still_pending_surfaces_the_request(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token, hold_s=0)
    _, model = _run(world, guard, "pay__send", {"iban": "DE89370400440532013000", "amount": 120})
    assert world.calls == []
    [req] = world.p.approvals.list(states=("pending",))
    assert f"/approvals/{req.id}" in model.seen[0]
    assert "may be retried" in model.seen[0]
