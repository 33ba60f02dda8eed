"""Red team of the multi-round-trip pass-through with a tool under approval, on the SDK's entry
(a 2026-07-28 ``tools/call`` the lean path leaves to the SDK: here with the lean path off; ADR
0031, amendments of 2026-12-06): as on the lean path (tests/e2e/test_rt_mrtr_held_rounds.py), a
retry that continues the upstream's exchange, held for approval, used to be answered with the
approval link, which carries no ``requestState``: the client's next retry lost the upstream's
state and answers and the upstream asked again, forever. Now it is held waiting."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from tests.e2e.test_gateway_revisions import MODERN, _gateway, _text
from tests.e2e.test_rt_mrtr_upstream import _asking


def test_rt_mrtr_a_held_retry_on_the_sdk_entry_waits_and_keeps_its_state(tmp_path: Path) -> None:
    from proctor.approvals.model import Approver
    from proctor.types import Email

    links: list[str] = []
    asked: list[str] = []
    approved: list[str] = []
    with _asking(tmp_path) as ups:
        ups[0]["tools"] = {"twice": {"effect": "deploy"}}
        with _gateway(tmp_path, ups, "approvals: {hold: 30s}\n") as gw:
            gw.auth.lean = False  # the SDK's entry serves every call
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
                return types.ElicitResult(action="accept", content={})

            async def main() -> types.CallToolResult:
                async with gw.client(MODERN, elicitation_callback=elicit) as c:
                    with anyio.fail_after(90):
                        return await c.call_tool("ask__twice", {})

            approver = threading.Thread(target=approve_all, daemon=True)
            approver.start()
            try:
                result = anyio.run(main)
            finally:
                stop.set()
                approver.join(5)
            completed = gw.audit("call.completed")
    assert not result.is_error, (_text(result), asked, links)
    assert _text(result) == "asked once, answered once"
    assert len(asked) == 1, asked
    assert len(links) == 1, links  # the first call only; its retry's round waited
    assert len(approved) == 2, approved
    assert [c.get("result_type") for c in completed] == ["input_required", None]
    assert {c["path"] for c in completed} == {"sdk"}
