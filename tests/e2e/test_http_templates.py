"""`/v1/templates` (docs/adr/0029) on a real uvicorn: add, list, show, start a task from one,
remove; admin token required; bad input, a taken name and an unknown template answer their
codes."""

from __future__ import annotations

import httpx
from tests.e2e.test_http_api import server  # noqa: F401 - the fixture

from proctor.app import Proctor


def test_templates_over_http(server: tuple[httpx.Client, str, Proctor]) -> None:  # noqa: F811
    """The template round-trips; a task started from it has its scope and the template's
    requester; an agent it does not list is refused; DELETE removes it (then 404)."""
    c, admin, p = server
    p.agents.add("bot", "owner@acme.test")
    p.agents.add("other", "owner@acme.test")
    h = {"Authorization": f"Bearer {admin}"}
    body = {"name": "read-data", "agents": ["bot"], "purpose": "read", "allow": ["fs.read"], "ttl_s": 60}
    assert c.post("/v1/templates", json=body).status_code == 401
    r = c.post("/v1/templates", json={**body, "requested_by": "lead@acme.test"}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["agents"] == ["bot"]
    assert c.post("/v1/templates", json=body, headers=h).json()["error"]["code"] == "conflict"
    assert c.post("/v1/templates", json={**body, "name": "Bad"}, headers=h).status_code == 400
    assert (
        c.post("/v1/templates", json={**body, "name": "x", "agents": ["ghost"]}, headers=h).status_code == 404
    )
    assert [t["name"] for t in c.get("/v1/templates", headers=h).json()] == ["read-data"]
    assert c.get("/v1/templates/read-data", headers=h).json()["ttl_s"] == 60
    started = c.post("/v1/templates/read-data/start", json={"agent": "bot"}, headers=h)
    assert started.status_code == 201, started.text
    task = started.json()["task"]
    assert (task["allow"], task["requested_by"], task["purpose"]) == (["fs.read"], "lead@acme.test", "read")
    refused = c.post("/v1/templates/read-data/start", json={"agent": "other"}, headers=h)
    assert refused.status_code == 400
    assert "may not start tasks" in refused.json()["error"]["message"]
    assert c.delete("/v1/templates/read-data", headers=h).status_code == 204
    gone = c.get("/v1/templates/read-data", headers=h)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "unknown_template"
    assert c.delete("/v1/templates/read-data", headers=h).status_code == 404
