"""Red team of the cross-revision exchanges (proctor.gateway.xrev, 2026-12-06): what one gateway
process holds for them is bounded across tasks, and so is what an upstream may ask a client."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import mcp_types as types

from proctor.gateway import xrev


class _Audit:
    def __init__(self) -> None:
        self.records: list[tuple[str, dict[str, Any]]] = []

    async def append_async(self, kind: str, fields: dict[str, Any], **kw: Any) -> None:
        self.records.append((kind, fields))


def _registry(ttl: float = 60.0) -> tuple[xrev.Exchanges, _Audit]:
    audit = _Audit()
    return xrev.Exchanges(SimpleNamespace(audit=audit), ttl), audit  # type: ignore[arg-type]


def _exchange(registry: xrev.Exchanges, task: str, caps: dict[str, Any] | None = None) -> xrev.Exchange:
    ex = xrev.Exchange(registry, SimpleNamespace(task_id=task, agent="bot"), "fx__tool")  # type: ignore[arg-type]
    ex.capabilities = caps if caps is not None else {"elicitation": {}, "sampling": {}}
    return ex


def test_a_process_holds_a_bounded_number_of_pending_exchanges_whatever_the_tasks() -> None:
    # 10,000 tasks with 4 exchanges each held 40,000 upstream calls: only the task's bound applied
    registry, _audit = _registry()
    parked = 0
    for n in range(10_000):
        task = f"tsk_{n}"
        for _ in range(xrev.MAX_PENDING_PER_TASK):
            parked += registry.park(_exchange(registry, task))
    assert parked == xrev.MAX_PENDING
    assert not registry.park(_exchange(registry, "tsk_fresh"))  # a new task is not served either


def test_an_upstreams_huge_request_is_refused_never_handed_over_or_held() -> None:
    async def main() -> None:
        registry, _audit = _registry(ttl=5.0)
        big = "x" * (xrev.MAX_ASK_BYTES + 1)
        elicit = types.ElicitRequest(
            params=types.ElicitRequestFormParams(
                message="name?",
                requested_schema={
                    "type": "object",
                    "properties": {"a": {"type": "string", "description": big}},
                },
            )
        )
        sampling = types.CreateMessageRequest(
            params=types.CreateMessageRequestParams(
                messages=[
                    types.SamplingMessage(role="user", content=types.TextContent(type="text", text=big))
                ],
                max_tokens=10,
            )
        )
        for request, result in ((elicit, types.ElicitResult), (sampling, types.CreateMessageResult)):
            ex = _exchange(registry, "tsk_1")
            answer = await asyncio.wait_for(ex.ask(request, result), 1.0)
            assert isinstance(answer, types.ErrorData)
            assert "larger than the gateway relays" in answer.message
            assert ex.events.empty()
            assert ex.asked is None

    asyncio.run(main())


def test_a_retry_held_past_the_ttl_keeps_its_exchange_until_its_decision() -> None:
    # the retry came in time; held for approval past exchange_ttl, the exchange expired under it
    # and the approved retry found it ended (the person's approval went nowhere)
    async def main() -> None:
        registry, audit = _registry(ttl=0.05)
        ex = _exchange(registry, "tsk_1")
        elicit = types.ElicitRequest(
            params=types.ElicitRequestFormParams(
                message="name?", requested_schema={"type": "object", "properties": {}}
            )
        )
        asked = asyncio.ensure_future(ex.ask(elicit, types.ElicitResult))
        assert await ex.events.get() == ("ask", None)
        ex.round = 1
        assert registry.park(ex)
        assert registry.claim(ex.name, 1, "tsk_1") is ex  # the retry, now held for approval
        await asyncio.sleep(0.3)
        assert not asked.done()
        assert not ex.ended
        assert audit.records == []
        registry.take(ex)  # approved: the retry reaches send()
        answer = types.ElicitResult(action="accept", content={"name": "Z"})
        ex.answer(answer)
        assert await asyncio.wait_for(asked, 1.0) is answer
        # a retry that lets go of it (its answer was not one): the TTL has passed, it expires
        other = _exchange(registry, "tsk_1")
        later = asyncio.ensure_future(other.ask(elicit, types.ElicitResult))
        await other.events.get()
        other.round = 1
        assert registry.park(other)
        registry.claim(other.name, 1, "tsk_1")
        await asyncio.sleep(0.1)
        registry.release(other)
        assert isinstance(await asyncio.wait_for(later, 1.0), types.ErrorData)
        assert [f["reason"] for _, f in audit.records] == ["expired"]

    asyncio.run(main())
