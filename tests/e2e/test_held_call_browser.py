"""The whole path of a held call, with every part real: an agent calls `time__convert_time` through a
`proctor gateway --http` process (official MCP client, real `mcp-server-time` upstream); the policy
holds it for the agent's owner; the owner signs in to `proctor serve` in Debian's Chromium (driven by
Playwright), sees the held call with its arguments and approves it; the agent's held call then
completes with the upstream's real result."""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from tests.e2e.test_gateway_held_calls import ARGS, TOOL, Running, pending, real_result, start
from tests.e2e.test_web_login import PW, add_user
from tests.e2e.web_harness import browser_page, proctor_serve

from proctor.app import Proctor
from proctor.approvals.model import ApprovalState


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Running]:
    r = start(tmp_path, "90s")
    try:
        yield r
    finally:
        r.proc.terminate()
        try:
            r.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            r.proc.kill()


def test_an_owner_approves_a_held_mcp_call_in_the_browser_and_it_completes(gateway: Running) -> None:
    from playwright.sync_api import expect

    r = gateway
    add_user(r.ws.root, "owner@acme.test")
    out: dict[str, Any] = {}

    def agent() -> None:
        async def main() -> None:
            async with r.client("2025-11-25") as c:
                out["result"] = await c.call_tool(TOOL, ARGS)

        try:
            anyio.run(main)
        except BaseException as exc:  # reported by the assertions below
            out["error"] = exc

    th = threading.Thread(target=agent, daemon=True)
    th.start()
    (aid,) = pending(r.ws, 30)
    assert "result" not in out  # held: waiting for a person
    with proctor_serve(r.ws.root) as url, browser_page() as page:
        page.goto(url + "/approvals")
        page.wait_for_url(re.compile(r"/login\?next="))
        page.fill("input[name=email]", "owner@acme.test")
        page.fill("input[name=password]", PW)
        page.click("button[type=submit]")
        page.wait_for_url(url + "/approvals")
        page.click(f"a[href='/approvals/{aid}']")
        args = page.locator("table.args")
        expect(args).to_contain_text("Europe/Paris")
        expect(args).to_contain_text("12:00")
        expect(page.locator("main")).to_contain_text("time.convert_time")
        page.fill("textarea[name=reason]", "planned change, checked")
        page.click("button[value=approve]")
        expect(page.locator(".notice")).to_contain_text("You approved this request")
    th.join(60)
    assert "error" not in out, out.get("error")
    real_result(out["result"])  # the upstream's own answer, through the held call
    with Proctor.open(r.ws) as p:
        req = p.approvals.get(aid)
    assert req.state is ApprovalState.USED
    assert req.decided_by == "owner@acme.test"
