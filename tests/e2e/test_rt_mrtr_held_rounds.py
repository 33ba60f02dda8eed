"""Red team of the multi-round-trip pass-through (ADR 0031, amendment of 2026-12-05) with a tool
under approval (ADR 0024): every round is a new call, so each retry needs its own approval.

Before, the retry of an upstream round was held the way a first call is: the gateway answered its
own ``input_required`` (the approval link), which carries no ``requestState``, so the client's
next retry carried neither the upstream's sealed state nor its answers to the upstream: the
upstream started over, asked its first question again, that retry was held again, and the
exchange never ended. Now a retry that continues an upstream's exchange is held waiting (as a
call whose client declared no URL elicitation): once approved it goes on with its own input."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from tests.conformance_mcp.fixture import fixture_url, free_port, start_fixture, stop_fixture
from tests.e2e.test_gateway_revisions import MODERN, _gateway, _text


def test_rt_mrtr_a_multi_round_call_under_approval_completes_one_approval_per_round(tmp_path: Path) -> None:
    from proctor.approvals.model import Approver
    from proctor.types import Email

    fport = free_port()
    fixture = start_fixture(fport, log_path=tmp_path / "fixture.log")
    asked: list[str] = []
    links: list[str] = []
    approved: list[str] = []
    try:
        upstream = {
            "namespace": "fx",
            "url": fixture_url(fport),
            "default": {"effect": "read"},
            "tools": {"test_input_required_result_multi_round": {"effect": "deploy"}},
        }
        with _gateway(tmp_path, [upstream], "approvals: {hold: 30s}\n") as gw:
            stop = threading.Event()

            def approve_all() -> None:
                while not stop.is_set():
                    for req in gw.p.approvals.pending():
                        gw.p.approvals.approve(str(req.id), Approver(Email("owner@acme.test")), "fine")
                        approved.append(str(req.id))
                    time.sleep(0.1)

            async def elicit(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
                url = getattr(params, "url", None)
                if url:
                    links.append(str(url))
                    return types.ElicitResult(action="accept")
                asked.append(params.message)
                answer: dict[str, str | int | float | bool | list[str] | None]
                answer = {"color": "teal"} if "color" in params.message else {"name": "Zanzibar"}
                return types.ElicitResult(action="accept", content=answer)

            async def main() -> types.CallToolResult:
                async with gw.client(MODERN, elicitation_callback=elicit) as c:
                    with anyio.fail_after(90):
                        return await c.call_tool("fx__test_input_required_result_multi_round", {})

            approver = threading.Thread(target=approve_all, daemon=True)
            approver.start()
            try:
                result = anyio.run(main)
            finally:
                stop.set()
                approver.join(5)
            decisions = gw.audit("decision")
            completed = gw.audit("call.completed")
    finally:
        stop_fixture(fixture)
    assert not result.is_error, (_text(result), asked, links)
    assert _text(result) == "Zanzibar likes teal."
    assert len(asked) == 2, asked  # each upstream question once: nothing started over
    # the first call was sent to the page; each round after it was held waiting, one approval each
    assert len(links) == 1, links
    assert len(approved) == 3, approved
    assert [c.get("result_type") for c in completed] == ["input_required", "input_required", None]
    # each upstream round asked for (and waited on) its own approval, then ran with its own input
    rounds = [(d["decision"], d["continuation"].get("round")) for d in decisions if d.get("continuation")]
    assert rounds[-4:] == [("approval_required", 1), ("allow", 1), ("approval_required", 2), ("allow", 2)]
    assert [d["decision"] for d in decisions].count("allow") == 3
