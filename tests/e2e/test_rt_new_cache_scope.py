"""Red team of ``resources/read`` at 2026-07-28 through the gateway (ADR 0031, amendment of
2026-12-06): caching directives an upstream sets must not reach the client.

Every read is decided (the relay tool ``<ns>.resources.read``), labelled and recorded per request
and per task. An upstream's ``cacheScope: "public"`` with a day-long ``ttlMs``, relayed as it came,
told a 2026-07-28 client (and any shared cache in front of the gateway) that it may serve that read
again, to anyone, for a day: without a decision, after the policy denies it or the task ended, to
another agent. The lean leg already took them off; the SDK session's answer now has them taken off
too (``ttlMs: 0``, ``cacheScope: "private"``: the answer holds for this request only).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
from tests.e2e.test_gateway_mrtr import _read
from tests.e2e.test_gateway_revisions import ENVELOPE, MODERN, _gateway, _post

SERVER = Path(__file__).resolve().parents[1] / "fixtures" / "rt_new_cache_server.py"


def _caching() -> list[dict[str, Any]]:
    return [
        {"namespace": "cc", "command": sys.executable, "args": [str(SERVER)], "default": {"effect": "read"}}
    ]


def test_rt_new_an_upstreams_public_cache_scope_is_not_relayed(tmp_path: Path) -> None:
    with _gateway(tmp_path, _caching()) as gw, httpx.Client(timeout=30) as client:
        r = _read(gw, client, 1, "cache://shared")
        listed = _post(
            gw,
            client,
            {"jsonrpc": "2.0", "id": 2, "method": "resources/list", "params": {"_meta": ENVELOPE}},
            **{"MCP-Protocol-Version": MODERN, "Mcp-Method": "resources/list"},
        )
        decisions = [d for d in gw.audit("decision") if d.get("tool") == "cc.resources.read"]
    assert r.status_code == 200, r.text
    result = r.json()["result"]
    assert result["contents"][0]["text"] == "shared secret report"
    assert [d["decision"] for d in decisions] == ["allow"]
    # the answer holds for this decided request only
    assert result.get("cacheScope", "private") == "private", result
    assert result.get("ttlMs", 0) == 0, result
    # what the gateway lists is its own answer (per task), never the upstream's directives
    assert listed.status_code == 200, listed.text
    assert [x["uri"] for x in listed.json()["result"]["resources"]] == ["cache://shared"]
    assert listed.json()["result"].get("cacheScope", "private") == "private"
