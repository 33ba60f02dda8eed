"""The gateway's sealing of an upstream's ``requestState`` and the bounds on a retry's input
(proctor.gateway.mrtr; the round trip itself: tests/e2e/test_gateway_mrtr.py)."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.shared.exceptions import MCPError

from proctor.gateway.hold import INPUT_KEY
from proctor.gateway.mrtr import (
    MAX_INPUT_RESPONSES,
    MAX_UPSTREAM_STATE,
    STATE_TTL_S,
    StateSeal,
    args_digest,
    client_capabilities,
    continuation_of,
    input_required_result,
)

BINDING = ("tsk_1", "fx", "fx__tool", args_digest({"a": 1}))


class _Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def test_a_sealed_state_opens_only_for_its_own_call_and_until_it_expires() -> None:
    clock = _Clock()
    seal = StateSeal(b"k" * 32, clock)
    token = seal.seal(BINDING, "upstream-state", 1)
    assert "upstream-state" not in token  # wrapped, not passed as it came
    assert seal.open(token, BINDING) == ("upstream-state", 1)
    for other in (
        ("tsk_2", *BINDING[1:]),
        (BINDING[0], "other", *BINDING[2:]),
        (*BINDING[:2], "fx__other", BINDING[3]),
        (*BINDING[:3], args_digest({"a": 2})),
    ):
        with pytest.raises(MCPError) as refused:
            seal.open(token, other)
        assert refused.value.error.code == -32602
    for bad in (token + "x", token[:-3] + "AAA", "pgw1.e30.AAAA", "plain", "pgw1..", "pgw1.é.é"):
        with pytest.raises(MCPError):
            seal.open(bad, BINDING)
    with pytest.raises(MCPError):
        StateSeal(b"j" * 32, clock).open(token, BINDING)  # another key
    clock.t += STATE_TTL_S + 1
    with pytest.raises(MCPError):
        seal.open(token, BINDING)


def test_a_retry_s_input_is_bounded_and_the_gateway_s_own_key_stays_home() -> None:
    assert continuation_of({"name": "t"}) is None
    cont = continuation_of({"inputResponses": {INPUT_KEY: {"action": "accept"}, "q": {"action": "accept"}}})
    assert cont is not None
    assert cont.input_responses == {"q": {"action": "accept"}}
    assert cont.record(None) == {"input_responses": 2, "request_state": False}
    only_ours = continuation_of({"inputResponses": {INPUT_KEY: {"action": "accept"}}})
    assert only_ours is not None
    assert only_ours.input_responses is None
    bad_params: tuple[dict[str, Any], ...] = (
        {"requestState": 5},
        {"requestState": "x" * 200_000},
        {"inputResponses": []},
        {"inputResponses": {"a": "text"}},
        {"inputResponses": {str(i): {} for i in range(MAX_INPUT_RESPONSES + 1)}},
        {"inputResponses": {"a": {"pad": "x" * 300_000}}},
    )
    for params in bad_params:
        with pytest.raises(MCPError) as refused:
            continuation_of(params)
        assert refused.value.error.code == -32602


def test_an_upstream_s_input_required_is_checked_and_its_state_sealed() -> None:
    seal = StateSeal(b"k" * 32, _Clock())
    asked = {"q": {"method": "elicitation/create", "params": {"message": "?"}}}
    out = input_required_result({"resultType": "input_required", "inputRequests": asked}, seal, BINDING, 1)
    assert out["inputRequests"] == asked
    assert seal.open(out["requestState"], BINDING) == (None, 1)
    for bad in (
        {"inputRequests": {INPUT_KEY: asked["q"]}},  # the gateway's own key
        {"inputRequests": {"q": {"method": "tools/call"}}},
        {"inputRequests": asked, "requestState": "s" * (MAX_UPSTREAM_STATE + 1)},
        {},
    ):
        with pytest.raises(ValueError, match=r"input|requestState"):
            input_required_result(bad, seal, BINDING, 1)


def test_only_the_capabilities_input_requests_need_are_declared_upstream() -> None:
    meta: dict[str, Any] = {
        "io.modelcontextprotocol/clientCapabilities": {"sampling": {}, "elicitation": {"url": {}}, "x": {}}
    }
    assert client_capabilities({"_meta": meta}) == {"sampling": {}, "elicitation": {"url": {}}}
    assert client_capabilities({}) == {}
