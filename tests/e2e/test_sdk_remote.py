"""``proctor.sdk.Guard`` against a real ``proctor serve`` (a subprocess on loopback): the agent's
JWT-SVID and task token over the HTTP API, the same decisions, holds and records as in-process;
a person approves over the API from another thread; and what an agent may try remotely."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.gateway_harness import child_env, free_port
from tests.e2e.sdk_harness import OWNER, PASSWORD

from proctor.app import Proctor
from proctor.errors import ApprovalPending, ProctorDenied
from proctor.sdk import Guard
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent
CONFIG = """\
trust_domain: acme.test
tools:
  - {name: fs.read, effect: read, resource_arg: path}
  - {name: fs.remove, effect: write, resource_arg: path}
  - {name: pay.send, effect: pay, flags: [financial]}
  - {name: shell.run, effect: execute}
"""


@dataclass
class Served:
    url: str
    admin: str
    ws: Workspace
    http: httpx.Client

    def agent(self, name: str, allow: list[str]) -> tuple[str, str, str]:
        """(svid, task token, task id) of a new task of agent ``name`` (added if new)."""
        with Proctor.open(self.ws) as p:
            try:
                rec = p.agents.get(name)
            except Exception:
                rec = p.agents.add(name, OWNER)
            task = p.tasks.start(agent=name, purpose="sdk", allow=allow, requested_by="req@acme.test")
            return p.agents.issue_svid(rec), task.token, str(task.task.id)

    def audit(self, **params: Any) -> list[dict[str, Any]]:
        rows = self.http.get(
            "/v1/audit", params={"limit": 1000, **params}, headers={"Authorization": f"Bearer {self.admin}"}
        ).json()
        return [r["record"] for r in rows]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    ws, admin = Workspace.init(tmp_path_factory.mktemp("sdk") / "ws", config_text=CONFIG)
    with Proctor.open(ws) as p:
        p.accounts.add(OWNER, name="Owner", groups=[], password=PASSWORD, by="test")
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "proctor"), "serve", "--port", str(port), "--workspace", str(ws.root)],
        env=child_env({**os.environ, "PATH": f"{BIN}:/usr/bin:/bin"}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
                assert time.monotonic() < deadline, "proctor serve did not start"
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=30) as http:
            yield Served(url, admin, ws, http)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _approver(s: Served, verdict: str) -> threading.Thread:
    """A person approving (or denying) the first pending request over the API, from another thread."""

    def run() -> None:
        deadline = time.monotonic() + 20
        with httpx.Client(base_url=s.url, timeout=10) as c:
            while time.monotonic() < deadline:
                queue = c.get("/v1/approvals", headers={"Authorization": f"Bearer {s.admin}"}).json()
                if queue:
                    c.post(
                        f"/v1/approvals/{queue[0]['id']}/{verdict}",
                        json={"reason": "checked the invoice"},
                        auth=(OWNER, PASSWORD),
                    ).raise_for_status()
                    return
                time.sleep(0.05)

    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def test_remote_allow_deny_and_the_audit_chain(served: Served) -> None:
    svid, token, task_id = served.agent("bot", ["fs.*", "pay.*"])
    guard = Guard(served.url, svid=svid, task_token=token)
    ran: list[str] = []

    @guard.tool("fs.read")
    def read(path: str) -> str:
        ran.append(path)
        return "hello"

    @guard.tool("shell.run")
    def run(command: str) -> str:
        ran.append(command)
        return "ran"

    assert read("/notes/a") == "hello"
    with pytest.raises(ProctorDenied) as info:
        run("rm -rf /")
    assert ran == ["/notes/a"]
    decisions = served.audit(kind="decision", task=task_id)
    assert [(d["decision"], d["agent"], d["task"], d["tool"], d["source"]) for d in decisions] == [
        ("allow", "bot", task_id, "fs.read", "http"),
        ("deny", "bot", task_id, "shell.run", "http"),
    ]
    assert info.value.decision_id == decisions[1]["decision_id"]
    [out] = served.audit(kind="call.output_reported", task=task_id)
    assert (out["decision_id"], out["status"], out["agent"]) == (decisions[0]["decision_id"], "ok", "bot")
    verified = served.http.get("/v1/audit/verify", headers={"Authorization": f"Bearer {served.admin}"}).json()
    assert verified["ok"] is True


def test_remote_held_call_approved_over_the_api_from_another_thread(served: Served) -> None:
    svid, token, task_id = served.agent("payer", ["pay.*"])
    guard = Guard(served.url, svid=svid, task_token=token, hold_s=20)
    ran: list[int] = []

    @guard.tool("pay.send")
    async def pay(iban: str, amount: int) -> str:
        ran.append(amount)
        return "paid"

    import asyncio

    th = _approver(served, "approve")
    assert asyncio.run(pay("DE89370400440532013000", 120)) == "paid"
    th.join(timeout=10)
    assert ran == [120]
    decisions = served.audit(kind="decision", task=task_id)
    assert [d["decision"] for d in decisions] == ["approval_required", "allow"]
    assert (
        served.audit(kind="call.output_reported", task=task_id)[0]["decision_id"]
        == decisions[1]["decision_id"]
    )


def test_remote_held_call_denied_or_still_pending(served: Served) -> None:
    svid, token, _ = served.agent("payer2", ["pay.*"])
    ran: list[int] = []

    def pay(iban: str, amount: int) -> str:
        ran.append(amount)
        return "paid"

    pending = Guard(served.url, svid=svid, task_token=token, hold_s=0).wrap(pay, name="pay.send")
    with pytest.raises(ApprovalPending) as info:
        pending("DE89370400440532013000", 7)
    assert info.value.url.endswith(f"/approvals/{info.value.approval_id}")
    th = _approver(served, "deny")
    waiting = Guard(served.url, svid=svid, task_token=token, hold_s=20).wrap(pay, name="pay.send")
    with pytest.raises(ProctorDenied) as denied:
        waiting("DE89370400440532013000", 7)  # the identical call joins the same request
    th.join(timeout=10)
    assert denied.value.errors == ("approval_denied",)
    assert denied.value.approval_id == info.value.approval_id
    assert ran == []


def test_remote_tool_that_raises_is_recorded(served: Served) -> None:
    svid, token, task_id = served.agent("bot", ["fs.*"])

    with Guard(served.url, svid=svid, task_token=token) as guard:

        @guard.tool("fs.remove")
        def remove(path: str) -> None:
            raise PermissionError(path)

        with pytest.raises(PermissionError):
            remove("/etc/passwd")
    [out] = served.audit(kind="call.output_reported", task=task_id)
    assert out["status"] == "tool_error"


def test_remote_tricks_are_refused(served: Served) -> None:
    svid, token, _ = served.agent("bot", ["fs.*", "pay.*"])
    eve_svid, eve_token, _ = served.agent("eve", ["fs.*"])
    ran: list[Any] = []

    def read(path: Any) -> str:
        ran.append(path)
        return "x"

    # bot's SVID with eve's task token
    with pytest.raises(ProctorDenied) as info:
        Guard(served.url, svid=svid, task_token=eve_token).wrap(read, name="fs.read")("/a")
    assert info.value.errors == ("task_token_invalid",)
    # arguments that are not JSON never leave the process
    before = len(served.audit(kind="decision"))
    with pytest.raises(ProctorDenied) as bad:
        Guard(served.url, svid=svid, task_token=token).wrap(read, name="fs.read")(object())
    assert bad.value.errors == ("validation_error",)
    assert len(served.audit(kind="decision")) == before
    # a held call's request is its own agent's: eve cannot follow (or learn of) bot's
    with pytest.raises(ApprovalPending) as held:
        Guard(served.url, svid=svid, task_token=token, hold_s=0).wrap(
            lambda iban, amount: None, name="pay.send"
        )("DE89370400440532013000", 1)
    r = served.http.post(
        f"/v1/approvals/{held.value.approval_id}/wait",
        json={"task_token": eve_token},
        headers={"Authorization": f"Bearer {eve_svid}"},
    )
    assert (r.status_code, r.json()["error"]["code"]) == (404, "unknown_approval")
    r = served.http.post(f"/v1/approvals/{held.value.approval_id}/wait", json={"task_token": token})
    assert r.status_code == 401
    # an expired or forged SVID: a deny, never a run
    with pytest.raises(ProctorDenied) as forged:
        Guard(served.url, svid=svid[:-4] + "AAAA", task_token=token).wrap(read, name="fs.read")("/a")
    assert forged.value.errors[0].startswith(("token_", "identity_"))
    assert ran == []
