"""The upstream deadline's grace for the loop's own inline commit (proctor.gateway.calls._Grace)."""

from __future__ import annotations

import asyncio

from proctor.gateway.calls import _Grace


def test_grace_moves_an_entered_deadline_and_leaves_others_alone() -> None:
    async def main() -> None:
        early = _Grace()
        early(0.1)  # the commit ran before the upstream call's timeout began: nothing to move
        grace = _Grace()
        async with asyncio.timeout(5) as grace.window:
            before = grace.window.when()
            assert before is not None
            grace(0.25)
            assert grace.window.when() == before + 0.25
        # a commit that fell back to the writer thread can end after the call left its timeout:
        # moving an exited timeout raises in asyncio, and must not fail the record
        grace(0.5)

    asyncio.run(main())
