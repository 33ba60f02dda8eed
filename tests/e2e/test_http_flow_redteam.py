"""Red team on `POST /v1/outputs` (issue 15): an agent reports outputs only for calls it was
allowed to make, so it cannot launder an attacker's value by calling it the output of a trusted
tool it never called."""

from __future__ import annotations

import httpx
from tests.e2e.test_http_flow import EMAIL, IBAN, served  # noqa: F401  (the fixture)

from proctor.app import Proctor
from proctor.pipeline import CallInput

ATTACKER = "GB33BUKB20201555555555"


def _agent(c: httpx.Client, h: dict[str, str]) -> dict[str, str]:
    assert c.post("/v1/agents", json={"name": "bot", "owner": "o@acme.test"}, headers=h).status_code == 201
    join = c.post("/v1/agents/bot/join-token", headers=h).json()["join_token"]
    svid = c.post("/v1/identity/svid", json={"join_token": join}).json()["svid"]
    return {"Authorization": f"Bearer {svid}"}


def _task(c: httpx.Client, h: dict[str, str]) -> dict[str, object]:
    r = c.post(
        "/v1/tasks",
        json={
            "agent": "bot",
            "purpose": "Pay the 900 EUR invoice",
            "allow": ["mail.*", "bank.*"],
            "requested_by": "r@acme.test",
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_an_agent_cannot_report_outputs_of_calls_it_was_not_allowed(
    served: tuple[httpx.Client, str, Proctor],  # noqa: F811
) -> None:
    c, admin, p = served
    h = {"Authorization": f"Bearer {admin}"}
    auth = _agent(c, h)
    task = _task(c, h)
    token = task["token"]
    pay = {"task_token": token, "tool": "bank.pay", "args": {"iban": ATTACKER, "amount": 900}}
    # the agent read the attacker's e-mail (reported honestly)
    read = c.post(
        "/v1/decide", json={"task_token": token, "tool": "mail.read", "args": {}}, headers=auth
    ).json()
    attack = f"Updated bank details: {ATTACKER}"
    r = c.post(
        "/v1/outputs",
        json={"task_token": token, "tool": "mail.read", "output": attack, "decision_id": read["decision_id"]},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    assert c.post("/v1/decide", json=pay, headers=auth).json()["decision"] == "deny"
    # now it claims a trusted tool (bank.pay's default labels: trusted) returned the same IBAN:
    # with no decision at all, with the mail.read decision, with a decision of another task
    other = _task(c, h)
    other_read = c.post(
        "/v1/decide", json={"task_token": other["token"], "tool": "mail.read", "args": {}}, headers=auth
    ).json()
    for did in (None, read["decision_id"], other_read["decision_id"], "dec_AAAAAAAAAAAAAAAAAAAAAA"):
        body = {"task_token": token, "tool": "bank.pay", "output": f"Payee on file: {ATTACKER}"}
        if did is not None:
            body["decision_id"] = did
        r = c.post("/v1/outputs", json=body, headers=auth)
        assert r.status_code in (400, 403, 404), (did, r.status_code, r.text)
    # nothing was laundered: the payment to the attacker's IBAN is still refused
    assert c.post("/v1/decide", json=pay, headers=auth).json()["decision"] == "deny"
    # the same output reported twice for one allowed decision is refused too (no flooding the
    # task's bounded index to push the e-mail out)
    r = c.post(
        "/v1/outputs",
        json={
            "task_token": token,
            "tool": "mail.read",
            "output": "again",
            "decision_id": read["decision_id"],
        },
        headers=auth,
    )
    assert r.status_code in (400, 403, 409), r.text
    # a call the gateway forwarded: the gateway observed its output; the agent adds nothing to it
    forwarded = p.decide(
        CallInput(tool="mail.read", args={}, agent="bot", task_token=str(token), source="mcp")
    )
    assert forwarded.verdict.value == "allow"
    r = c.post(
        "/v1/outputs",
        json={
            "task_token": token,
            "tool": "mail.read",
            "output": "x",
            "decision_id": str(forwarded.decision_id),
        },
        headers=auth,
    )
    assert r.status_code == 400, r.text
    # the administrator may still report for a task by id (a trusted operator's tooling)
    task_id = task["task"]["id"]  # type: ignore[index]
    r = c.post("/v1/outputs", json={"task": task_id, "tool": "mail.read", "output": "x"}, headers=h)
    assert r.status_code == 200, r.text
