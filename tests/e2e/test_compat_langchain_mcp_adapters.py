"""LangChain agents through Proctor with the real ``langchain-mcp-adapters`` (issue 16).

``langchain-mcp-adapters`` requires mcp<2 and Proctor runs on mcp 2, so the adapter runs in its own
virtual environment (``scripts/ensure-compat.sh``, run by ``make test``) as a subprocess:
``tests/compat/lma_client.py`` loads the gateway's tools with ``MultiServerMCPClient`` and invokes
them as LangChain tools. Real parts throughout: the adapter and its mcp 1.x client, a real
``proctor gateway`` (over stdio from the config ``proctor mcp-config --template`` prints, and over
streamable HTTP with headers), a real MCP server behind it. Nothing is mocked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.gateway_harness import free_port
from tests.e2e.test_first_ten_minutes import _start, _stop, _wait_listening
from tests.e2e.thin_harness import PROCTOR, SRC, Daemon

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.store.base import AuditQuery
from proctor.types import TaskState
from proctor.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
COMPAT_PY = ROOT / ".tools" / "compat-venv" / "bin" / "python"
CLIENT = ROOT / "tests" / "compat" / "lma_client.py"
FIXTURES = ROOT / "tests" / "fixtures"
UID = f"unix:uid:{os.getuid()}"
_OFFICE = ["--template", "office"]
_CONFIG_ARGS = ["--client", "claude-desktop", "--agent", "bot", "--template", "echo"]


@pytest.fixture(scope="module", autouse=True)
def _compat_venv() -> None:
    if not COMPAT_PY.exists():
        pytest.fail(f"{COMPAT_PY} is missing: run `make compat` (scripts/ensure-compat.sh); `make test` does")


def _workspace(root: Path) -> Workspace:
    """Upstream `bad` (the echo fixture): `echo` is a read, `crash` a production write (the
    starter holds production writes for the owner's approval)."""
    ws, _ = Workspace.init(root / "ws", config_text="trust_domain: acme.test\napprovals: {hold: 0}\n")
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {
                    "namespace": "bad",
                    "command": sys.executable,
                    "args": [str(FIXTURES / "misbehaving_server.py")],
                    "default": {"effect": "read"},
                    "tools": {"crash": {"effect": "write", "flags": ["production"]}},
                }
            )
        ],
    )
    return ws


def _adapter(job: dict[str, Any], env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Run the adapter client on ``job``; its rounds."""
    r = subprocess.run(
        [str(COMPAT_PY), str(CLIENT)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=240,
        env={"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), **(env or {})},
        check=False,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return list(json.loads(r.stdout)["rounds"])


def _decisions(ws: Workspace) -> list[Any]:
    with Proctor.open(ws) as p:
        return list(p.store.search_audit(AuditQuery(kind="decision")))


def test_stdio_config_from_mcp_config_works_for_every_launch(tmp_path: Path) -> None:
    """The config `mcp-config --template` prints (no secret in it) given to the adapter as a stdio
    connection: three launches, each a fresh task from the template; the allowed tool runs, the
    tool the task does not allow is not offered."""
    ws = _workspace(tmp_path)
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test", [UID])
        p.templates.add(
            "echo", agents=["bot"], purpose="echo things", allow=["bad.echo"], requested_by="lead@acme.test"
        )
    printed = subprocess.run(
        [*PROCTOR, "mcp-config", "--workspace", str(ws.root), *_CONFIG_ARGS],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": SRC, "COLUMNS": "300", "HOME": str(ws.root)},
        timeout=120,
        check=False,
    )
    assert printed.returncode == 0, printed.stderr
    entry = json.loads(printed.stdout)["mcpServers"]["proctor"]
    assert set(entry) == {"command", "args"}
    # the printed command is the installed console script; this checkout's code runs instead
    connection = {
        "transport": "stdio",
        "command": sys.executable,
        "args": [*PROCTOR[1:], *entry["args"]],
        "env": {"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
    }
    job = {"connections": {"proctor": connection}, "calls": [["bad__echo", {"text": "hi"}]], "rounds": 3}
    with Daemon(ws.root):
        rounds = _adapter(job)
    assert [r["tools"] for r in rounds] == [["bad__echo"]] * 3
    assert [r["results"] for r in rounds] == [[{"status": "success", "content": "hi"}]] * 3
    with Proctor.open(ws) as p:
        tasks = [t for t in p.store.list_tasks(None, None) if t.purpose == "echo things"]
    # the adapter opens a session to list the tools and a new one for every call (its default,
    # stateless use): each launch is a task from the template, six in all
    assert len(tasks) == 6
    allowed = [d for d in _decisions(ws) if d.tool == "bad.echo" and d.decision == "allow"]
    assert len({d.task for d in allowed}) == 3
    assert {t.state for t in tasks} <= {TaskState.ACTIVE, TaskState.COMPLETED}


def test_http_with_headers_allowed_and_denied_calls(tmp_path: Path) -> None:
    """Streamable HTTP with the SVID and task token as headers (`mcp-config --transport http
    --headers`): the read runs; the production write is held for approval and reaches the
    LangChain agent as a failed tool output (a ToolMessage with status "error") naming the request
    and its review page; the tool the task does not allow is not offered; the decisions are in the
    audit chain and `audit verify` passes."""
    ws = _workspace(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with Proctor.open(ws) as p:
        agent = p.agents.add("bot", "owner@acme.test")
        svid = p.agents.issue_svid(agent, url)
        task = p.tasks.start(
            agent="bot", purpose="echo", allow=["bad.echo", "bad.crash"], requested_by="r@acme.test"
        )
    gateway = _start(ws.root, "gateway", "--http", "--no-socket", "--port", str(port))
    try:
        _wait_listening(gateway, url)
        headers = {"Authorization": f"Bearer {svid}", "Proctor-Task": task.token}
        job = {
            "connections": {"proctor": {"transport": "streamable_http", "url": url, "headers": headers}},
            "calls": [["bad__echo", {"text": "over http"}], ["bad__crash", {}]],
            "rounds": 2,
        }
        rounds = _adapter(job)
    finally:
        _stop(gateway)
    for r in rounds:
        assert r["tools"] == ["bad__crash", "bad__echo"]  # `hang` is not the task's
        echo, crash = r["results"]
        assert echo == {"status": "success", "content": "over http"}
        assert crash["status"] == "error", crash
        assert crash["content"].startswith("This call needs approval by owner before it can run")
        assert "/approvals/apr_" in crash["content"]
    decided = [(d.tool, d.decision) for d in _decisions(ws)]
    assert decided.count(("bad.echo", "allow")) == 2
    assert decided.count(("bad.crash", "approval_required")) == 2
    verify = subprocess.run(
        [*PROCTOR, "audit", "verify", "--workspace", str(ws.root)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": SRC},
        timeout=120,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_an_injected_payment_through_one_adapter_session_is_held_with_its_origin(tmp_path: Path) -> None:
    """The starter policies, a LangChain agent on one adapter session (`client.session` +
    `load_mcp_tools`, one launch and one task from the template): it reads the inbox (untrusted)
    and pays the IBAN the e-mail names. The payment is held, nothing reaches the upstream, and the
    decision names the IBAN as coming from the inbox; the whole round is one task."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\napprovals: {hold: 0}\n")
    calls = tmp_path / "calls.jsonl"
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {
                    "namespace": "office",
                    "command": sys.executable,
                    "args": [str(FIXTURES / "office_server.py")],
                    "env": {"FIXTURE_CALL_LOG": str(calls)},
                    "default": {"effect": "read", "labels": {"trust": "untrusted"}},
                    "tools": {
                        "read_inbox": {"effect": "read", "labels": {"trust": "untrusted"}},
                        "send_money": {"effect": "pay", "flags": ["financial"]},
                    },
                }
            )
        ],
    )
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test", [UID])
        p.templates.add(
            "office",
            agents=["bot"],
            purpose="Pay this month's invoices",
            allow=["office.read_inbox", "office.send_money"],
            requested_by="lead@acme.test",
        )
    connection = {
        "transport": "stdio",
        "command": sys.executable,
        "args": [
            *PROCTOR[1:],
            "gateway",
            "--stdio",
            "--socket",
            str(ws.root / "run" / "gateway.sock"),
            *_OFFICE,
        ],
        "env": {"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"},
    }
    iban = "DE89 3704 0044 0532 0130 00"
    job = {
        "connections": {"proctor": connection},
        "calls": [["office__read_inbox", {}], ["office__send_money", {"iban": iban, "amount": 1250.0}]],
        "persistent": True,
    }
    with Daemon(ws.root):
        [round_] = _adapter(job)
    read, pay = round_["results"]
    assert read["status"] == "success"
    assert iban in read["content"]
    assert pay["status"] == "error", pay
    assert pay["content"].startswith("This call needs approval by owner")
    assert [json.loads(line)["tool"] for line in calls.read_text().splitlines()] == ["read_inbox"]
    with Proctor.open(ws) as p:
        tasks = [t for t in p.store.list_tasks(None, None) if t.purpose == "Pay this month's invoices"]
        [held] = [
            json.loads(r.body)
            for r in p.store.search_audit(AuditQuery(kind="decision"))
            if r.tool == "office.send_money"
        ]
    assert len(tasks) == 1
    assert held["decision"] == "approval_required"
    assert held["flow"]["read_untrusted"] is True
    by_arg = {a["arg"]: a for a in held["provenance"]["args"]}
    assert by_arg["iban"]["origin"] == "untrusted"
    assert by_arg["iban"]["sources"] == ["office.read_inbox"]
