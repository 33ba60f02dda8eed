"""The bounds of the gateway's cross-revision exchanges (proctor.gateway.xrev; the exchange itself,
with real processes: tests/e2e/test_gateway_xrev.py)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from proctor.gateway import xrev
from proctor.gateway.mrtr import StateSeal, args_digest, modern_leg

BINDING = ("tsk_1", "fx@abc", "fx__tool", args_digest({}))


class _Audit:
    def __init__(self) -> None:
        self.records: list[tuple[str, dict[str, Any]]] = []

    async def append_async(self, kind: str, fields: dict[str, Any], **kw: Any) -> None:
        self.records.append((kind, fields))


def _registry(ttl: float = 60.0) -> tuple[xrev.Exchanges, _Audit]:
    audit = _Audit()
    return xrev.Exchanges(SimpleNamespace(audit=audit), ttl), audit  # type: ignore[arg-type]


def _caller(task: str = "tsk_1") -> Any:
    return SimpleNamespace(task_id=task, agent="bot")


def _asking(registry: xrev.Exchanges, task: str = "tsk_1") -> xrev.Exchange:
    ex = xrev.Exchange(registry, _caller(task), "fx__tool")
    ex.capabilities = {"elicitation": {}}
    return ex


def _elicit() -> types.ElicitRequest:
    return types.ElicitRequest(
        params=types.ElicitRequestFormParams(
            message="name?", requested_schema={"type": "object", "properties": {}}
        )
    )


def test_a_task_holds_a_bounded_number_of_pending_exchanges() -> None:
    registry, _audit = _registry()
    parked = [_asking(registry) for _ in range(xrev.MAX_PENDING_PER_TASK)]
    assert all(registry.park(ex) for ex in parked)
    assert not registry.park(_asking(registry))  # one too many for this task
    assert registry.park(_asking(registry, "tsk_2"))  # another task's are its own


def test_a_retry_is_refused_for_another_process_an_unknown_exchange_or_an_old_round() -> None:
    async def main() -> None:
        registry, audit = _registry()
        ex = _asking(registry)
        asked = asyncio.ensure_future(ex.ask(_elicit(), types.ElicitResult))
        await asyncio.sleep(0)
        ex.round = 1
        assert registry.park(ex)
        with pytest.raises(MCPError, match="another gateway process"):
            registry.claim(f"{'0' * 16}.{ex.id}", 1, "tsk_1")
        with pytest.raises(MCPError, match="expired or ended"):
            registry.claim(f"{registry.key}.nope", 1, "tsk_1")
        with pytest.raises(MCPError, match="expired or ended"):
            registry.claim(ex.name, 1, "tsk_2")
        with pytest.raises(MCPError, match="earlier round"):
            registry.claim(ex.name, 0, "tsk_1")
        assert registry.claim(ex.name, 1, "tsk_1") is ex
        with pytest.raises(MCPError, match="being continued"):
            registry.claim(ex.name, 1, "tsk_1")
        await registry.end(ex, "retry_not_allowed")  # a denied retry
        answer = await asked
        assert isinstance(answer, types.ErrorData)  # the upstream is told no
        assert [k for k, _ in audit.records] == ["gateway.exchange_ended"]
        with pytest.raises(MCPError, match="expired or ended"):
            registry.claim(ex.name, 1, "tsk_1")

    asyncio.run(main())


def test_an_unanswered_request_expires_and_a_client_without_the_capability_is_never_asked() -> None:
    async def main() -> None:
        registry, audit = _registry(ttl=0.05)
        ex = _asking(registry)
        answer = await ex.ask(_elicit(), types.ElicitResult)
        assert isinstance(answer, types.ErrorData)
        assert [f["reason"] for _, f in audit.records] == ["expired"]
        mute = xrev.Exchange(registry, _caller(), "fx__tool")  # declared no elicitation
        refused = await mute.ask(_elicit(), types.ElicitResult)
        assert isinstance(refused, types.ErrorData)
        assert mute.events.empty()  # the client was never asked

    asyncio.run(main())


def test_a_translated_state_is_refused_on_the_lean_path() -> None:
    seal = StateSeal(b"k" * 32, lambda: 1_800_000_000.0)
    token = seal.seal(BINDING, None, 1, "key.id")
    params = {"arguments": {}, "requestState": token, "inputResponses": {"upstream": {"action": "cancel"}}}
    with pytest.raises(MCPError, match="exchange this path does not hold"):
        modern_leg(params, None, seal, *BINDING[:3])
    assert seal.open_exchange(token, BINDING) == (None, 1, "key.id")
