"""Red team of the gateway's sealed ``requestState`` (proctor.gateway.mrtr): what an upstream's
state costs once sealed, and how many rounds one exchange is given (the round trip through real
processes: tests/e2e/test_rt_mrtr_upstream.py)."""

from __future__ import annotations

import pytest

from proctor.gateway.mrtr import (
    MAX_ROUNDS,
    MAX_UPSTREAM_STATE,
    StateSeal,
    args_digest,
    continuation_of,
    input_required_result,
)

BINDING = ("tsk_1", "fx", "fx__tool", args_digest({}))
ASK = {"ok": {"method": "elicitation/create", "params": {"message": "?"}}}


def _seal() -> StateSeal:
    return StateSeal(b"k" * 32, lambda: 1_800_000_000.0)


@pytest.mark.parametrize("state", ["é" * 20_000, '"' * 30_000, "\x01" * 5_000, "a" * MAX_UPSTREAM_STATE])
def test_rt_mrtr_every_state_handed_out_is_one_the_gateway_takes_back(state: str) -> None:
    seal = _seal()
    out = input_required_result({"inputRequests": ASK, "requestState": state}, seal, BINDING, 1)
    token = out["requestState"]
    cont = continuation_of({"inputResponses": {"ok": {}}, "requestState": token})  # not refused
    assert cont is not None
    assert seal.open(token, BINDING) == (state, 1)


@pytest.mark.parametrize("state", ["😀" * 30_000, "\x01" * 40_000, "\ud800" * 10])
def test_rt_mrtr_a_state_that_cannot_come_back_is_not_handed_out(state: str) -> None:
    assert len(state) <= MAX_UPSTREAM_STATE
    # before, it was sealed into more than MAX_REQUEST_STATE characters (or a lone surrogate
    # escaped into a state the upstream never sent as UTF-8) and handed to the client anyway
    with pytest.raises(ValueError, match="requestState"):
        input_required_result({"inputRequests": ASK, "requestState": state}, _seal(), BINDING, 1)


def test_rt_mrtr_an_exchange_is_given_at_most_max_rounds() -> None:
    seal = _seal()
    assert input_required_result({"inputRequests": ASK}, seal, BINDING, MAX_ROUNDS)["requestState"]
    with pytest.raises(ValueError, match="rounds"):
        input_required_result({"inputRequests": ASK}, seal, BINDING, MAX_ROUNDS + 1)
