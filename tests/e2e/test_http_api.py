"""The HTTP API served by a real uvicorn on a loopback port, driven by httpx."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from tests.planted import remember

from proctor.app import Proctor
from proctor.server.api import create_app
from proctor.workspace import Workspace

CONFIG = """\
trust_domain: acme.test
tools:
  - {name: fs.read, effect: read, resource_arg: path}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[httpx.Client, str, Proctor]]:
    """A workspace served over HTTP; yields a client, the admin token and the Proctor behind it."""
    ws, admin = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    p = Proctor.open(ws)
    port = _free_port()
    config = uvicorn.Config(create_app(p, ws), host="127.0.0.1", port=port, log_level="error")
    srv = uvicorn.Server(config)
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        yield client, admin, p
    finally:
        client.close()
        srv.should_exit = True
        th.join(timeout=10)
        p.close()


def test_public_endpoints(server: tuple[httpx.Client, str, Proctor]) -> None:
    """/healthz, the JWKS and the OpenAPI document are served without credentials."""
    c, _, _ = server
    assert c.get("/healthz").json()["status"] == "ok"
    keys = c.get("/.well-known/jwks.json").json()["keys"]
    assert keys
    assert keys[0]["alg"] == "ES256"
    assert "d" not in keys[0]
    paths = c.get("/openapi.json").json()["paths"]
    assert {"/v1/agents", "/v1/tasks", "/v1/decide", "/v1/audit"} <= set(paths)


def test_management_needs_admin_token(server: tuple[httpx.Client, str, Proctor]) -> None:
    """Without or with a wrong admin token, management endpoints answer 401 with a stable code."""
    c, _, _ = server
    r = c.get("/v1/agents")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "admin_token_invalid"
    assert "WWW-Authenticate" in r.headers
    r = c.get("/v1/agents", headers={"Authorization": "Bearer pta_wrong"})
    assert r.status_code == 401


def test_full_flow_over_http(server: tuple[httpx.Client, str, Proctor]) -> None:
    """Register, join, start a task, decide allow and deny, read the audit log, verify it."""
    c, admin, _ = server
    h = {"Authorization": f"Bearer {admin}"}
    r = c.post("/v1/agents", json={"name": "bot", "owner": "o@acme.test"}, headers=h)
    assert r.status_code == 201, r.text
    r = c.post("/v1/agents", json={"name": "noowner"}, headers=h)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "owner_required"
    join = c.post("/v1/agents/bot/join-token", headers=h).json()["join_token"]
    svid = c.post("/v1/identity/svid", json={"join_token": join}).json()["svid"]
    r = c.post("/v1/identity/svid", json={"join_token": join})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "join_token_invalid"
    t = c.post(
        "/v1/tasks",
        json={"agent": "bot", "purpose": "read", "allow": ["fs.read"], "requested_by": "r@acme.test"},
        headers=h,
    ).json()
    auth = {"Authorization": f"Bearer {svid}"}
    ok = c.post(
        "/v1/decide", json={"task_token": t["token"], "tool": "fs.read", "args": {"path": "/x"}}, headers=auth
    )
    assert ok.status_code == 200
    assert ok.json()["decision"] == "allow"
    no = c.post("/v1/decide", json={"task_token": t["token"], "tool": "fs.write", "args": {}}, headers=auth)
    assert no.json()["decision"] == "deny"
    assert "unknown tool" in no.json()["reasons"][0]
    anon = c.post("/v1/decide", json={"task_token": t["token"], "tool": "fs.read", "args": {}})
    assert anon.status_code == 401
    assert anon.json()["decision"] == "deny"
    rows = c.get("/v1/audit", params={"kind": "decision"}, headers=h).json()
    # the anonymous call identified nobody: a (rate-limited) refusal, not an agent's decision
    assert [r["record"]["decision"] for r in rows] == ["allow", "deny"]
    refused = c.get("/v1/audit", params={"kind": "decide.refused"}, headers=h).json()
    assert [r["record"]["code"] for r in refused] == ["token_invalid"]
    assert c.get("/v1/audit/verify", headers=h).json()["ok"] is True
    assert c.post(f"/v1/tasks/{t['task']['id']}/end", headers=h).json()["state"] == "completed"


def test_errors_are_json_without_traces(server: tuple[httpx.Client, str, Proctor]) -> None:
    """Malformed bodies, unknown keys, unknown routes and oversized bodies get JSON errors, never a trace."""
    c, admin, _ = server
    h = {"Authorization": f"Bearer {admin}", "Content-Type": "application/json"}
    for r in (
        c.post("/v1/agents", content=b"{not json", headers=h),
        c.post("/v1/agents", json={"name": "x", "owner": "o@acme.test", "role": "root"}, headers=h),
        c.get("/v1/nope"),
        c.post("/v1/decide", content=b"x" * (2 << 20), headers={"Content-Type": "application/json"}),
        c.get("/v1/agents/ghost", headers=h),
    ):
        body = r.json()
        assert r.status_code in (400, 404, 413), (r.status_code, body)
        assert set(body["error"]) == {"code", "message"}
        assert "Traceback" not in r.text
        assert 'File "' not in r.text


def test_leases_over_http(server: tuple[httpx.Client, str, Proctor]) -> None:
    """`/v1/leases` lists, shows and revokes credential leases for an administrator (never a value);
    the credential JWKS is public and shares no key with the SVID JWKS."""
    c, admin, p = server
    h = {"Authorization": f"Bearer {admin}"}
    agent = p.agents.add("bot", "owner@acme.test")
    task = p.tasks.start(agent="bot", purpose="p", allow=["fs.*"], requested_by="r@acme.test").task
    p.credentials.secrets.put("fs.key", remember("planted-http-lease-value-91"), p.clock.now())
    lease, _ = p.credentials.leases.issue(task, agent, "injected", {"name": "fs-key", "secret": "fs.key"})
    assert c.get("/v1/leases").status_code == 401
    listed = c.get("/v1/leases", params={"task": str(task.id)}, headers=h).json()
    assert [x["id"] for x in listed] == [str(lease.id)]
    assert listed[0]["state"] == "active"
    assert "planted-http-lease-value-91" not in c.get("/v1/leases", headers=h).text
    assert c.get(f"/v1/leases/{lease.id}", headers=h).json()["name"] == "fs-key"
    assert c.get("/v1/leases", params={"state": "nope"}, headers=h).status_code == 400
    assert c.get("/v1/leases/lse_AAAAAAAAAAAAAAAAAAAAAA", headers=h).status_code == 404
    assert c.get("/v1/leases/bad%20id", headers=h).status_code == 400
    done = c.post(f"/v1/leases/{lease.id}/revoke", json={"reason": "rotate"}, headers=h).json()
    assert done["state"] == "revoked"
    assert c.get("/v1/leases", params={"irrevocable": "true"}, headers=h).json() == []
    svid_kids = {k["kid"] for k in c.get("/.well-known/jwks.json").json()["keys"]}
    cred_kids = {k["kid"] for k in c.get("/v1/credentials/jwks.json").json()["keys"]}
    assert cred_kids
    assert not svid_kids & cred_kids


def test_a_store_failure_is_reported_without_its_detail(
    server: tuple[httpx.Client, str, Proctor], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store error's message can hold a path, a server address or the driver's text: a client
    gets the stable code and a generic message; /v1/decide answers with a deny, unaudited only
    because the store is down."""
    from proctor.errors import StoreUnavailable

    c, admin, p = server

    def down(*_a: object, **_k: object) -> None:
        raise StoreUnavailable("cannot reach PostgreSQL at db.internal:5432/proctor: refused")

    monkeypatch.setattr(p.store, "list_agents", down)
    r = c.get("/v1/agents", headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "store_unavailable"
    assert "db.internal" not in r.text

    svid = p.agents.issue_svid(p.agents.add("bot-store", "o@acme.test"))
    monkeypatch.setattr(p.state, "snapshot", down)
    r = c.post(
        "/v1/decide",
        json={"tool": "fs.read", "args": {}, "task_token": "x"},
        headers={"Authorization": f"Bearer {svid}"},
    )
    assert r.json()["decision"] == "deny"
    assert r.json()["errors"] == ["store_unavailable"]
    assert "db.internal" not in r.text


def test_audit_of_one_decision(server: tuple[httpx.Client, str, Proctor]) -> None:
    """`GET /v1/audit/decisions/{id}` answers every record of one decision (admin only); an unknown
    id is `404 unknown_decision`, a malformed one `400 invalid_input`."""
    c, admin, _ = server
    h = {"Authorization": f"Bearer {admin}"}
    assert c.post("/v1/agents", json={"name": "bot", "owner": "o@acme.test"}, headers=h).status_code == 201
    join = c.post("/v1/agents/bot/join-token", headers=h).json()["join_token"]
    svid = c.post("/v1/identity/svid", json={"join_token": join}).json()["svid"]
    t = c.post(
        "/v1/tasks",
        json={"agent": "bot", "purpose": "read", "allow": ["fs.read"], "requested_by": "r@acme.test"},
        headers=h,
    ).json()
    auth = {"Authorization": f"Bearer {svid}"}
    ids = []
    for tool in ("fs.read", "fs.write"):
        call = {"task_token": t["token"], "tool": tool, "args": {"path": "/x"}}
        r = c.post("/v1/decide", json=call, headers=auth)
        ids.append(r.json()["decision_id"])
    for decision_id, verdict in zip(ids, ("allow", "deny"), strict=True):
        r = c.get(f"/v1/audit/decisions/{decision_id}", headers=h)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["decision_id"] == decision_id
        assert [x["record"]["kind"] for x in body["records"]] == ["decision"]
        assert body["records"][0]["record"]["decision"] == verdict
        assert body["records"][0]["record"]["decision_id"] == decision_id
        assert set(body["records"][0]) == {"seq", "hash", "prev_hash", "record"}
    assert c.get(f"/v1/audit/decisions/{ids[0]}").status_code == 401
    r = c.get("/v1/audit/decisions/dec_" + "A" * 22, headers=h)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "unknown_decision"
    r = c.get("/v1/audit/decisions/not-a-decision", headers=h)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_input"
    assert "/v1/audit/decisions/{decision_id}" in c.get("/openapi.json").json()["paths"]


def test_task_start_refuses_an_allow_pattern_that_matches_no_tool(
    server: tuple[httpx.Client, str, Proctor], tmp_path: Path
) -> None:
    """`POST /v1/tasks` catches a typo in `allow` as `task start` does: 400 `no_such_tool` with the
    closest known name, and no task started; a pattern only an unpinned upstream may match is
    accepted with a warning in the response (docs/adr/0027)."""
    from proctor.gateway.config import save_upstreams, upstream_from_mapping

    c, admin, p = server
    h = {"Authorization": f"Bearer {admin}"}
    assert c.post("/v1/agents", headers=h, json={"name": "bot", "owner": "o@acme.test"}).status_code == 201
    body = {"agent": "bot", "purpose": "read", "requested_by": "r@acme.test"}
    r = c.post("/v1/tasks", headers=h, json={**body, "allow": ["fs.read", "fs.raed"]})
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "no_such_tool"
    assert "allow `fs.raed` matches no known tool" in error["message"]
    assert "did you mean `fs.read`" in error["message"]
    assert c.get("/v1/tasks", headers=h).json() == []
    assert p.tasks.list() == []
    # an upstream not pinned yet: its tools are known once listed, so its pattern is a warning
    assert p.workspace is not None
    save_upstreams(
        p.workspace.root,
        [upstream_from_mapping({"namespace": "time", "command": "/bin/true", "default": {"effect": "read"}})],
    )
    r = c.post("/v1/tasks", headers=h, json={**body, "allow": ["fs.read", "time.get_*"]})
    assert r.status_code == 201, r.text
    assert r.json()["task"]["allow"] == ["fs.read", "time.get_*"]
    [warning] = r.json()["warnings"]
    assert "`time.get_*` matches no known tool yet; upstream `time` is not pinned" in warning
