"""Red team of the cross-revision exchanges (2026-12-06): an upstream's mid-call request goes back
to a call in flight to THAT upstream. It went to the task's latest call whatever upstream it
called: a 2026-07-28 call to upstream Y was answered ``input_required`` with upstream X's question
(under Y's tool, decided by Y's policy), and the client's answer went to X; a 2025-11-25 client was
sent X's question on Y's call."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import mcp_types as types

from proctor.gateway.sessions import TaskUpstreams


def _params() -> types.ElicitRequestFormParams:
    return types.ElicitRequestFormParams(
        message="X asks: your name?", requested_schema={"type": "object", "properties": {}}
    )


def test_an_upstreams_request_goes_to_a_call_to_that_upstream_not_the_tasks_latest() -> None:
    async def main() -> None:
        owned = TaskUpstreams(SimpleNamespace(), "tsk_1")  # type: ignore[arg-type]
        seen: list[str] = []
        to_x, to_y = SimpleNamespace(name="call to x"), SimpleNamespace(name="call to y")

        def intercept(name: str) -> Any:
            async def ask(request: Any, result_type: type[Any]) -> Any:
                seen.append(name)
                return types.ElicitResult(action="decline")

            return ask

        # a call to X, then (later, still in flight) a call to Y, both 2026-07-28 (translated)
        for ctx, ns in ((to_x, "x"), (to_y, "y")):
            owned.active.append(ctx)  # type: ignore[arg-type]
            owned.active_ns[id(ctx)] = ns
            owned.intercepts[id(ctx)] = intercept(str(ctx.name))
        answer = await owned.forward_elicitation(None, _params(), "x")
        assert isinstance(answer, types.ElicitResult)
        assert seen == ["call to x"]
        # no call to Z is in flight: Z's request is refused, never sent to the task's latest call
        refused = await owned.forward_elicitation(None, _params(), "z")
        assert isinstance(refused, types.ErrorData)
        assert seen == ["call to x"]

    asyncio.run(main())
