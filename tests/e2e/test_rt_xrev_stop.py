"""Red team of the cross-revision exchanges (2026-12-06), with real processes: a real
``proctor gateway --http`` holding an upstream's call for a 2026-07-28 client's retry (the
everything fixture over stdio elicits mid-call) ends that exchange when the task ends and when the
gateway is stopped (SIGTERM), recorded with why; before, it ended only as the task's upstream
session was torn down under it, recorded ``upstream_ended`` (as if the upstream had died)."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.e2e.test_gateway_xrev import _ask, _gateways

from proctor.app import Proctor


def test_stopping_the_gateway_ends_a_pending_exchange_recorded(tmp_path: Path) -> None:
    with (
        _gateways(tmp_path, config="gateway: {exchange_ttl: 10m}\n") as gw,
        httpx.Client(timeout=30) as client,
    ):
        first = _ask(gw, client, 1)
        assert first.json()["result"]["resultType"] == "input_required", first.text
    # the context stopped the gateway with SIGTERM (and waited for it)
    ended = gw.audit("gateway.exchange_ended")
    assert [x["reason"] for x in ended] == ["shutdown"], ended


def test_ending_the_task_ends_its_pending_exchange_recorded(tmp_path: Path) -> None:
    with (
        _gateways(tmp_path, config="gateway: {exchange_ttl: 10m}\n") as gw,
        httpx.Client(timeout=30) as client,
    ):
        first = _ask(gw, client, 1)
        assert first.json()["result"]["resultType"] == "input_required", first.text
        with Proctor.open(gw.ws) as p:
            (task,) = p.tasks.list(state="active")
            p.tasks.end(task.id)
        gw.wait_for("gateway.exchange_ended", 1)
        ended = gw.audit("gateway.exchange_ended")
    assert [x["reason"] for x in ended] == ["task_ended"], ended
