"""LangGraph's real graph and ``ToolNode`` with a scripted chat model (no network): guarded
LangChain tools allowed, denied (a ``ToolMessage`` with ``status="error"`` the model reads; the
graph goes on), held for approval (approved from another thread), and an existing LangChain tool
wrapped as it is; each call in the audit chain with its agent and task."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import StructuredTool
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import ToolNode, tools_condition
from tests.e2e.sdk_harness import World, audit_records, decide_held, make_world

from proctor.sdk import Guard
from proctor.sdk.adapters.langchain import guard_tool, tool
from proctor.testing import temporary_workspace


class ScriptedChat(BaseChatModel):
    """Asks for one tool call, then answers with what the tool said."""

    call: dict[str, Any]

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        last = messages[-1]
        if isinstance(last, ToolMessage):
            msg = AIMessage(content=f"tool said ({last.status}): {last.content}")
        else:
            msg = AIMessage(content="", tool_calls=[{**self.call, "id": "call_1", "type": "tool_call"}])
        return ChatResult(generations=[ChatGeneration(message=msg)])


@pytest.fixture
def world() -> Iterator[World]:
    with temporary_workspace() as sandbox:
        yield make_world(sandbox)


def _tools(w: World, guard: Guard) -> list[Any]:
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

    return [
        tool(guard, read_note, name="fs.read", effect="read"),
        tool(guard, send_payment, name="pay.send", effect="pay", flags=["financial"]),
        tool(guard, run_command, name="shell.run", effect="execute"),
    ]


def _graph(model: ScriptedChat, tools: list[Any]) -> Any:
    g = StateGraph(MessagesState)
    g.add_node("model", lambda state: {"messages": [model.invoke(state["messages"])]})
    g.add_node("tools", ToolNode(tools))
    g.add_edge(START, "model")
    g.add_conditional_edges("model", tools_condition, {"tools": "tools", END: END})
    g.add_edge("tools", "model")
    return g.compile()


def _run(tools: list[Any], name: str, args: dict[str, Any]) -> list[BaseMessage]:
    graph = _graph(ScriptedChat(call={"name": name, "args": args}), tools)
    out = asyncio.run(graph.ainvoke({"messages": [("user", "go")]}))
    return list(out["messages"])


def test_allowed_tool_runs_and_is_recorded(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token)
    msgs = _run(_tools(world, guard), "fs__read", {"path": "/notes/a"})
    assert msgs[-1].content == "tool said (success): note /notes/a"
    assert world.calls == [("fs.read", {"path": "/notes/a"})]
    [d] = audit_records(world.p, kind="decision")
    assert (d["decision"], d["agent"], d["task"], d["tool"]) == ("allow", "bot", world.task_id, "fs.read")
    assert audit_records(world.p, kind="call.output_reported")[0]["decision_id"] == d["decision_id"]


def test_denied_tool_is_an_error_tool_message_and_the_graph_goes_on(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token)
    msgs = _run(_tools(world, guard), "shell__run", {"command": "rm -rf /"})
    assert world.calls == []
    [tm] = [m for m in msgs if isinstance(m, ToolMessage)]
    assert tm.status == "error"
    assert str(tm.content).startswith("Proctor denied this call:")
    [d] = audit_records(world.p, kind="decision")
    assert (d["decision"], d["agent"], d["task"]) == ("deny", "bot", world.task_id)
    assert d["decision_id"] in str(tm.content)
    assert str(msgs[-1].content).startswith("tool said (error): Proctor denied")


def test_held_tool_waits_for_the_owner_then_runs(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token, hold_s=20)
    with decide_held(world.p, "approve") as decided:
        msgs = _run(_tools(world, guard), "pay__send", {"iban": "DE89370400440532013000", "amount": 120})
    assert decided() is not None
    assert msgs[-1].content == "tool said (success): paid 120"
    assert [d["decision"] for d in audit_records(world.p, kind="decision")] == ["approval_required", "allow"]


def test_held_tool_still_pending_is_an_error_naming_the_request(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token, hold_s=0)
    msgs = _run(_tools(world, guard), "pay__send", {"iban": "DE89370400440532013000", "amount": 5})
    [tm] = [m for m in msgs if isinstance(m, ToolMessage)]
    [req] = world.p.approvals.list(states=("pending",))
    assert tm.status == "error"
    assert f"/approvals/{req.id}" in str(tm.content)
    assert world.calls == []


def test_an_existing_langchain_tool_is_guarded_as_it_is(world: World) -> None:
    """A tool made elsewhere (as ``langchain-mcp-adapters`` makes them): same name and schema,
    decided as the Proctor tool it is registered as; its error is recorded, not swallowed."""
    ran: list[dict[str, Any]] = []

    def lookup(city: str) -> str:
        ran.append({"city": city})
        if city == "Atlantis":
            raise LookupError("no such city")
        return f"12:00 in {city}"

    base = StructuredTool.from_function(func=lookup, name="get_time", description="Current time in a city.")
    guard = Guard(world.p, agent="bot", task_token=world.task_token)
    guard.tool("fs.clock", effect="read")(lambda city: None)  # registers the Proctor tool
    wrapped = guard_tool(guard, base, name="fs.clock")
    assert (wrapped.name, wrapped.args) == (base.name, base.args)
    msgs = _run([wrapped], "get_time", {"city": "Paris"})
    assert msgs[-1].content == "tool said (success): 12:00 in Paris"
    outsider = guard_tool(guard, base, name="shell.clock")  # not a tool of this task
    msgs = _run([outsider], "get_time", {"city": "Rome"})
    assert str(msgs[-1].content).startswith("tool said (error): Proctor denied this call")
    assert ran == [{"city": "Paris"}]
    with pytest.raises(LookupError):
        wrapped.invoke({"city": "Atlantis"})
    statuses = [o["status"] for o in audit_records(world.p, kind="call.output_reported")]
    assert statuses == ["ok", "tool_error"]
    assert [d["decision"] for d in audit_records(world.p, kind="decision")] == ["allow", "deny", "allow"]


def test_tools_loaded_from_a_real_mcp_server_are_guarded(world: World) -> None:
    """The tools of a real MCP server (``mcp-server-time`` over stdio, listed with the MCP client),
    made LangChain tools as ``langchain-mcp-adapters`` makes them (name, description, the server's
    input schema; it cannot be installed next to mcp 2: ADR 0030), guarded with ``guard_tool``: the
    task may get the time but not convert it."""
    import sys
    from pathlib import Path

    from mcp import Client, StdioServerParameters

    from proctor.config import tool_from_mapping

    p = world.p
    task = p.tasks.start(
        agent="bot", purpose="time", allow=["time.get_current_time"], requested_by="r@acme.test"
    )
    guard = Guard(p, agent="bot", task_token=task.token)
    server = StdioServerParameters(command=str(Path(sys.executable).parent / "mcp-server-time"), args=[])

    async def main() -> tuple[list[BaseMessage], list[BaseMessage]]:
        async with Client(server, mode="legacy", cache=None) as c:
            listed = (await c.list_tools()).tools
            tools = []
            for t in listed:
                p.tools.put(
                    tool_from_mapping(
                        {"name": f"time.{t.name}", "effect": "read", "input_schema": t.input_schema}, "t"
                    ),
                    by="test",
                )

                async def call(_name: str = t.name, **kwargs: Any) -> str:
                    r = await c.call_tool(_name, kwargs)
                    return "\n".join(getattr(x, "text", "") for x in r.content)

                base = StructuredTool(
                    name=t.name,
                    description=t.description or t.name,
                    args_schema=t.input_schema,
                    coroutine=call,
                )
                tools.append(guard_tool(guard, base, name=f"time.{t.name}"))
            ok = await _graph(
                ScriptedChat(call={"name": "get_current_time", "args": {"timezone": "UTC"}}), tools
            ).ainvoke({"messages": [("user", "time?")]})
            no = await _graph(
                ScriptedChat(
                    call={
                        "name": "convert_time",
                        "args": {"source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"},
                    }
                ),
                tools,
            ).ainvoke({"messages": [("user", "convert")]})
            return list(ok["messages"]), list(no["messages"])

    ok, no = asyncio.run(main())
    assert str(ok[-1].content).startswith("tool said (success): ")
    assert '"timezone": "UTC"' in str(ok[-1].content)
    assert str(no[-1].content).startswith("tool said (error): Proctor denied this call")
    decisions = audit_records(p, kind="decision", task=str(task.task.id))
    assert [(d["tool"], d["decision"], d["agent"]) for d in decisions] == [
        ("time.get_current_time", "allow", "bot"),
        ("time.convert_time", "deny", "bot"),
    ]
    [out] = audit_records(p, kind="call.output_reported", task=str(task.task.id))
    assert (out["decision_id"], out["status"]) == (decisions[0]["decision_id"], "ok")
