"""A 2026-07-28 retry's answers to an upstream's elicitation are traced like arguments (ADR 0025
and ADR 0031, amendments of 2026-12-06; proctor.flow.responses), through a real gateway with the
official MCP client.

The agent reads an untrusted e-mail holding an attacker's IBAN, then calls a tool that asks for a
name by elicitation and answers with that IBAN: the retry carrying the answer is held for approval
(the starter policy's untrusted-destination rule, as for an argument), never sent upstream, and its
decision record names the answer's path and origin, never its value."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError
from tests.conformance_mcp.fixture import fixture_url, free_port, start_fixture, stop_fixture
from tests.e2e.test_gateway_revisions import MODERN, _gateway, _text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
#: the account the office fixture's inbox mail asks payments to go to (an injection)
ATTACKER = "DE89 3704 0044 0532 0130 00"
PATH = "inputResponses.user_name.content.name"


def _upstreams(fport: int) -> list[dict[str, Any]]:
    return [
        {
            "namespace": "office",
            "command": sys.executable,
            "args": [str(FIXTURES / "office_server.py")],
            "default": {"effect": "read", "labels": {"trust": "untrusted"}},
            "tools": {"read_inbox": {"effect": "read", "labels": {"trust": "untrusted"}}},
        },
        {
            "namespace": "fx",
            "url": fixture_url(fport),
            "default": {"effect": "read"},
            # a write: the starter policies allow it unless a destination comes from untrusted
            # content or from nowhere
            "tools": {"test_input_required_result_elicitation": {"effect": "write"}},
        },
    ]


@pytest.mark.parametrize("lean", [True, False], ids=["lean-path", "sdk-entry"])
def test_an_elicitation_answered_with_an_untrusted_iban_holds_the_retry(tmp_path: Path, lean: bool) -> None:
    """On the lean path and on the SDK's entry (the lean path off for the retry) alike."""
    fport = free_port()
    fixture = start_fixture(fport, log_path=tmp_path / "fixture.log")
    asked: list[str] = []
    try:
        with _gateway(tmp_path, _upstreams(fport), "approvals: {hold: 1s}\n") as gw:

            async def elicit(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
                asked.append(params.message)
                # the SDK's entry: the retry (not the first round, which its upstream session,
                # spoken to with the handshake, could not answer with input_required) goes there
                gw.auth.lean = lean
                return types.ElicitResult(action="accept", content={"name": ATTACKER})

            async def main() -> tuple[str, types.CallToolResult | MCPError]:
                async with gw.client(MODERN, elicitation_callback=elicit) as c:
                    with anyio.fail_after(60):
                        mail = await c.call_tool("office__read_inbox", {})
                        try:
                            got: types.CallToolResult | MCPError = await c.call_tool(
                                "fx__test_input_required_result_elicitation", {}
                            )
                        except MCPError as exc:
                            got = exc
                    return _text(mail), got

            mail, result = anyio.run(main)
            decisions = gw.audit("decision")
            completed = gw.audit("call.completed")
            pending = gw.p.approvals.pending()
            raw = b"".join(
                x.body.encode() if isinstance(x.body, str) else bytes(x.body) for x in _records(gw)
            )
    finally:
        stop_fixture(fixture)
    assert ATTACKER in mail
    assert asked == ["What is your name?"]
    # the upstream never got the answer: it would greet the IBAN
    assert isinstance(result, MCPError) or (result.is_error and "Hello" not in _text(result)), result
    retries = [d for d in decisions if d.get("continuation")]
    assert [d["decision"] for d in retries] == ["approval_required"], decisions
    (arg,) = [a for a in retries[0]["provenance"]["args"] if a["arg"] == PATH]
    assert arg == {"arg": PATH, "origin": "untrusted", "sources": ["office.read_inbox"], "destination": True}
    assert "flow.hold-untrusted-destination" in str(retries[0]["outcome"])
    # the first round went through (it carried no answer) and asked
    fx = [c for c in completed if c["tool"].startswith("fx.")]
    assert [(c.get("result_type"), c["path"]) for c in fx] == [("input_required", "lean")]
    assert [str(r.tool) for r in pending] == ["fx.test_input_required_result_elicitation"]
    # the answer's value is in no record
    assert b"DE89370400440532013000" not in raw.replace(b" ", b"")


def _records(gw: Any) -> list[Any]:
    from proctor.store.base import AuditQuery

    return list(gw.p.store.search_audit(AuditQuery(limit=1000)))
