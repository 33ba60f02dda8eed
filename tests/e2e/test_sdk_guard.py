"""``proctor.sdk.Guard`` in-process: plain Python functions decided and recorded like gateway calls
(allow, deny, held for a person and approved or denied from another thread), sync and async, and
what an agent may try: another agent's task token, an expired task, arguments that are not JSON,
a tool that raises."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from tests.e2e.sdk_harness import World, audit_records, decide_held, make_world

from proctor.errors import ERROR_CODES, ApprovalPending, ProctorDenied
from proctor.sdk import Guard
from proctor.testing import temporary_workspace


@pytest.fixture
def world() -> Iterator[World]:
    with temporary_workspace() as sandbox:
        yield make_world(sandbox)


def tools(w: World, guard: Guard) -> dict[str, Any]:
    """The three guarded tools, recording each call that really ran in ``w.calls``."""

    @guard.tool("fs.read", effect="read", resource_arg="path", labels={"trust": "trusted"})
    def read(path: str, lines: int = 10) -> dict[str, Any]:
        """Read a note."""
        w.calls.append(("fs.read", {"path": path, "lines": lines}))
        return {"path": path, "text": "supplier DE89370400440532013000 is due 120 EUR"}

    @guard.tool("pay.send", effect="pay", flags=["financial"])
    def pay(iban: str, amount: int) -> str:
        w.calls.append(("pay.send", {"iban": iban, "amount": amount}))
        return f"paid {amount} to {iban}"

    @guard.tool("shell.run", effect="execute")
    def run(command: str) -> str:
        w.calls.append(("shell.run", {"command": command}))
        return "ran"

    return {"read": read, "pay": pay, "run": run}


def test_allowed_call_runs_and_is_recorded_with_agent_and_task(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token)
    t = tools(world, guard)
    assert t["read"]("/notes/a.txt")["path"] == "/notes/a.txt"
    assert world.calls == [("fs.read", {"path": "/notes/a.txt", "lines": 10})]
    # registered from the decorator, its argument schema from the signature
    rec = world.p.tools.get("fs.read")
    assert rec.effect == "read"
    assert rec.input_schema is not None
    assert '"lines"' in rec.input_schema
    assert '"integer"' in rec.input_schema
    decisions = audit_records(world.p, kind="decision", tool="fs.read")
    assert [(d["decision"], d["agent"], d["task"], d["source"]) for d in decisions] == [
        ("allow", "bot", world.task_id, "sdk")
    ]
    outputs = audit_records(world.p, kind="call.output_reported", tool="fs.read")
    assert [(o["decision_id"], o["status"], o["agent"], o["task"]) for o in outputs] == [
        (decisions[0]["decision_id"], "ok", "bot", world.task_id)
    ]
    assert world.p.verify_audit().ok


def test_denied_call_does_not_run_and_raises_with_the_reason(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token)
    t = tools(world, guard)
    with pytest.raises(ProctorDenied) as info:
        t["run"]("rm -rf /")
    assert world.calls == []
    exc = info.value
    assert exc.code == "call_denied"
    assert ERROR_CODES["call_denied"] is ProctorDenied
    assert exc.decision_id is not None
    assert "Proctor denied this call" in exc.message
    assert exc.decision_id in exc.message
    [d] = audit_records(world.p, kind="decision", tool="shell.run")
    assert (d["decision"], d["agent"], d["task"], d["decision_id"]) == (
        "deny",
        "bot",
        world.task_id,
        exc.decision_id,
    )
    assert audit_records(world.p, kind="call.output_reported") == []


def test_held_call_waits_and_runs_once_the_owner_approves_from_another_thread(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token, hold_s=20)
    t = tools(world, guard)
    with decide_held(world.p, "approve") as decided:
        assert t["pay"]("DE89370400440532013000", 120) == "paid 120 to DE89370400440532013000"
    aid = decided()
    assert aid is not None
    assert world.calls == [("pay.send", {"iban": "DE89370400440532013000", "amount": 120})]
    decisions = audit_records(world.p, kind="decision", tool="pay.send")
    assert [(d["decision"], d["agent"], d["task"]) for d in decisions] == [
        ("approval_required", "bot", world.task_id),
        ("allow", "bot", world.task_id),
    ]
    assert world.p.approvals.get(aid).state.value == "used"  # the grant was redeemed, once
    [out] = audit_records(world.p, kind="call.output_reported", tool="pay.send")
    assert out["decision_id"] == decisions[1]["decision_id"]
    # the same call again is a new payment: held again, not covered by the used grant
    with pytest.raises(ApprovalPending):
        Guard(world.p, agent="bot", task_token=world.task_token, hold_s=0).wrap(
            lambda iban, amount: None, name="pay.send"
        )("DE89370400440532013000", 120)
    assert world.p.verify_audit().ok


def test_held_call_denied_by_the_owner_raises_and_never_runs(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token, hold_s=20)
    t = tools(world, guard)
    with decide_held(world.p, "deny"), pytest.raises(ProctorDenied) as info:
        t["pay"]("DE89370400440532013000", 120)
    assert world.calls == []
    assert info.value.errors == ("approval_denied",)
    assert "not this supplier" in info.value.message
    assert info.value.approval_id is not None


def test_held_call_still_pending_surfaces_the_request_and_its_page(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token, hold_s=0)
    t = tools(world, guard)
    with pytest.raises(ApprovalPending) as info:
        t["pay"]("DE89370400440532013000", 120)
    exc = info.value
    assert world.calls == []
    assert exc.code == "approval_pending"
    assert exc.approval_id.startswith("apr_")
    assert exc.url.endswith(f"/approvals/{exc.approval_id}")
    assert exc.url in exc.message
    assert world.p.approvals.get(exc.approval_id).state.value == "pending"


def test_async_functions_are_guarded_off_the_loop(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token)

    @guard.tool("fs.stat", effect="read")
    async def stat(path: str) -> dict[str, Any]:
        await asyncio.sleep(0)
        world.calls.append(("fs.stat", {"path": path}))
        return {"size": 3}

    @guard.tool("net.fetch", effect="read")
    async def fetch(url: str) -> str:
        world.calls.append(("net.fetch", {"url": url}))
        return "x"

    assert asyncio.run(stat("/a")) == {"size": 3}
    with pytest.raises(ProctorDenied):
        asyncio.run(fetch("https://evil.example"))  # outside the task's `fs.*`, `pay.*`
    assert world.calls == [("fs.stat", {"path": "/a"})]
    assert [d["decision"] for d in audit_records(world.p, kind="decision")] == ["allow", "deny"]


def test_arguments_become_json_from_their_types(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token)

    @guard.tool("fs.touch", effect="write")
    def touch(path: str, when: dt.date, **extra: Any) -> str:
        world.calls.append(("fs.touch", {"path": path}))
        return "ok"

    touch("/a", dt.date(2026, 1, 2), mode="0644")
    [d] = audit_records(world.p, kind="decision", tool="fs.touch")
    assert d["decision"] == "allow"
    # the record names the arguments (digest) decided: as JSON, **extra flattened
    assert world.calls == [("fs.touch", {"path": "/a"})]


# an agent's tricks ------------------------------------------------------------------------------
def test_another_agents_task_token_is_denied_and_recorded(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.other_token)
    t = tools(world, guard)
    with pytest.raises(ProctorDenied) as info:
        t["read"]("/notes/a.txt")
    assert world.calls == []
    assert info.value.errors == ("task_token_invalid",)
    [d] = audit_records(world.p, kind="decision", tool="fs.read")
    assert (d["decision"], d["agent"]) == ("deny", "bot")


def test_an_expired_task_is_denied(world: World) -> None:
    p = world.p
    short = p.tasks.start(agent="bot", purpose="brief", allow=["fs.*"], requested_by="r@acme.test", ttl_s=60)
    guard = Guard(p, agent="bot", task_token=short.token)
    t = tools(world, guard)
    world.sandbox.clock.advance(120)
    with pytest.raises(ProctorDenied) as info:
        t["read"]("/notes/a.txt")
    assert world.calls == []
    # the token's only fault is that it expired with its task: refused as that task's, with the
    # reason (docs/adr/0032, amendment "a task past its deadline is refused as that task's")
    assert info.value.errors == ("task_not_active",), info.value.message
    assert "past its deadline" in info.value.message
    assert audit_records(p, kind="decision", tool="fs.read")[-1]["decision"] == "deny"


def test_arguments_that_are_not_json_are_a_recorded_deny(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token)

    class Opaque:
        pass

    @guard.tool("fs.write", effect="write")
    def write(path: str, data: Any) -> str:
        world.calls.append(("fs.write", {"path": path}))
        return "ok"

    with pytest.raises(ProctorDenied) as info:
        write("/a", Opaque())
    assert world.calls == []
    assert info.value.errors == ("validation_error",)
    [d] = audit_records(world.p, kind="decision", tool="fs.write")
    assert (d["decision"], d["agent"], d["task"]) == ("deny", "bot", world.task_id)


def test_a_tool_that_raises_is_recorded_and_the_error_propagates(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token)

    @guard.tool("fs.remove", effect="write")
    def remove(path: str) -> None:
        raise FileNotFoundError(path)

    with pytest.raises(FileNotFoundError):
        remove("/missing")
    [d] = audit_records(world.p, kind="decision", tool="fs.remove")
    [out] = audit_records(world.p, kind="call.output_reported", tool="fs.remove")
    assert d["decision"] == "allow"
    assert (out["decision_id"], out["status"]) == (d["decision_id"], "tool_error")


def test_guard_arguments_are_checked() -> None:
    with temporary_workspace() as sandbox:
        with pytest.raises(Exception, match="agent"):
            Guard(sandbox.proctor, task_token="x")
        with pytest.raises(Exception, match="svid"):
            Guard("http://127.0.0.1:1", task_token="x")
        guard = Guard(sandbox.proctor, agent="bot", task_token="x")
        with pytest.raises(Exception, match="tool name"):
            guard.tool("Not A Name")(lambda: None)


def test_a_registered_tool_keeps_the_administrators_record(world: World) -> None:
    """The decorator registers only a tool Proctor does not know: an agent's code cannot turn the
    administrator's `write` into a `read`."""
    from proctor.config import tool_from_mapping

    world.p.tools.put(tool_from_mapping({"name": "fs.wipe", "effect": "write"}, "test"), by="admin")
    guard = Guard(world.p, agent="bot", task_token=world.task_token)
    guard.tool("fs.wipe", effect="read")(lambda path: None)
    assert world.p.tools.get("fs.wipe").effect == "write"


def test_a_suspended_agent_is_denied_mid_task(world: World) -> None:
    guard = Guard(world.p, agent="bot", task_token=world.task_token)
    t = tools(world, guard)
    t["read"]("/a")
    assert world.p.kill_agent("bot", reason="compromised")
    with pytest.raises(ProctorDenied) as info:
        t["read"]("/b")
    assert info.value.errors == ("agent_suspended",)
    assert world.calls == [("fs.read", {"path": "/a", "lines": 10})]
