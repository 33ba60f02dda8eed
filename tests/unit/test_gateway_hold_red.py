"""Red team of the held call (issue 14): one agent cannot hold any number of calls, each polling
the store, by repeating an identical call (identical calls join one request, so the pending cap
never stops them)."""

from __future__ import annotations

import asyncio

from tests.unit.conftest import Env
from tests.unit.test_gateway_hold import held

from proctor.gateway.hold import Channel


def test_an_agent_holds_at_most_max_pending_calls_at_once(env: Env) -> None:
    """The agent's held calls are bounded by ``approvals.max_pending``: the next identical call is
    answered at once (the request is still there; the call may be retried), and a slot is given
    back when a held call ends, cancelled or not."""
    holds, d, _ = held(env)  # the workspace's clock stands still: a held call waits until ended
    cap = holds.max_per_agent
    assert cap == env.p.settings.approval_max_pending

    async def main() -> None:
        waiting = [asyncio.create_task(holds.hold(d, Channel(), "bot")) for _ in range(cap)]
        await asyncio.sleep(0.3)  # every one of them is polling
        extra = asyncio.create_task(holds.hold(d, Channel(), "bot"))
        done, _ = await asyncio.wait([extra, *waiting], timeout=5, return_when=asyncio.FIRST_COMPLETED)
        assert done == {extra}
        assert extra.result() is None  # not held: answered as still waiting
        other = asyncio.create_task(holds.hold(d, Channel(), "another-agent"))
        await asyncio.sleep(0.3)
        assert not other.done()  # another agent's call is held: its own bound
        for t in [*waiting, other]:
            t.cancel()
        await asyncio.gather(*waiting, other, return_exceptions=True)
        assert holds.held == {}
        again = asyncio.create_task(holds.hold(d, Channel(), "bot"))
        await asyncio.sleep(0.3)
        assert not again.done()  # the slots were given back
        again.cancel()
        await asyncio.gather(again, return_exceptions=True)

    asyncio.run(main())
