"""The approvals API over real HTTP (uvicorn on loopback): the admin token reads the queue and the
arguments; only a person — an approver account over HTTP Basic — decides. The admin token, an
agent's SVID, a task token, a wrong password: refused, audited, and the call stays held."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from proctor.app import Proctor
from proctor.pipeline import CallInput
from proctor.server.api import create_app
from proctor.store.base import AuditQuery
from proctor.types import Verdict
from proctor.workspace import Workspace

CONFIG = """\
trust_domain: acme.test
tools:
  - {name: pay.send, effect: pay, flags: [financial]}
"""
PASSWORD = "correct horse battery staple"


@dataclass
class Srv:
    c: httpx.Client
    admin: str
    p: Proctor
    svid: str
    task_token: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[Srv]:
    ws, admin = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    p = Proctor.open(ws)
    agent = p.agents.add("bot", "owner@acme.test")
    p.accounts.add("owner@acme.test", name="Owner", groups=[], password=PASSWORD, by="test")
    p.accounts.add("eve@acme.test", name="Eve", groups=[], password=PASSWORD, by="test")
    task = p.tasks.start(agent="bot", purpose="pay a supplier", allow=["pay.*"], requested_by="req@acme.test")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(p, ws), host="127.0.0.1", port=port, log_level="error"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    c = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        yield Srv(c, admin, p, p.agents.issue_svid(agent), task.token)
    finally:
        c.close()
        server.should_exit = True
        th.join(timeout=10)
        p.close()


def _held(s: Srv, amount: int = 100) -> str:
    d = s.p.decide(
        CallInput(
            tool="pay.send",
            args={"iban": "DE89370400440532013000", "amount": amount},
            svid=s.svid,
            task_token=s.task_token,
        )
    )
    assert d.verdict is Verdict.APPROVAL_REQUIRED
    assert d.approval_id is not None
    return d.approval_id


def test_the_queue_and_a_request_show_the_call_to_the_admin(srv: Srv) -> None:
    aid = _held(srv)
    h = {"Authorization": f"Bearer {srv.admin}"}
    queue = srv.c.get("/v1/approvals", headers=h).json()
    assert [r["id"] for r in queue] == [aid]
    assert "args" not in queue[0]
    view = srv.c.get(f"/v1/approvals/{aid}", headers=h).json()
    assert {a["name"]: a["text"] for a in view["args"]}["iban"] == "DE89370400440532013000"
    assert view["purpose"] == "pay a supplier"
    assert srv.c.get(f"/v1/approvals/{aid}").status_code == 401
    assert srv.c.get("/v1/approvals/apr_nope", headers=h).status_code == 400
    assert (
        srv.c.get("/v1/approvals/apr_AAAAAAAAAAAAAAAAAAAAAA", headers=h).json()["error"]["code"]
        == "unknown_approval"
    )


def test_only_a_person_decides(srv: Srv) -> None:
    aid = _held(srv)
    body = {"reason": "looks fine"}
    for bearer in (srv.admin, srv.svid, srv.task_token):
        r = srv.c.post(
            f"/v1/approvals/{aid}/approve", json=body, headers={"Authorization": f"Bearer {bearer}"}
        )
        assert r.status_code == 401, r.text
        assert "person" in r.json()["error"]["message"]
    assert srv.c.post(f"/v1/approvals/{aid}/approve", json=body).status_code == 401
    assert (
        srv.c.post(
            f"/v1/approvals/{aid}/approve", json=body, auth=("owner@acme.test", "wrong password!!")
        ).status_code
        == 401
    )
    r = srv.c.post(f"/v1/approvals/{aid}/approve", json=body, auth=("eve@acme.test", PASSWORD))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "approver_not_allowed"
    assert srv.p.approvals.get(aid).state.value == "pending"
    srv.p.audit.flush()
    refused = [json.loads(x.body) for x in srv.p.store.search_audit(AuditQuery(kind="api.refused", limit=50))]
    assert sum(r.get("error") == "approver_required" for r in refused) == 4  # three bearer tokens and none
    eve = [
        json.loads(x.body) for x in srv.p.store.search_audit(AuditQuery(kind="approval.refused", limit=50))
    ]
    assert [r["approver"] for r in eve] == ["eve@acme.test"]
    r = srv.c.post(f"/v1/approvals/{aid}/approve", json=body, auth=("owner@acme.test", PASSWORD))
    assert r.status_code == 200, r.text
    assert r.json()["decided_by"] == "owner@acme.test"
    again = srv.c.post(f"/v1/approvals/{aid}/deny", json=body, auth=("owner@acme.test", PASSWORD))
    assert again.status_code == 409


def test_approve_with_narrowing_and_deny_over_http(srv: Srv) -> None:
    a = _held(srv, 100)
    r = srv.c.post(
        f"/v1/approvals/{a}/approve",
        json={"reason": "this supplier, up to 500", "narrowing": {"amount": {"max": 500}}},
        auth=("owner@acme.test", PASSWORD),
    )
    assert r.status_code == 200, r.text
    assert r.json()["narrowing"] == {"amount": {"max": 500}}
    b = _held(srv, 501)
    bad = srv.c.post(f"/v1/approvals/{b}/approve", json={"reason": ""}, auth=("owner@acme.test", PASSWORD))
    assert bad.status_code == 400
    r = srv.c.post(f"/v1/approvals/{b}/deny", json={"reason": "too much"}, auth=("owner@acme.test", PASSWORD))
    assert r.json()["state"] == "denied"


def test_a_password_with_plus_or_percent_signs_decides_over_http_basic(srv: Srv) -> None:
    """HTTP Basic carries a person's password as it is (RFC 7617): `+` and `%XX` are not
    form-decoded (which refused the right password and counted failures toward the lockout)."""
    pw = "correct+horse%20battery"
    srv.p.accounts.set_password("owner@acme.test", pw, by="test")
    aid = _held(srv)
    r = srv.c.post(f"/v1/approvals/{aid}/approve", json={"reason": "ok"}, auth=("owner@acme.test", pw))
    assert r.status_code == 200, r.text
    decoded = "correct horse battery"  # what form-decoding made of it: not the password
    srv.p.accounts.set_password("owner@acme.test", decoded + " staple", by="test")
    b = _held(srv, 7)
    r = srv.c.post(
        f"/v1/approvals/{b}/deny",
        json={"reason": "no"},
        auth=("owner@acme.test", "correct+horse+battery+staple"),
    )
    assert r.status_code == 401
