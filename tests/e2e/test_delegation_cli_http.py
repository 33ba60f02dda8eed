"""Delegation end to end (issue 17, docs/adr/0032): `proctor task delegate` and `audit search
--root-task` as real `proctor` processes, and `POST /v1/tasks/{id}/delegate` on a real uvicorn,
authenticated by the parent agent's SVID and the parent task's token."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from proctor.app import Proctor
from proctor.server.api import create_app
from proctor.workspace import Workspace

PROCTOR = [sys.executable, "-c", "from proctor.cli.main import main; main()"]
CONFIG = """\
trust_domain: acme.test
tools:
  - {name: fs.read, effect: read, resource_arg: path}
  - {name: fs.write, effect: write, resource_arg: path}
"""


def run(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROCTOR_WORKSPACE": str(ws), "COLUMNS": "200"}
    return subprocess.run(
        [*PROCTOR, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def _agents(p: Proctor) -> None:
    p.agents.add("planner", "owner@acme.test")
    p.agents.add("researcher", "owner@acme.test")
    p.agents.add("mailer", "owner@acme.test")
    p.agents.add("stranger", "other@else.test")


def test_cli_delegate_refuse_cascade_and_search_the_tree(tmp_path: Path) -> None:
    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    with Proctor.open(ws) as p:
        _agents(p)
    start = ["task", "start", "--agent", "planner", "--purpose", "read the reports"]
    start += ["--allow", "fs.*", "--resource", "/reports/*", "--requested-by", "alice@acme.test"]
    r = run(ws.root, *start, "--ttl", "1h", "--max-calls", "5", "--json")
    assert r.returncode == 0, r.stderr
    root = json.loads(r.stdout)["task"]["id"]
    delegate = ["task", "delegate", root, "--agent", "researcher", "--allow", "fs.read"]
    r = run(ws.root, *delegate, "--resource", "/reports/q1/*", "--ttl", "10m", "--json")
    assert r.returncode == 0, r.stderr
    child = json.loads(r.stdout)
    assert child["task"]["parent"] == root
    assert [c["agent"] for c in child["task"]["chain"]] == ["planner", "researcher"]
    assert child["task"]["max_calls"] == 5
    mid = child["task"]["id"]
    r = run(
        ws.root,
        "task",
        "delegate",
        mid,
        "--agent",
        "mailer",
        "--allow",
        "fs.read",
        "--resource",
        "/reports/q1/a",
    )
    assert r.returncode == 0, r.stderr
    assert "planner" in r.stdout
    assert "researcher" in r.stdout
    assert "mailer" in r.stdout
    # refused, each naming exactly what exceeds
    for extra, what in (
        (["--allow", "*", "--resource", "/reports/*"], "tool `*`"),
        (["--allow", "fs.read", "--resource", "/etc/*"], "resource `/etc/*`"),
        (["--allow", "fs.read", "--resource", "/reports/*", "--ttl", "2h"], "deadline"),
        (["--allow", "fs.read", "--resource", "/reports/*", "--max-calls", "9"], "max_calls `9`"),
    ):
        r = run(ws.root, "task", "delegate", root, "--agent", "mailer", *extra)
        assert r.returncode != 0, extra
        assert "delegation_exceeds" in r.stderr + r.stdout, extra
        assert what in r.stderr + r.stdout, (extra, r.stderr)
    r = run(
        ws.root,
        "task",
        "delegate",
        root,
        "--agent",
        "stranger",
        "--allow",
        "fs.read",
        "--resource",
        "/reports/*",
    )
    assert r.returncode != 0
    assert "delegation_denied" in r.stderr + r.stdout
    # ending the root ends the whole tree
    assert run(ws.root, "task", "end", root).returncode == 0
    listed = json.loads(run(ws.root, "task", "list", "--json").stdout)
    assert {t["state"] for t in listed} == {"completed", "cancelled"}
    assert sum(t["state"] == "cancelled" for t in listed) == 2
    r = run(ws.root, "audit", "search", "--root-task", mid, "--json", "--limit", "1000")
    assert r.returncode == 0, r.stderr
    rows = [row["record"] for row in json.loads(r.stdout)]
    tasks = {row.get("task") for row in rows}
    assert mid in tasks
    assert root not in tasks
    assert len(tasks) == 2
    kinds = {row["kind"] for row in rows}
    assert {"task.delegated", "task.ended"} <= kinds


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[httpx.Client, str, Proctor]]:
    ws, admin = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    p = Proctor.open(ws)
    _agents(p)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    srv = uvicorn.Server(uvicorn.Config(create_app(p, ws), host="127.0.0.1", port=port, log_level="error"))
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


def _svid(c: httpx.Client, h: dict[str, str], agent: str) -> dict[str, str]:
    join = c.post(f"/v1/agents/{agent}/join-token", headers=h).json()["join_token"]
    return {
        "Authorization": "Bearer " + c.post("/v1/identity/svid", json={"join_token": join}).json()["svid"]
    }


def test_http_delegate(server: tuple[httpx.Client, str, Proctor]) -> None:
    c, admin, _ = server
    h = {"Authorization": f"Bearer {admin}"}
    body: dict[str, Any] = {
        "agent": "planner",
        "purpose": "read",
        "allow": ["fs.*"],
        "requested_by": "r@acme.test",
    }
    root = c.post("/v1/tasks", json={**body, "ttl_s": 600}, headers=h).json()
    rid, rtoken = root["task"]["id"], root["token"]
    planner, researcher = _svid(c, h, "planner"), _svid(c, h, "researcher")
    ask = {"task_token": rtoken, "agent": "researcher", "allow": ["fs.read"], "ttl_s": 60}
    r = c.post(f"/v1/tasks/{rid}/delegate", json=ask, headers=planner)
    assert r.status_code == 201, r.text
    child = r.json()
    assert child["task"]["chain"][0] == {"agent": "planner", "task": rid}
    # the child's token works for the child agent, within the child's scope
    ok = c.post(
        "/v1/decide",
        json={"task_token": child["token"], "tool": "fs.read", "args": {"path": "/x"}},
        headers=researcher,
    ).json()
    assert ok["decision"] == "allow"
    no = c.post(
        "/v1/decide",
        json={"task_token": child["token"], "tool": "fs.write", "args": {"path": "/x"}},
        headers=researcher,
    ).json()
    assert no["decision"] == "deny"
    # a scope beyond the parent's: 403 naming each excess
    r = c.post(f"/v1/tasks/{rid}/delegate", json={**ask, "allow": ["*"], "ttl_s": 6000}, headers=planner)
    assert r.status_code == 403
    err = r.json()["error"]
    assert err["code"] == "delegation_exceeds"
    assert sorted(e["what"] for e in err["exceeds"]) == ["deadline", "tool"]
    # the parent's token presented with another agent's SVID; no SVID; the token of another task
    r = c.post(f"/v1/tasks/{rid}/delegate", json=ask, headers=researcher)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "task_token_invalid"
    assert c.post(f"/v1/tasks/{rid}/delegate", json=ask).status_code == 401
    r = c.post(f"/v1/tasks/{child['task']['id']}/delegate", json=ask, headers=planner)
    assert r.status_code == 401
    # a cycle, and the audit log over the whole tree
    r = c.post(
        f"/v1/tasks/{child['task']['id']}/delegate",
        json={"task_token": child["token"], "agent": "planner", "allow": ["fs.read"]},
        headers=researcher,
    )
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "delegation_denied"
    rows = c.get("/v1/audit", params={"root_task": rid, "limit": 1000}, headers=h).json()
    assert {row["record"].get("task") for row in rows} == {rid, child["task"]["id"]}
    (dec,) = [
        row["record"]
        for row in rows
        if row["record"]["kind"] == "decision" and row["record"]["decision"] == "allow"
    ]
    assert dec["chain"] == child["task"]["chain"]
    # ending the parent over the API ends the child: its token stops working
    assert c.post(f"/v1/tasks/{rid}/end", headers=h).json()["state"] == "completed"
    gone = c.post(
        "/v1/decide",
        json={"task_token": child["token"], "tool": "fs.read", "args": {"path": "/x"}},
        headers=researcher,
    ).json()
    assert gone["decision"] == "deny"
    assert "cancelled" in gone["reasons"][0]


def test_sdk_delegate_remote(server: tuple[httpx.Client, str, Proctor]) -> None:
    from proctor.errors import DelegationDenied, DelegationExceeds
    from proctor.sdk import Guard

    c, admin, _ = server
    h = {"Authorization": f"Bearer {admin}"}
    body = {"agent": "planner", "purpose": "read", "allow": ["fs.*"], "requested_by": "r@acme.test"}
    root = c.post("/v1/tasks", json={**body, "ttl_s": 600}, headers=h).json()
    planner = _svid(c, h, "planner")["Authorization"].removeprefix("Bearer ")
    with Guard(str(c.base_url), svid=planner, task_token=root["token"]) as guard:
        task, token = guard.delegate("researcher", allow=["fs.read"], ttl_s=60)
        assert task["chain"][0]["task"] == root["task"]["id"]
        with pytest.raises(DelegationExceeds) as exc:
            guard.delegate("mailer", allow=["*"])
        assert exc.value.details["exceeds"][0]["what"] == "tool"
        with pytest.raises(DelegationDenied):
            guard.delegate("stranger", allow=["fs.read"])
    researcher = _svid(c, h, "researcher")
    ok = c.post(
        "/v1/decide",
        json={"task_token": token, "tool": "fs.read", "args": {"path": "/x"}},
        headers=researcher,
    ).json()
    assert ok["decision"] == "allow"
