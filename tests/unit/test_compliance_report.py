"""``proctor report compliance`` (issue 18 part 4, ADR 0033): each control's evidence counted from a
workspace with known records (calls under tasks, approvals with known response times, an ownerless
agent), every framework identifier taken from the reference catalogue, attacker-influenced values
escaped, and the JSON, Markdown and HTML outputs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from tests.unit.conftest import Env

from proctor.approvals.model import Approver
from proctor.pipeline import CallInput
from proctor.posture.compliance import CONTROL_IDS, compliance_report, gather
from proctor.posture.compliance_render import to_html, to_markdown
from proctor.posture.findings import FRAMEWORK_IDS
from proctor.posture.scan import scan
from proctor.types import Email, Verdict

FIX = Path(__file__).resolve().parents[1] / "fixtures"
EVIL = "<script>alert(1)</script>"
OWNER = Approver(Email("owner@acme.test"))


def _catalogue() -> set[str]:
    catalogue = json.loads((FIX / "frameworks.json").read_text())
    return {k for fw in catalogue.values() if isinstance(fw, dict) for k in fw}


def _read(env: Env, path: str) -> CallInput:
    return CallInput(tool="fs.read", args={"path": path}, svid=env.svid, task_token=env.task.token)


def _pay(env: Env, amount: int) -> CallInput:
    return CallInput(
        tool="payments.transfer",
        args={"account": "acct-1", "amount": amount},
        svid=env.svid,
        task_token=env.task.token,
    )


def build_workspace(env: Env) -> None:
    """3 allowed reads under a task; two held payments approved after 30 s and 90 s (then run);
    an agent whose owner is not an approver."""
    p = env.p
    for i in range(3):
        assert p.decide(_read(env, f"/data/{i}")).verdict is Verdict.ALLOW
    for amount, wait in ((100, 30.0), (200, 90.0)):
        d = p.decide(_pay(env, amount))
        assert d.verdict is Verdict.APPROVAL_REQUIRED
        assert d.approval_id
        env.clock.advance(wait)
        p.approvals.approve(d.approval_id, OWNER, "ok")
        assert p.decide(_pay(env, amount)).verdict is Verdict.ALLOW
    # an approver account exists, and a second agent's owner is not one: no accountable owner
    p.accounts.add("owner@acme.test", password=None, by="test")
    p.agents.add("orphan", "gone@acme.test")


def evil_config(tmp: Path) -> Path:
    """An MCP client configuration naming an unpinned server `<script>alert(1)</script>` (server
    names come from files anyone may write; agent names are validated, so they cannot carry it)."""
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "claude_desktop_config.json"
    server = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/srv"]}
    path.write_text(json.dumps({"mcpServers": {EVIL: server}}))
    return path


def report_of(env: Env, *paths: Path) -> dict[str, Any]:
    now = env.clock.now()
    found = scan(list(paths), now=now, proctor=env.p, clients=False)
    return compliance_report(gather(env.p, found.findings, now), workspace=str(env.ws.root))


def _control(report: dict[str, Any], cid: str) -> dict[str, Any]:
    [c] = [c for c in report["controls"] if c["id"] == cid]
    assert isinstance(c, dict)
    return c


def test_evidence_counted_from_known_records(env: Env) -> None:
    build_workspace(env)
    report = report_of(env)
    tasked = _control(report, "task-scoped-credentials")
    assert tasked["evidence"]["calls"] == 7
    assert tasked["evidence"]["calls_with_task"] == 7
    assert tasked["evidence"]["calls_without_task"] == 0
    assert tasked["evidence"]["share_with_task_pct"] == 100.0
    assert tasked["status"] == "met"
    enforced = _control(report, "policy-enforcement")
    assert enforced["evidence"]["decisions"] == {"allow": 5, "deny": 0, "approval_required": 2}
    approvals = _control(report, "human-approval")
    assert approvals["evidence"]["requested"] == 2
    assert approvals["evidence"]["decided"] == 2
    assert approvals["evidence"]["response_s"]["median"] == pytest.approx(60.0)
    assert approvals["evidence"]["response_s"]["max"] == pytest.approx(90.0)
    assert approvals["evidence"]["response_s"]["min"] == pytest.approx(30.0)
    owners = _control(report, "agent-ownership")
    assert owners["status"] == "attention"
    assert owners["evidence"]["owner_not_approver"] == ["orphan"]
    assert owners["evidence"]["agents"] == 2
    audit = _control(report, "audit-integrity")
    assert audit["evidence"]["ok"] is True
    # checkpoint_every: 5 in the test configuration: a checkpoint covers part of the log
    assert audit["evidence"]["verified_checkpoint_seq"] is not None
    assert 5 <= audit["evidence"]["verified_checkpoint_seq"] <= audit["evidence"]["head_seq"]
    posture = _control(report, "posture-findings")
    assert posture["status"] == "attention"
    assert posture["evidence"]["by_rule"] == {"agent.owner-not-approver": 1}
    # over time: every decision lands in a bucket
    buckets = report["calls_over_time"]["buckets"]
    assert sum(b["allow"] for b in buckets) == 5
    assert sum(b["approval_required"] for b in buckets) == 2


def test_a_call_without_a_task_lowers_the_share(env: Env) -> None:
    env.p.decide(_read(env, "/data/a"))
    env.p.decide(CallInput(tool="fs.read", args={"path": "/data/b"}, svid=env.svid))
    tasked = _control(report_of(env), "task-scoped-credentials")
    assert (tasked["evidence"]["calls_with_task"], tasked["evidence"]["calls_without_task"]) == (1, 1)
    assert tasked["evidence"]["share_with_task_pct"] == 50.0
    assert tasked["status"] == "attention"


def test_an_empty_workspace_has_no_evidence_for_calls_or_approvals(env: Env) -> None:
    report = report_of(env)
    assert _control(report, "task-scoped-credentials")["status"] == "no evidence"
    assert _control(report, "human-approval")["status"] == "no evidence"
    assert _control(report, "agent-ownership")["status"] == "met"


def test_every_framework_id_exists_in_the_catalogue(env: Env) -> None:
    """tests/fixtures/frameworks.json is a copy of shared/reference/frameworks.json."""
    build_workspace(env)
    report = report_of(env)
    known = _catalogue()
    used = {i for c in report["controls"] for i in c["frameworks"]}
    used |= {i for r in report["coverage"] for i in r["identifiers"]}
    used |= {i for f in report["findings"] for i in f["frameworks"]}
    assert used
    assert known >= used, used - known
    assert known >= CONTROL_IDS | FRAMEWORK_IDS
    # all six frameworks asked for are covered by at least one control
    assert all(r["controls"] >= 1 for r in report["coverage"])
    for ident in ("ASI03", "NHI1:2025", "T8", "MEASURE 2.8", "Layer 6", "AML.M0029"):
        assert ident in used


def test_values_are_escaped_in_html_and_markdown(env: Env, tmp_path: Path) -> None:
    build_workspace(env)
    report = report_of(env, evil_config(tmp_path / "cfg"))
    assert any(EVIL in f["evidence"] for f in report["findings"])
    html = to_html(report)
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    md = to_markdown(report)
    assert EVIL not in md
    assert "&lt;script&gt;" in md


def test_html_is_self_contained_with_charts_and_tables(env: Env, tmp_path: Path) -> None:
    build_workspace(env)
    html = to_html(report_of(env, evil_config(tmp_path / "cfg")))
    assert html.count("<svg") == 3
    for table in ("controls", "coverage", "findings"):
        assert f'<table id="{table}">' in html
    # nothing fetched from anywhere: no src=, no href=, no url(), no @import
    assert not re.search(r"\b(src|href)\s*=|url\(|@import", html, re.I)


def test_json_and_markdown_from_the_cli(env: Env, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from proctor.cli.main import app

    build_workspace(env)
    env.p.audit.flush()
    runner = CliRunner()
    ws = str(env.ws.root)
    res = runner.invoke(app, ["report", "compliance", "--format", "json", "-w", ws])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert _control(data, "task-scoped-credentials")["evidence"]["calls_with_task"] == 7
    res = runner.invoke(app, ["report", "compliance", "-w", ws])
    assert res.exit_code == 0, res.output
    assert "# Proctor compliance report" in res.stdout
    assert "| Control |" in res.stdout
    out = tmp_path / "r.html"
    res = runner.invoke(app, ["report", "compliance", "--format", "html", "--out", str(out), "-w", ws])
    assert res.exit_code == 0, res.output
    assert out.read_text().startswith("<!DOCTYPE html>")
    res = runner.invoke(app, ["report", "compliance", str(evil_config(tmp_path / "cfg")), "-w", ws])
    assert res.exit_code == 0, res.output
    assert "upstream.unpinned" in res.stdout
    assert EVIL not in res.stdout
    res = runner.invoke(app, ["report", "compliance", "--format", "pdf", "-w", ws])
    assert res.exit_code == 2
