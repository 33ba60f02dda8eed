"""Rate-limited audit of refused requests (proctor.audit.refusals), alone and behind the gateway's
and the HTTP API's front doors, on a real workspace and a frozen clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest
from tests.unit.conftest import Env

from proctor.audit.refusals import (
    OTHER_SOURCES,
    SUPPRESSED_KIND,
    RefusalLimiter,
    RefusalLimits,
    write_summaries,
)
from proctor.clock import FrozenClock
from proctor.store.base import AuditQuery


def _kinds(env: Env, kind: str) -> list[dict[str, Any]]:
    env.p.audit.flush()
    return [json.loads(r.body) for r in env.p.store.search_audit(AuditQuery(kind=kind, limit=1000))]


def test_a_source_gets_burst_records_per_window_then_one_summary() -> None:
    """The first `burst` refusals of a window are recorded, the rest counted; the next refusal
    after the window closed carries the summary, and opens a new window."""
    clock = FrozenClock(0.0)
    lim = RefusalLimiter(clock, RefusalLimits(burst=3, window_s=10.0), refused="api.refused")
    verdicts = [lim.admit("10.0.0.1") for _ in range(50)]
    assert [v.record for v in verdicts] == [True] * 3 + [False] * 47
    assert all(v.summaries == () for v in verdicts)
    clock.advance(9.9)
    assert lim.admit("10.0.0.1").record is False  # still the same window
    clock.advance(0.1)
    after = lim.admit("10.0.0.1")
    assert after.record is True
    assert [s.message for s in after.summaries] == ["48 refusals from 10.0.0.1 suppressed in the last 10 s"]
    assert after.summaries[0].fields()["refused"] == "api.refused"


def test_sources_are_counted_apart_and_a_quiet_window_has_no_summary() -> None:
    """Another address has its own window; a window that suppressed nothing closes silently;
    a closed window is summarised at the next refusal from anyone, or by `due()`."""
    clock = FrozenClock(0.0)
    lim = RefusalLimiter(clock, RefusalLimits(burst=1, window_s=5.0))
    assert lim.admit("a").record
    assert lim.admit("b").record
    assert not lim.admit("a").record
    clock.advance(5.0)
    assert [(s.source, s.count) for s in lim.admit("c").summaries] == [("a", 1)]
    clock.advance(5.0)
    assert lim.due() == ()  # `c` and the new windows suppressed nothing
    assert lim.admit("a").record


def test_sources_beyond_the_table_share_one_bucket() -> None:
    """Memory and records stay bounded however many addresses send refusals."""
    clock = FrozenClock(0.0)
    lim = RefusalLimiter(clock, RefusalLimits(burst=2, window_s=60.0, max_sources=4))
    recorded = sum(lim.admit(f"10.0.{i // 256}.{i % 256}").record for i in range(1000))
    assert recorded == 4 + 2  # one from each of four tracked sources, then the shared bucket's burst
    summaries = lim.drain()
    assert [(s.source, s.count) for s in summaries] == [(OTHER_SOURCES, 1000 - 4 - 2)]
    assert lim.admit("10.0.0.0").record  # the table was emptied with the summaries
    assert lim.drain() == ()


def test_limits_refuse_nonsense() -> None:
    """A window of no length or a negative burst is a configuration error, not a silent allow."""
    for bad in ({"burst": -1}, {"window_s": 0.0}, {"max_sources": 0}):
        with pytest.raises(ValueError, match="refusal audit limits"):
            RefusalLimits(**bad)


def test_limits_come_from_the_workspace_config(tmp_path: Any) -> None:
    """`audit.refusal_records` and `audit.refusal_window` set the limits; the defaults are safe."""
    from proctor.config import load_settings

    cfg = tmp_path / "proctor.yaml"
    cfg.write_text("trust_domain: acme.test\naudit: {refusal_records: 2, refusal_window: 5m}\n")
    s = load_settings(cfg, env={})
    assert (s.refusal_audit_burst, s.refusal_audit_window_s) == (2, 300.0)
    cfg.write_text("trust_domain: acme.test\n")
    s = load_settings(cfg, env={})
    assert (s.refusal_audit_burst, s.refusal_audit_window_s) == (10, 60.0)


def test_a_gateway_flood_writes_a_bounded_number_of_records(env: Env) -> None:
    """Unauthenticated requests to the HTTP gateway: `burst` `gateway.refused` records with their
    source, then one summary when the window closes (written with the next refusal)."""
    from proctor.gateway.http import GatewayAuth

    async def never(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("a refused request reached the app")

    auth = GatewayAuth(never, env.p, "http://127.0.0.1:9/mcp", "http://127.0.0.1:8470")
    auth._refusals = RefusalLimiter(
        env.clock, RefusalLimits(burst=3, window_s=60.0), refused="gateway.refused"
    )

    async def flood(n: int, host: str) -> list[int]:
        statuses = []
        for _ in range(n):
            sent: list[MutableMapping[str, Any]] = []

            async def send(msg: MutableMapping[str, Any]) -> None:
                sent.append(msg)  # noqa: B023  # awaited before the next round rebinds it

            async def receive() -> MutableMapping[str, Any]:
                return {"type": "http.request", "body": b"", "more_body": False}

            scope = {
                "type": "http",
                "method": "POST",
                "path": "/mcp",
                "headers": [(b"host", b"127.0.0.1:9")],
                "client": (host, 5555),
            }
            await auth(scope, receive, send)
            statuses.append(sent[0]["status"])
        return statuses

    assert asyncio.run(flood(40, "10.1.2.3")) == [401] * 40
    refused = _kinds(env, "gateway.refused")
    assert len(refused) == 3
    assert {(r["source"], r["error"]) for r in refused} == {("10.1.2.3", "identity_invalid")}
    assert _kinds(env, SUPPRESSED_KIND) == []
    env.clock.advance(60.0)
    asyncio.run(flood(1, "10.9.9.9"))
    summaries = _kinds(env, SUPPRESSED_KIND)
    assert [(s["source"], s["suppressed"], s["refused"]) for s in summaries] == [
        ("10.1.2.3", 37, "gateway.refused")
    ]
    assert len(_kinds(env, "gateway.refused")) == 4


def test_the_api_audits_admin_refusals_within_limits(env: Env) -> None:
    """Requests without the admin token are `api.refused` records (source, method, path), bounded
    per source; the serve sweeper's `write_summaries` writes the summary once the window closes."""
    from proctor.server.api import create_app

    app = create_app(env.p, env.ws, refusal_limits=RefusalLimits(burst=2, window_s=30.0))
    limiter: RefusalLimiter = app.state.refusals
    limiter.clock = env.clock

    async def flood() -> list[int]:
        transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 4444))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return [
                (await c.get("/v1/tasks", headers={"Authorization": "Bearer pta_nope"})).status_code
                for _ in range(25)
            ]

    assert asyncio.run(flood()) == [401] * 25
    refused = _kinds(env, "api.refused")
    assert [(r["source"], r["error"], r["method"], r["path"]) for r in refused] == [
        ("192.0.2.7", "admin_token_invalid", "GET", "/v1/tasks")
    ] * 2
    write_summaries(env.p.audit, limiter)
    assert _kinds(env, SUPPRESSED_KIND) == []  # the window is still open
    env.clock.advance(30.0)
    write_summaries(env.p.audit, limiter)
    assert [s["suppressed"] for s in _kinds(env, SUPPRESSED_KIND)] == [23]
