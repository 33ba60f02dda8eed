"""Multi-round-trip requests (MCP 2026-07-28, SEP-2322) through the HTTP gateway's lean path
(ADR 0031, amendment of 2026-12-05; proctor.gateway.mrtr).

An upstream's ``input_required`` reaches a 2026-07-28 client with its input requests, its state
sealed to the call; the client's retry is a new call, decided (and audited as a continuation) like
any other: a retry policy now denies is denied. A state is only ever sent back to the upstream,
tool, task and arguments it was issued for; oversized or altered input is refused before anything
is decided.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx
import mcp_types as types
from tests.conformance_mcp.fixture import fixture_url, free_port, start_fixture, stop_fixture
from tests.e2e.test_gateway_revisions import ENVELOPE, MODERN, Gw, _gateway, _post, _text

from proctor.gateway.mrtr import MAX_INPUT_RESPONSES_BYTES, MAX_REQUEST_STATE
from proctor.types import ToolName

FORBID = (
    '@id("no-confirmations")\n'
    'forbid (principal, action == Proctor::Action::"fx.test_input_required_result_request_state", resource);\n'
)


def _upstream(fport: int) -> list[dict[str, Any]]:
    return [{"namespace": "fx", "url": fixture_url(fport), "default": {"effect": "read"}}]


def test_the_official_client_completes_a_multi_round_call_each_round_decided_as_a_continuation(
    tmp_path: Path,
) -> None:
    """The official client at 2026-07-28 calls a tool that asks twice (elicitation, with an
    evolving requestState): it answers through its callback and gets the upstream's result. Each
    round was decided and recorded: the retries' decisions say which round they continue (never
    what the client answered), the first two completions say `input_required`."""
    fport = free_port()
    fixture = start_fixture(fport, log_path=tmp_path / "fixture.log")
    asked: list[str] = []
    try:
        with _gateway(tmp_path, _upstream(fport)) as gw:

            async def elicit(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
                asked.append(params.message)
                answer: dict[str, str | int | float | bool | list[str] | None]
                answer = {"color": "teal"} if "color" in params.message else {"name": "Zanzibar"}
                return types.ElicitResult(action="accept", content=answer)

            async def main() -> tuple[types.CallToolResult, str]:
                async with gw.client(MODERN, elicitation_callback=elicit) as c:
                    with anyio.fail_after(60):
                        result = await c.call_tool("fx__test_input_required_result_multi_round", {})
                    return result, str(c.protocol_version)

            result, version = anyio.run(main)
            decisions = gw.audit("decision")
            completed = gw.audit("call.completed")
            raw = [x.body for x in gw.p.store.search_audit(_all())]
    finally:
        stop_fixture(fixture)
    assert version == MODERN
    assert not result.is_error, _text(result)
    assert _text(result) == "Zanzibar likes teal."
    assert len(asked) == 2, asked
    assert [d["decision"] for d in decisions] == ["allow"] * 3
    assert [d.get("continuation") for d in decisions] == [
        None,
        {"input_responses": 1, "request_state": True, "round": 1},
        {"input_responses": 1, "request_state": True, "round": 2},
    ]
    assert [c.get("result_type") for c in completed] == ["input_required", "input_required", None]
    assert {c["path"] for c in completed} == {"lean"}
    # what the client answered is in no record
    assert not [b for b in raw if b"Zanzibar" in b or b"teal" in b]


def _all() -> Any:
    from proctor.store.base import AuditQuery

    return AuditQuery(limit=1000)


def _routed(name: str) -> dict[str, str]:
    return {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": name}


def _call(name: str, rid: int, args: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "tools/call",
        "params": {"name": name, "arguments": args or {}, "_meta": ENVELOPE, **params},
    }


def _send(gw: Gw, client: httpx.Client, name: str, rid: int, **kw: Any) -> httpx.Response:
    return _post(gw, client, _call(name, rid, **kw), **_routed(name))


def test_a_retry_is_decided_again_and_its_state_goes_only_to_its_own_call(tmp_path: Path) -> None:
    """The upstream's state comes back sealed; presented for another tool, other arguments,
    altered, or too large (and inputResponses too large) it is refused -32602 before any decision,
    each refusal audited. A policy that now forbids the tool denies the honest retry (nothing
    reaches the upstream); once lifted, the same retry completes."""
    fport = free_port()
    fixture = start_fixture(fport, log_path=tmp_path / "fixture.log")
    tool = "fx__test_input_required_result_request_state"
    other = "fx__test_input_required_result_tampered_state"
    confirm = {"confirm": {"action": "accept", "content": {"ok": True}}}
    try:
        with _gateway(tmp_path, _upstream(fport)) as gw, httpx.Client(timeout=30) as client:
            first = _send(gw, client, tool, 1)
            assert first.status_code == 200, first.text
            asked = first.json()["result"]
            assert asked["resultType"] == "input_required", asked
            assert set(asked["inputRequests"]) == {"confirm"}
            state = asked["requestState"]
            assert state != "request-state-nonce"  # the upstream's own state travels sealed

            refusals = {
                "another tool": _send(gw, client, other, 2, inputResponses=confirm, requestState=state),
                "other arguments": _send(
                    gw, client, tool, 3, args={"x": 1}, inputResponses=confirm, requestState=state
                ),
                "altered": _send(gw, client, tool, 4, inputResponses=confirm, requestState=state[:-2] + "AA"),
                "too long": _send(
                    gw, client, tool, 5, inputResponses=confirm, requestState="p" * (MAX_REQUEST_STATE + 1)
                ),
                "too large": _send(
                    gw,
                    client,
                    tool,
                    6,
                    inputResponses={
                        "confirm": {"action": "accept", "content": {"pad": "x" * MAX_INPUT_RESPONSES_BYTES}}
                    },
                    requestState=state,
                ),
            }
            for why, r in refusals.items():
                assert r.status_code == 400, (why, r.text)
                assert r.json()["error"]["code"] == -32602, (why, r.text)
            assert "requestState is longer" in refusals["too long"].json()["error"]["message"]
            assert "inputResponses is larger" in refusals["too large"].json()["error"]["message"]
            assert "not issued by this gateway" in refusals["another tool"].json()["error"]["message"]
            refused = gw.audit("gateway.refused")
            assert [x["error"] for x in refused] == ["request_state_invalid"] * 5
            assert len(gw.audit("decision")) == 1  # none of them was decided

            policy = gw.p.workspace.root / "policies" / "60-no-confirmations.cedar"  # type: ignore[union-attr]
            policy.write_text(FORBID)
            assert gw.p.policies.reload()
            denied = _send(gw, client, tool, 7, inputResponses=confirm, requestState=state)
            policy.unlink()
            assert gw.p.policies.reload()
            allowed = _send(gw, client, tool, 8, inputResponses=confirm, requestState=state)
            decisions = gw.audit("decision")
            completed = gw.audit("call.completed")
    finally:
        stop_fixture(fixture)
    result = denied.json()["result"]
    assert result["isError"] is True, result
    assert "Proctor denied this call" in result["content"][0]["text"]
    assert "no-confirmations" in result["content"][0]["text"]
    done = allowed.json()["result"]
    assert done["resultType"] == "complete", done
    assert done["content"][0]["text"] == "state-ok: confirmation received"
    assert [d["decision"] for d in decisions] == ["allow", "deny", "allow"]
    retry = {"input_responses": 1, "request_state": True, "round": 1}
    assert [d.get("continuation") for d in decisions] == [None, retry, retry]
    # the denied retry never reached the upstream: two completions, the first round and the last
    assert [c.get("result_type") for c in completed] == ["input_required", None]
    # neither the state nor what it holds is in the records
    recorded = json.dumps(decisions + completed)
    assert state not in recorded
    assert "request-state-nonce" not in recorded


# prompts/get and resources/read (ADR 0031, amendment of 2026-12-06) ------------------------------
PROMPT = "fx.test_input_required_result_prompt"
FORBID_PROMPTS = (
    '@id("no-prompts")\nforbid (principal, action == Proctor::Action::"fx.prompts.get", resource);\n'
)


def _get_prompt(gw: Gw, client: httpx.Client, rid: int, name: str = PROMPT, **params: Any) -> httpx.Response:
    msg = {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "prompts/get",
        "params": {"name": name, "_meta": ENVELOPE, **params},
    }
    return _post(
        gw, client, msg, **{"MCP-Protocol-Version": MODERN, "Mcp-Method": "prompts/get", "Mcp-Name": name}
    )


def _read(gw: Gw, client: httpx.Client, rid: int, uri: str, **params: Any) -> httpx.Response:
    msg = {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "resources/read",
        "params": {"uri": uri, "_meta": ENVELOPE, **params},
    }
    return _post(
        gw, client, msg, **{"MCP-Protocol-Version": MODERN, "Mcp-Method": "resources/read", "Mcp-Name": uri}
    )


def test_a_prompts_get_state_opens_only_for_its_prompt_and_each_retry_is_decided(tmp_path: Path) -> None:
    """An upstream prompt that asks for input reaches a 2026-07-28 client as `input_required`, its
    state sealed by the gateway. That state presented altered, with other prompt arguments, or on a
    `tools/call`, and a tool call's state presented on `prompts/get`, are refused -32602 before any
    decision, each audited. A policy that now forbids the prompt relay denies the honest retry
    (nothing reaches the upstream); once lifted, the retry completes with what the client gave."""
    fport = free_port()
    fixture = start_fixture(fport, log_path=tmp_path / "fixture.log")
    tool = "fx__test_input_required_result_request_state"
    context = {"user_context": {"action": "accept", "content": {"context": "the blue folder"}}}
    confirm = {"confirm": {"action": "accept", "content": {"ok": True}}}
    try:
        with _gateway(tmp_path, _upstream(fport)) as gw, httpx.Client(timeout=30) as client:
            first = _get_prompt(gw, client, 1)
            assert first.status_code == 200, first.text
            asked = first.json()["result"]
            assert asked["resultType"] == "input_required", asked
            assert set(asked["inputRequests"]) == {"user_context"}
            state = asked["requestState"]
            tool_state = _send(gw, client, tool, 2).json()["result"]["requestState"]
            decided_before = len(gw.audit("decision"))

            refusals = {
                "altered": _get_prompt(gw, client, 3, inputResponses=context, requestState=state[:-2] + "AA"),
                "other arguments": _get_prompt(
                    gw, client, 4, arguments={"x": "1"}, inputResponses=context, requestState=state
                ),
                "a tool's state on prompts/get": _get_prompt(
                    gw, client, 5, inputResponses=context, requestState=tool_state
                ),
                "the prompt's state on tools/call": _send(
                    gw, client, tool, 6, inputResponses=confirm, requestState=state
                ),
                "the prompt's state on resources/read": _read(
                    gw, client, 9, "test://static-text", inputResponses=context, requestState=state
                ),
            }
            for why, r in refusals.items():
                assert r.status_code == 400, (why, r.text)
                assert r.json()["error"]["code"] == -32602, (why, r.text)
                assert "not issued by this gateway" in r.json()["error"]["message"], (why, r.text)
            refused = gw.audit("gateway.refused")
            assert [x["error"] for x in refused] == ["request_state_invalid"] * 5
            assert sorted(x["method"] for x in refused) == ["prompts/get"] * 3 + [
                "resources/read",
                "tools/call",
            ]
            assert len(gw.audit("decision")) == decided_before  # none of them was decided

            policy = gw.p.workspace.root / "policies" / "60-no-prompts.cedar"  # type: ignore[union-attr]
            policy.write_text(FORBID_PROMPTS)
            assert gw.p.policies.reload()
            denied = _get_prompt(gw, client, 7, inputResponses=context, requestState=state)
            policy.unlink()
            assert gw.p.policies.reload()
            allowed = _get_prompt(gw, client, 8, inputResponses=context, requestState=state)
            decisions = [d for d in gw.audit("decision") if d.get("tool") == "fx.prompts.get"]
            completed = [c for c in gw.audit("call.completed") if c.get("tool") == "fx.prompts.get"]
            raw = [x.body for x in gw.p.store.search_audit(_all())]
            relay = gw.p.state.tool(ToolName("fx.prompts.get"))
            relay_effect = None if relay is None else relay.effect
    finally:
        stop_fixture(fixture)
    error = denied.json()["error"]
    assert error["code"] == -32600, error
    assert "no-prompts" in error["message"]
    done = allowed.json()["result"]
    assert done["resultType"] == "complete", done
    assert done["messages"][0]["content"]["text"] == "Use the following context: the blue folder"
    assert [d["decision"] for d in decisions] == ["allow", "deny", "allow"]
    assert relay_effect == "read"
    retry = {"input_responses": 1, "request_state": True, "round": 1}
    assert [d.get("continuation") for d in decisions] == [None, retry, retry]
    # the denied retry never reached the upstream: two completions, the first round and the last
    assert [c.get("result_type") for c in completed] == ["input_required", None]
    assert not [b for b in raw if b"the blue folder" in b or state.encode() in b]


def test_a_2026_call_the_sdk_entry_serves_forwards_the_retry_input(tmp_path: Path) -> None:
    """A 2026-07-28 `tools/call` the lean path leaves to the SDK's entry (here: the lean path off)
    carries its retry's `inputResponses` to the upstream (before, the SDK leg dropped them and the
    upstream asked again); a `requestState` the gateway did not seal for the call is refused there
    -32602 and audited, as on the lean path; a state the lean path sealed opens on the SDK entry."""
    fport = free_port()
    fixture = start_fixture(fport, log_path=tmp_path / "fixture.log")
    tool = "fx__test_input_required_result_elicitation"
    name = {"user_name": {"action": "accept", "content": {"name": "Alice"}}}
    try:
        with _gateway(tmp_path, _upstream(fport)) as gw, httpx.Client(timeout=30) as client:
            lean_state = _send(gw, client, tool, 1).json()["result"]["requestState"]
            gw.auth.lean = False
            answered = _send(gw, client, tool, 2, inputResponses=name)
            bogus = _send(gw, client, tool, 3, inputResponses=name, requestState="pgw1.bogus.state")
            reopened = _send(gw, client, tool, 4, inputResponses=name, requestState=lean_state)
            refused = gw.audit("gateway.refused")
            decisions = gw.audit("decision")
            completed = gw.audit("call.completed")
    finally:
        stop_fixture(fixture)
    result = answered.json()["result"]
    assert not result.get("isError"), result
    assert result["content"][0]["text"] == "Hello, Alice!"
    assert bogus.json()["error"]["code"] == -32602, bogus.text
    assert [x["error"] for x in refused] == ["request_state_invalid"]
    assert reopened.json()["result"]["content"][0]["text"] == "Hello, Alice!", reopened.text
    assert [d.get("continuation") for d in decisions] == [
        None,
        {"input_responses": 1, "request_state": False},
        {"input_responses": 1, "request_state": True, "round": 1},
    ]
    assert [c["path"] for c in completed] == ["lean", "sdk", "sdk"]
