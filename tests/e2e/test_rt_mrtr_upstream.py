"""Red team of the multi-round-trip pass-through (ADR 0031, amendment of 2026-12-05): what an
upstream can do with ``input_required`` through the gateway's lean path (proctor.gateway.mrtr).

- A state the upstream may hand out (under 64 KiB) but whose sealed form the gateway would not take
  back used to reach the client, whose retry was then refused -32602: the upstream had been asked,
  the exchange could never finish. The seal now costs UTF-8, not JSON escapes (20,000 ``é`` travel)
  and a state that still does not fit is an upstream error at once.
- An upstream that asks forever was relayed forever (nothing counted the rounds but the state):
  after ``MAX_ROUNDS`` the gateway answers an upstream error, each round decided and audited.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from tests.conformance_mcp.fixture import free_port, wait_http_ready
from tests.e2e.test_gateway_mrtr import _send
from tests.e2e.test_gateway_revisions import _gateway

from proctor.gateway.mrtr import MAX_REQUEST_STATE, MAX_ROUNDS

SERVER = Path(__file__).resolve().parents[1] / "fixtures" / "mrtr_asking_server.py"
GO_ON = {"ok": {"action": "accept", "content": {}}}


@contextmanager
def _asking(tmp_path: Path) -> Iterator[list[dict[str, Any]]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with (tmp_path / "asking.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, str(SERVER), "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_http_ready(url, proc)
        yield [{"namespace": "ask", "url": url, "default": {"effect": "read"}}]
    finally:
        proc.terminate()
        proc.wait(10)


def test_rt_mrtr_a_wide_upstream_state_the_client_can_present_back(tmp_path: Path) -> None:
    with _asking(tmp_path) as ups, _gateway(tmp_path, ups) as gw, httpx.Client(timeout=30) as client:
        first = _send(gw, client, "ask__wide", 1)
        assert first.status_code == 200, first.text
        asked = first.json()["result"]
        assert asked["resultType"] == "input_required", asked
        state = asked["requestState"]
        assert len(state) <= MAX_REQUEST_STATE
        done = _send(gw, client, "ask__wide", 2, inputResponses=GO_ON, requestState=state)
        assert done.status_code == 200, done.text
        result = done.json()["result"]
        assert result["content"][0]["text"] == "wide state came back", result
        assert gw.audit("gateway.refused") == []


def test_rt_mrtr_an_upstream_that_asks_forever_is_stopped_after_max_rounds(tmp_path: Path) -> None:
    with _asking(tmp_path) as ups, _gateway(tmp_path, ups) as gw, httpx.Client(timeout=30) as client:
        answers: list[dict[str, Any]] = []
        params: dict[str, Any] = {}
        for rid in range(1, MAX_ROUNDS + 5):
            r = _send(gw, client, "ask__forever", rid, **params)
            assert r.status_code == 200, r.text
            answers.append(r.json()["result"])
            if answers[-1].get("resultType") != "input_required":
                break
            params = {"inputResponses": GO_ON, "requestState": answers[-1]["requestState"]}
        decisions = gw.audit("decision")
        completed = gw.audit("call.completed")
    assert [a.get("resultType") for a in answers] == ["input_required"] * MAX_ROUNDS + ["complete"]
    last = answers[-1]
    assert last["isError"] is True, last
    # every round was a decided call: the first and MAX_ROUNDS continuations, the last one refused
    assert [d["decision"] for d in decisions] == ["allow"] * (MAX_ROUNDS + 1)
    assert [(d.get("continuation") or {}).get("round") for d in decisions] == [
        None,
        *range(1, MAX_ROUNDS + 1),
    ]
    assert [c.get("result_type") for c in completed][:MAX_ROUNDS] == ["input_required"] * MAX_ROUNDS
    assert completed[-1].get("result_type") is None
    assert completed[-1]["status"] == "upstream_error", completed[-1]
    assert f"more than {MAX_ROUNDS} rounds" in last["content"][0]["text"], last
