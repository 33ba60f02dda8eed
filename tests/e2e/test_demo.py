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
    assert "proctor audit verify: ok" in text
    assert "proctor audit verify on the copy: FAILED at record" in text
