"""The compliance report (issue 18 part 4, ADR 0033) as a person opens it: a real `proctor report
compliance --format html` run on a workspace with calls, an approval and an unowned agent, the file
opened in headless Chromium (Debian's, by its executable path). Its three charts (inline SVG) and its
tables are there, nothing is fetched from anywhere, no script runs, and the console stays clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.e2e.gateway_harness import child_env
from tests.e2e.web_harness import browser_page
from tests.unit.conftest import CONFIG

from proctor.approvals.model import Approver
from proctor.pipeline import CallInput
from proctor.testing import temporary_workspace
from proctor.types import Email, Verdict

EVIL = "<script>alert(1)</script>"


def _make_report(tmp_path: Path) -> Path:
    cfg = tmp_path / "cfg" / "claude_desktop_config.json"
    cfg.parent.mkdir(parents=True)
    server = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/srv"]}
    cfg.write_text(json.dumps({"mcpServers": {EVIL: server}}))
    out = tmp_path / "compliance.html"
    with temporary_workspace(tmp_path / "ws", config_text=CONFIG) as sandbox:
        p = sandbox.proctor
        agent = p.agents.add("bot", "owner@acme.test")
        svid = p.agents.issue_svid(agent)
        task = p.tasks.start(
            agent="bot",
            purpose=EVIL,
            allow=["fs.*", "payments.*"],
            resources=["/data/*", "acct-*"],
            requested_by="req@acme.test",
            ttl_s=600,
        )
        for i in range(3):
            call = CallInput(tool="fs.read", args={"path": f"/data/{i}"}, svid=svid, task_token=task.token)
            assert p.decide(call).verdict is Verdict.ALLOW
        pay = CallInput(
            tool="payments.transfer",
            args={"account": "acct-1", "amount": 5},
            svid=svid,
            task_token=task.token,
        )
        held = p.decide(pay)
        assert held.approval_id is not None
        sandbox.clock.advance(42)
        p.approvals.approve(held.approval_id, Approver(Email("owner@acme.test")), "ok")
        p.accounts.add("owner@acme.test", password=None, by="test")
        p.agents.add("orphan", "gone@acme.test")
        p.audit.flush()
        ws = str(sandbox.workspace.root)
        cmd = [sys.executable, "-m", "proctor.cli.main", "report", "compliance", str(cfg)]
        done = subprocess.run(
            [*cmd, "--format", "html", "--out", str(out), "-w", ws],
            env=child_env(dict(os.environ)),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    return out


def test_the_html_report_renders_its_charts_and_tables_offline(tmp_path: Path) -> None:
    report = _make_report(tmp_path)
    url = report.resolve().as_uri()
    console: list[str] = []
    requests: list[str] = []
    errors: list[str] = []
    with browser_page() as page:
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: errors.append(f"dialog: {d.message}"))
        page.goto(url)
        page.wait_for_load_state("load")
        charts = page.locator("svg.chart")
        assert charts.count() == 3
        labels = [charts.nth(i).get_attribute("aria-label") or "" for i in range(3)]
        assert any("Coverage per framework" in s for s in labels)
        assert any("findings by severity" in s for s in labels)
        assert any("Calls by decision" in s for s in labels)
        for i in range(3):
            box: Any = charts.nth(i).bounding_box()
            assert box is not None
            assert box["width"] > 100
            assert box["height"] > 50
        # the coverage bars and the stacked call bars are drawn (rects with a width and height)
        assert page.locator("svg.chart rect").count() > 10
        for table in ("controls", "coverage", "findings"):
            assert page.locator(f"table#{table} tbody tr").count() >= 1
        assert page.locator("table#controls tbody tr").count() == 6
        assert page.locator("table#coverage tbody tr").count() == 6
        # the attacker's server name is shown as text, never run
        assert EVIL in page.locator("table#findings").inner_text()
        assert page.locator("script").count() == 0
        assert "42" in page.locator("table#controls").inner_text()  # the approval's response time
    assert errors == []
    assert [c for c in console if c.startswith("error")] == []
    assert requests == [url]
