"""Red team of the 2026-07-28 ``input_required`` pass-through (ADR 0031, amendments of 2026-12-06):
a state is bound to the upstream, not only to its namespace.

A reload of ``upstreams.yaml`` may point a namespace at another server. A ``requestState`` the
first server handed out (sealed by the gateway for the task, the namespace, the prompt/resource or
tool and its arguments) still opened after the reload, and its content (the first server's own
state, which may hold what the person answered it) went to the second server with the retry. The
binding now names the upstream by its namespace and a digest of where it is; the retry is refused
-32602 as any state issued for another upstream.
"""

from __future__ import annotations

import base64
import json

import pytest
from mcp.shared.exceptions import MCPError

from proctor.gateway.config import upstream_from_mapping
from proctor.gateway.mrtr import StateSeal, modern_leg, relay_binding, upstream_id

TASK = "tsk_1"
FIRST = upstream_from_mapping({"namespace": "docs", "url": "http://127.0.0.1:3001/mcp"})
REPOINTED = upstream_from_mapping({"namespace": "docs", "url": "http://10.0.0.9:3001/mcp"})
SAME_PLACE = upstream_from_mapping({"namespace": "docs", "url": "http://127.0.0.1:3001/mcp", "timeout": "5s"})
ARGS = {"uri": "prompt://docs/summary", "arguments": {"topic": "q3"}}


def _seal() -> StateSeal:
    return StateSeal(b"k" * 32, lambda: 1_000.0)


def test_rt_new_a_relayed_state_does_not_open_for_a_repointed_namespace() -> None:
    seal = _seal()
    token = seal.seal(relay_binding(TASK, FIRST, "prompts/get", ARGS), "first-server-state", 1)
    assert seal.open(token, relay_binding(TASK, FIRST, "prompts/get", ARGS)) == ("first-server-state", 1)
    # the same server, its configuration otherwise changed (a timeout): still the same upstream
    assert seal.open(token, relay_binding(TASK, SAME_PLACE, "prompts/get", ARGS))[0] == "first-server-state"
    with pytest.raises(MCPError) as refused:
        seal.open(token, relay_binding(TASK, REPOINTED, "prompts/get", ARGS))
    assert refused.value.error.code == -32602
    # the client can read the envelope: it holds a keyed digest of the binding, not the binding
    # (the task, where the upstream is, the digest of the arguments)
    data = token.split(".")[1]
    envelope = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
    assert envelope["s"] == "first-server-state"
    assert TASK not in json.dumps(envelope)
    assert upstream_id(FIRST) not in json.dumps(envelope)


def test_rt_new_a_tool_state_does_not_open_for_a_repointed_namespace() -> None:
    seal = _seal()
    params = {"name": "docs__ask", "arguments": {"q": 1}}
    first = modern_leg(params, None, seal, TASK, upstream_id(FIRST), "docs__ask")
    token = seal.seal(first._binding, "first-server-state", 1)
    retry = {**params, "requestState": token, "inputResponses": {"ok": {"action": "accept"}}}
    assert modern_leg(retry, None, seal, TASK, upstream_id(FIRST), "docs__ask")._upstream_state == (
        "first-server-state"
    )
    with pytest.raises(MCPError) as refused:
        modern_leg(retry, None, seal, TASK, upstream_id(REPOINTED), "docs__ask")
    assert refused.value.error.code == -32602
