"""The flow stage through a real `proctor gateway --http` process (issue 15, docs/adr/0025): a task
reads an e-mail (an untrusted output) whose text carries an attacker's IBAN; a payment to that IBAN
is held for a person under a policy that reads `context.provenance.destination_untrusted`, while
the very same call in a task whose `--param` names the IBAN runs. What the task read is visible to
Cedar (`context.task.read_untrusted`); the decision record names the untrusted argument, never its
value; the held call's approval (service and `proctor approvals show`) shows each argument's
origin; a task's kept outputs are sealed, and deleted when it ends.

The upstream is a real MCP server over stdio (tests/fixtures/office_server.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from tests.e2e.gateway_harness import free_port

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.store.base import AuditQuery
from proctor.types import TaskId
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
IBAN = "DE89370400440532013000"  # the e-mail writes it grouped: DE89 3704 0044 0532 0130 00
PAY = {"iban": IBAN, "amount": 1250}
PURPOSE = "Pay ACME Energy's March invoice 4471 of 1250 EUR"

POLICY = """
@id("test.pay-traced")
permit (principal, action == Proctor::Action::"pay", resource)
when { principal.status == "active" && context.provenance.all_traced };

@id("test.pay-held")
@approval("owner")
permit (principal, action == Proctor::Action::"pay", resource)
when {
  principal.status == "active" &&
  (context.provenance.destination_untrusted || context.provenance.destination_unsourced)
};

@id("test.one-payment-per-task")
forbid (principal, action == Proctor::Action::"pay", resource)
when { context.history.payments > 1 };

@id("test.send-clean")
permit (principal, action == Proctor::Action::"send", resource)
when { principal.status == "active" && !context.task.read_untrusted };
"""


@dataclass
class Running:
    ws: Workspace
    url: str
    svid: str
    proc: subprocess.Popen[bytes]
    calls: Path

    def client(self, task_token: str) -> Client:
        h = {"Authorization": f"Bearer {self.svid}", "Proctor-Task": task_token}
        transport = streamable_http_client(self.url, http_client=httpx2.AsyncClient(headers=h, timeout=60))
        return Client(transport, cache=None, mode="legacy")


def _start(tmp_path: Path) -> Running:
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\napprovals: {hold: 0}\n")
    # a policy set of its own: the baseline (reads) and the rules under test
    for f in ws.policies_dir.glob("*.cedar"):
        if not f.name.startswith("00-"):
            f.unlink()
    (ws.policies_dir / "40-flow-test.cedar").write_text(POLICY, encoding="utf-8")
    (ws.policies_dir / "counters.yaml").write_text(
        "counters:\n  payments: {kind: count, match: {effects: [pay]}}\n", encoding="utf-8"
    )
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
                    # what the upstream serves besides its tools (its resources) is untrusted
                    "default": {"effect": "read", "labels": {"trust": "untrusted"}},
                    "tools": {
                        "read_inbox": {"effect": "read", "labels": {"trust": "untrusted"}},
                        "send_money": {"effect": "pay", "labels": {"trust": "trusted"}},
                        "notify": {"effect": "send", "labels": {"trust": "trusted"}},
                    },
                }
            )
        ],
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with Proctor.open(ws) as p:
        agent = p.agents.add("bot", "owner@acme.test")
        svid = p.agents.issue_svid(agent, url)
    proc = subprocess.Popen(
        [str(BIN / "proctor"), "gateway", "--http", "--port", str(port), "--workspace", str(ws.root)],
        env={**os.environ, "PATH": f"{BIN}:/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            assert time.monotonic() < deadline, "the gateway did not start"
            time.sleep(0.1)
    return Running(ws, url, svid, proc, calls)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    r = _start(tmp_path)
    yield r
    r.proc.terminate()
    try:
        r.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        r.proc.kill()


def _task(ws: Workspace, params: dict[str, str] | None = None) -> tuple[str, str]:
    with Proctor.open(ws) as p:
        started = p.tasks.start(
            agent="bot",
            purpose=PURPOSE,
            allow=["office.*"],
            requested_by="alice@acme.test",
            ttl_s=3600,
            params=params,
        )
    return str(started.task.id), started.token


def _text(result: types.CallToolResult) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def _calls(r: Running, tool: str) -> list[dict[str, Any]]:
    if not r.calls.exists():
        return []
    rows = [json.loads(line) for line in r.calls.read_text(encoding="utf-8").splitlines()]
    return [x for x in rows if x["tool"] == tool]


def _records(ws: Workspace, **query: Any) -> list[dict[str, Any]]:
    with Proctor.open(ws) as p:
        p.audit.flush()
        return [json.loads(bytes(x.body)) for x in p.store.search_audit(AuditQuery(limit=1000, **query))]


def _outputs(ws: Workspace, task_id: str, want: int, timeout_s: float = 10.0) -> list[Any]:
    """The task's kept outputs, once there are ``want`` (the gateway keeps them off the response
    path)."""
    deadline = time.monotonic() + timeout_s
    while True:
        with Proctor.open(ws) as p:
            got = p.store.outputs(TaskId(task_id))
        if len(got) >= want or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def test_an_iban_read_in_an_email_is_held_and_the_same_one_from_the_intent_runs(running: Running) -> None:
    r = running
    held_task, held_token = _task(r.ws)
    ok_task, ok_token = _task(r.ws, {"iban": IBAN})
    out: dict[str, types.CallToolResult] = {}

    async def main() -> None:
        async with r.client(held_token) as c:
            out["note_before"] = await c.call_tool("office__notify", {"to": "bob", "note": "starting"})
            out["inbox"] = await c.call_tool("office__read_inbox", {})
            out["pay_held"] = await c.call_tool("office__send_money", PAY)
            out["note_after"] = await c.call_tool("office__notify", {"to": "bob", "note": "paid"})
        async with r.client(ok_token) as c:
            out["inbox2"] = await c.call_tool("office__read_inbox", {})
            out["pay_ok"] = await c.call_tool("office__send_money", PAY)
            out["pay_again"] = await c.call_tool("office__send_money", PAY)

    anyio.run(main)
    assert "DE89 3704" in _text(out["inbox"])
    # the IBAN only the e-mail holds: held for the owner, never sent
    assert out["pay_held"].is_error
    assert "approval" in _text(out["pay_held"]), _text(out["pay_held"])
    # the same call in a task whose intent names the IBAN: it runs
    assert not out["pay_ok"].is_error, _text(out["pay_ok"])
    assert [c["args"]["iban"] for c in _calls(r, "send_money")] == [IBAN]
    # the forwarded payment is history: a second one in the task goes over the declared counter
    assert out["pay_again"].is_error
    # what the task read reaches Cedar: `send` is permitted only before it read untrusted content
    assert not out["note_before"].is_error, _text(out["note_before"])
    assert out["note_after"].is_error
    assert [c["args"]["note"] for c in _calls(r, "notify")] == ["starting"]

    # the decision records: the untrusted argument named, with its origin; never its value
    decisions = {
        (d["task"], d["tool"], d["decision"]): d for d in _records(r.ws, kind="decision") if d.get("tool")
    }
    held = decisions[(held_task, "office.send_money", "approval_required")]
    iban_origin = {a["arg"]: a for a in held["provenance"]["args"]}["iban"]
    assert iban_origin["origin"] == "untrusted"
    assert iban_origin["sources"] == ["office.read_inbox"]
    assert iban_origin["destination"] is True
    assert held["flow"]["read_untrusted"] is True
    over = decisions[(ok_task, "office.send_money", "deny")]
    assert over["outcome"]["policies"] == ["test.one-payment-per-task"]
    allowed = decisions[(ok_task, "office.send_money", "allow")]
    assert {a["arg"]: a["origin"] for a in allowed["provenance"]["args"]}["iban"] == "intent"
    # the completion of the inbox read carries its labels
    done = [c for c in _records(r.ws, kind="call.completed") if c["tool"] == "office.read_inbox"]
    assert done
    assert all(c["labels"]["trust"] == "untrusted" for c in done)
    # nowhere in the audit log: neither the IBAN as the call sent it nor as the e-mail wrote it
    everything = json.dumps(_records(r.ws))
    assert IBAN not in everything
    assert "DE89 3704" not in everything
    assert "0532 0130 00" not in everything

    # the held call's approval shows each argument's origin beside it
    with Proctor.open(r.ws) as p:
        (request,) = p.approvals.pending()
        view = p.approvals.view(str(request.id), None)
    origins = {a.name: a.origin for a in view.args}
    assert origins["iban"].startswith("ONLY from untrusted content: office.read_inbox")
    assert "from nowhere" not in origins["iban"]
    shown = subprocess.run(
        [str(BIN / "proctor"), "approvals", "show", str(request.id), "--workspace", str(r.ws.root)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=True,
    ).stdout
    assert "ONLY from untrusted content: office.read_inbox" in shown

    # kept sealed while the task lives; deleted when it ends
    kept = _outputs(r.ws, held_task, 4)
    # the forwarded calls' outputs, and the held and the denied call's arguments (for the export)
    assert [o.tool for o in kept] == [
        "office.notify",
        "office.read_inbox",
        "office.send_money",
        "office.notify",
    ]
    assert all(b"0532 0130 00" not in bytes(o.sealed) and b"DE89" not in bytes(o.sealed) for o in kept)
    with Proctor.open(r.ws) as p:
        p.tasks.end(held_task, reason="done")
        assert p.store.outputs(TaskId(held_task)) == []
        assert p.store.task_labels(TaskId(held_task)).read_untrusted  # the high-water mark stays
    assert len(_outputs(r.ws, ok_task, 3)) == 3  # another task's are untouched


def test_an_account_read_from_a_resource_is_held(running: Running) -> None:
    """`resources/read` is read by the agent like a tool's output: labelled (the upstream's default
    labels: untrusted) and traced."""
    r = running
    _, token = _task(r.ws)
    out: dict[str, Any] = {}

    async def main() -> None:
        async with r.client(token) as c:
            out["doc"] = await c.read_resource("docs://suppliers")
            out["pay"] = await c.call_tool(
                "office__send_money", {"iban": "GB82WEST12345698765432", "amount": 10}
            )

    anyio.run(main)
    assert "GB82 WEST" in out["doc"].contents[0].text
    assert out["pay"].is_error
    assert "approval" in _text(out["pay"]), _text(out["pay"])
    assert _calls(r, "send_money") == []
    held = [d for d in _records(r.ws, kind="decision") if d.get("decision") == "approval_required"]
    (origin,) = [a for a in held[0]["provenance"]["args"] if a["arg"] == "iban"]
    assert origin["origin"] == "untrusted"
    assert origin["sources"] == ["office.resources.read"]


CANDIDATE = """
@id("candidate.send-any")
permit (principal, action == Proctor::Action::"send", resource)
when { principal.status == "active" };
"""


def test_trace_export_holds_denied_and_held_calls_and_replay_re_decides_them(
    running: Running, tmp_path: Path
) -> None:
    """`proctor trace export` writes, beside the forwarded calls, the calls the gateway denied or
    held, with their arguments and no output; `proctor replay` of that trace under a candidate set
    that permits the denied call reports it as changed."""
    import shutil

    r = running
    task_id, token = _task(r.ws)
    out: dict[str, types.CallToolResult] = {}

    async def main() -> None:
        async with r.client(token) as c:
            out["inbox"] = await c.call_tool("office__read_inbox", {})
            out["pay"] = await c.call_tool("office__send_money", PAY)
            out["note"] = await c.call_tool("office__notify", {"to": "bob", "note": "paid"})

    anyio.run(main)
    assert out["pay"].is_error
    assert "approval" in _text(out["pay"])
    assert out["note"].is_error  # `send` after an untrusted read: denied
    assert _calls(r, "notify") == []
    _outputs(r.ws, task_id, 3)
    trace = tmp_path / "task.jsonl"
    subprocess.run(
        [str(BIN / "proctor"), "trace", "export", task_id, "-o", str(trace), "--workspace", str(r.ws.root)],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
    calls = [
        x for x in map(json.loads, trace.read_text(encoding="utf-8").splitlines()) if x["type"] == "call"
    ]
    assert [(c["tool"], c["meta"], "output" in c) for c in calls] == [
        ("office.read_inbox", {}, True),
        ("office.send_money", {"decision": "approval_required"}, False),
        ("office.notify", {"decision": "deny"}, False),
    ]
    assert calls[1]["args"] == PAY
    assert calls[2]["args"] == {"to": "bob", "note": "paid"}
    assert IBAN not in json.dumps(_records(r.ws))  # the audit log still holds no argument

    candidate = tmp_path / "candidate"
    shutil.copytree(r.ws.policies_dir, candidate)
    (candidate / "50-candidate.cedar").write_text(CANDIDATE, encoding="utf-8")
    done = subprocess.run(
        [
            str(BIN / "proctor"),
            "replay",
            str(trace),
            "--policies",
            str(candidate),
            "--json",
            "-w",
            str(r.ws.root),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    report = {c["tool"]: c for c in json.loads(done.stdout)["calls"]}
    note = report["office.notify"]
    assert (note["decision"], note["baseline_decision"], note["changed"]) == ("allow", "deny", True)
    assert note["meta"] == {"decision": "deny"}
    pay = report["office.send_money"]
    assert (pay["decision"], pay["baseline_decision"], pay["changed"]) == (
        "approval_required",
        "approval_required",
        False,
    )
