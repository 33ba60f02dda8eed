"""`proctor demo` (what `make demo` runs) shows every part of the main job and exits 0."""

from __future__ import annotations

import io
import re

from rich.console import Console

from proctor.demo import run_demo


def test_demo_runs_end_to_end() -> None:
    buf = io.StringIO()
    assert run_demo(Console(file=buf, width=200, color_system=None)) == 0
    text = buf.getvalue()
    assert "approval_required" in text
    # approvals: a person approves the held payment; the identical call runs once, a replay waits again
    assert "alice@acme.test approved the held payment" in text
    assert "after approval: permitted by `approval.payments`" in text
    # (with flow facts the unsourced account also names flow.hold-untrusted-destination)
    assert re.search(r"replayed: permitted by `approval\.payments`[^\n]* only with approval", text)
    assert "forbidden by `guard.destructive-production`" in text
    assert "after suspend: agent `support-bot` is suspended" in text
    # credentials: issued for the task, denied to the other agent, dead after the task ends
    assert "expires with the task" in text
    assert "introspection: active=True" in text
    assert "denied: credential `payments-api` denied" in text
    assert "after task end: lease revoked; introspection: active=False" in text
    # a real MCP client (the official SDK, over stdio) through `proctor gateway` in front of the
    # real mcp-server-time: one call allowed, one denied by a Cedar policy, one held until approved
    mcp = text.split("A real MCP client through the gateway")[1].split("proctor audit verify: ok")[0]
    assert all(len(line) <= 80 for line in mcp.splitlines()), mcp
    assert "tools/list: time__convert_time, time__get_current_time" in mcp
    assert re.search(r"\n1 get_current_time Europe/Paris +allowed: 20\d\d-\d\d-\d\dT", mcp)
    assert re.search(r"\n2 get_current_time Asia/Tokyo +denied: forbidden by `demo\.europe-only`\n", mcp)
    held = re.search(r"\n3 convert_time 12:00 UTC→Paris +held for approval (apr_\S+)\n", mcp)
    assert held, mcp
    assert re.search(r"alice@acme\.test approved it +ran once: \S+T1[34]:00:00\+0[12]:00\n", mcp)
    for record in (
        r"decision allow +time\.get_current_time +baseline\.read",
        r"call\.completed +time\.get_current_time +ok",
        r"decision deny +time\.get_current_time +demo\.europe-only",
        r"decision approval_required +time\.convert_time +approval\.deployments",
        r"approval\.approved +time\.convert_time +by alice@acme\.test",
        r"decision allow +time\.convert_time +approval\.deployments",
        r"call\.completed +time\.convert_time +ok",
    ):
        assert re.search(r"\n +\d+  " + record + r"\n", mcp), (record, mcp)
    assert "proctor audit verify: ok" in text
    assert "proctor audit verify on the copy: FAILED at record" in text
