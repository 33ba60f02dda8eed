"""The approval pages of a real ``proctor serve``, driven over HTTP, with requests held by the
pipeline of another Proctor process on the same workspace: the queue, the request's page, and
what the approve form refuses — a missing or wrong CSRF token, a session of someone who may not
decide, the task's requester under four eyes — each refusal audited, the request left pending."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.e2e.test_web_login import PW, add_user, sign_in
from tests.e2e.web_harness import form_value, proctor_serve

from proctor.app import Proctor
from proctor.approvals.model import ApprovalState
from proctor.pipeline import CallInput
from proctor.store.base import AuditQuery
from proctor.types import Verdict
from proctor.workspace import Workspace

CONFIG = """\
trust_domain: acme.test
tools:
  - {name: payments.transfer, effect: pay, resource_arg: account, flags: [financial]}
  - {name: prod.deploy, effect: deploy, resource_arg: "-"}
"""
FOUR_EYES = '@id("deploy.four-eyes") @approval("owner") @four_eyes\npermit (principal, action == Proctor::Action::"deploy", resource);\n'


@dataclass
class Site:
    url: str
    ws: Path
    p: Proctor
    task_token: str

    def hold(self, tool: str = "payments.transfer", **args: object) -> str:
        d = self.p.decide(CallInput(tool=tool, args=args, agent="bot", task_token=self.task_token))
        assert d.verdict is Verdict.APPROVAL_REQUIRED, d
        assert d.approval_id is not None
        return d.approval_id

    def records(self, kind: str) -> list[dict[str, object]]:
        self.p.audit.flush()
        return [json.loads(r.body) for r in self.p.store.search_audit(AuditQuery(kind=kind, limit=100))]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """Ann owns agent `bot`; Bob is another approver; Ann asked for the task herself (four eyes)."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    (ws.policies_dir / "25-four-eyes.cedar").write_text(FOUR_EYES)
    add_user(ws.root, "ann@acme.test", "payments-team")
    add_user(ws.root, "bob@acme.test", "ops")
    p = Proctor.open(ws)
    try:
        p.agents.add("bot", "ann@acme.test")
        task = p.tasks.start(
            agent="bot",
            purpose="pay the March invoices",
            allow=["payments.*", "prod.*"],
            resources=["acct-*"],
            requested_by="ann@acme.test",
            ttl_s=900,
        )
        with proctor_serve(ws.root) as url:
            yield Site(url, ws.root, p, task.token)
    finally:
        p.close()


def test_the_queue_and_the_request_page_show_the_whole_call(site: Site) -> None:
    """The queue lists the held call under its agent and tool; its page shows the task's purpose
    and requester, the owner, the tool and effect, every argument (a secret masked, a long value
    folded), the policy, and a form to decide."""
    aid = site.hold(account="acct-42", amount=1250, api_token="sk-live-0123456789abcdef", memo="x" * 900)
    ann = sign_in(site.url, "ann@acme.test")
    queue = ann.get("/approvals").text
    assert aid in queue
    assert "bot → payments.transfer" in queue.replace("&gt;", ">").replace("→", "→")
    page = ann.get(f"/approvals/{aid}")
    assert page.status_code == 200
    text = page.text
    for shown in ("pay the March invoices", "ann@acme.test", "payments.transfer", "acct-42", "1250", "pay"):
        assert shown in text
    assert "sk-live-0123456789abcdef" not in text
    assert "masked" in text
    assert "more characters" in text  # the memo is folded
    assert f"/approvals/{aid}/decide" in text
    assert form_value(text, "csrf")


def test_the_approve_form_needs_the_sessions_csrf_token(site: Site) -> None:
    """Approving without the CSRF token, with a wrong one, or with another person's is refused
    403; the request stays pending and each refusal is audited."""
    aid = site.hold(account="acct-1", amount=10)
    ann, bob = sign_in(site.url, "ann@acme.test"), sign_in(site.url, "bob@acme.test")
    bob_csrf = form_value(bob.get("/logout").text, "csrf")
    for data in ({}, {"csrf": "f" * 64}, {"csrf": bob_csrf}):
        r = ann.post(f"/approvals/{aid}/decide", data={**data, "decision": "approve", "reason": "ok"})
        assert r.status_code == 403
    assert site.p.approvals.get(aid).state is ApprovalState.PENDING
    assert [x["email"] for x in site.records("approver.csrf_refused")] == ["ann@acme.test"] * 3
    assert site.records("approval.approved") == []


def test_another_persons_session_cannot_decide(site: Site) -> None:
    """Bob's session (valid, with its own CSRF token) cannot approve a request only the agent's
    owner may decide: 403, still pending, `approval.refused` names Bob. Ann's own session can."""
    aid = site.hold(account="acct-1", amount=10)
    bob = sign_in(site.url, "bob@acme.test")
    assert bob.get(f"/approvals/{aid}").status_code == 403
    csrf = form_value(bob.get("/approvals").text, "csrf")
    r = bob.post(f"/approvals/{aid}/decide", data={"csrf": csrf, "decision": "approve", "reason": "mine now"})
    assert r.status_code == 403
    assert site.p.approvals.get(aid).state is ApprovalState.PENDING
    assert [x["approver"] for x in site.records("approval.refused")] == ["bob@acme.test"]
    ann = sign_in(site.url, "ann@acme.test")
    csrf = form_value(ann.get(f"/approvals/{aid}").text, "csrf")
    r = ann.post(
        f"/approvals/{aid}/decide", data={"csrf": csrf, "decision": "deny", "reason": "not expected"}
    )
    assert r.status_code == 303
    req = site.p.approvals.get(aid)
    assert req.state is ApprovalState.DENIED
    assert req.decided_by == "ann@acme.test"
    assert req.decided_via == "password"


def test_the_requester_cannot_approve_under_four_eyes(site: Site) -> None:
    """Ann owns the agent but asked for the task herself; the deploy policy asks for four eyes:
    her approval is refused (403, audited) and the call stays held."""
    aid = site.hold("prod.deploy")
    ann = sign_in(site.url, "ann@acme.test")
    page = ann.get(f"/approvals/{aid}")
    assert page.status_code == 403
    assert "four eyes" in page.text
    csrf = form_value(ann.get("/approvals").text, "csrf")
    r = ann.post(
        f"/approvals/{aid}/decide", data={"csrf": csrf, "decision": "approve", "reason": "it is mine"}
    )
    assert r.status_code == 403
    assert site.p.approvals.get(aid).state is ApprovalState.PENDING
    assert [x["approver"] for x in site.records("approval.refused")] == ["ann@acme.test"]
    d = site.p.decide(CallInput(tool="prod.deploy", args={}, agent="bot", task_token=site.task_token))
    assert d.verdict is Verdict.APPROVAL_REQUIRED


def test_approve_with_narrowing_from_the_page(site: Site) -> None:
    """`this value` for the account and `at most` 500 for the amount: a scoped grant the pipeline
    then applies to other calls of the task inside it, not outside."""
    aid = site.hold(account="acct-7", amount=100)
    ann = sign_in(site.url, "ann@acme.test")
    csrf = form_value(ann.get(f"/approvals/{aid}").text, "csrf")
    r = ann.post(
        f"/approvals/{aid}/decide",
        data={
            "csrf": csrf,
            "decision": "narrow",
            "reason": "this supplier, up to 500",
            "op.account": "eq",
            "op.amount": "max",
            "limit.amount": "500",
        },
    )
    assert r.status_code == 303, r.text
    req = site.p.approvals.get(aid)
    assert req.narrowing is not None
    assert req.narrowing.to_dict() == {"account": {"eq": "acct-7"}, "amount": {"min": 0, "max": 500}}

    def verdict(account: str, amount: int) -> Verdict:
        return site.p.decide(
            CallInput(
                tool="payments.transfer",
                args={"account": account, "amount": amount},
                agent="bot",
                task_token=site.task_token,
            )
        ).verdict

    assert verdict("acct-7", 400) is Verdict.ALLOW
    assert verdict("acct-7", 501) is Verdict.APPROVAL_REQUIRED
    assert verdict("acct-7", -5) is Verdict.APPROVAL_REQUIRED  # "at most" starts at 0
    assert verdict("acct-8", 10) is Verdict.APPROVAL_REQUIRED


def test_history_lists_decisions(site: Site) -> None:
    """A decided request appears in the history with who decided and why."""
    aid = site.hold(account="acct-3", amount=5)
    ann = sign_in(site.url, "ann@acme.test")
    csrf = form_value(ann.get(f"/approvals/{aid}").text, "csrf")
    ann.post(
        f"/approvals/{aid}/decide", data={"csrf": csrf, "decision": "deny", "reason": "duplicate invoice"}
    )
    hist = ann.get("/approvals/history").text
    assert aid in hist
    assert "duplicate invoice" in hist
    assert PW not in hist


def test_invisible_and_bidi_characters_in_arguments_are_shown_not_obeyed(site: Site) -> None:
    """An argument is the agent's text: a right-to-left override would make the page show the
    characters after it reversed (another IBAN than the one that will be paid) and a zero-width
    space hides itself. The page shows them as escapes, as the CLI does."""
    aid = site.hold(account="acct-42", amount=5, iban="DE89 3704\u202e 0044 0532", **{"no\u200bte": "x"})
    from html.parser import HTMLParser

    page = sign_in(site.url, "ann@acme.test").get(f"/approvals/{aid}").text
    shown: list[str] = []  # the text a person reads (form field names keep the argument's own name)

    class Text(HTMLParser):
        def handle_data(self, data: str) -> None:
            shown.append(data)

    Text().feed(page)
    text = "".join(shown)
    assert "\u202e" not in text
    assert "\u200b" not in text
    assert "\\u202e" in text
    assert "\\u200b" in text


def test_a_call_with_many_arguments_can_still_be_decided_on_the_page(site: Site) -> None:
    """The decide form posts two fields per argument (the narrowing's operator and limit), as a
    browser sends them even when left empty: a call with 30 arguments is decided, not refused as a
    form without its CSRF token."""
    extra = {f"field_{i:02}": i for i in range(30)}
    d = site.p.decide(
        CallInput(
            tool="payments.transfer",
            args={"account": "acct-1", "amount": 10, **extra},
            agent="bot",
            task_token=site.task_token,
        )
    )
    assert d.approval_id is not None
    aid = d.approval_id
    ann = sign_in(site.url, "ann@acme.test")
    csrf = form_value(ann.get(f"/approvals/{aid}").text, "csrf")
    data = {"csrf": csrf, "reason": "ok", "decision": "approve"}
    for name in ("account", "amount", *extra):
        data[f"op.{name}"] = ""
        data[f"limit.{name}"] = ""
    r = ann.post(f"/approvals/{aid}/decide", data=data)
    assert r.status_code == 303, r.text[:300]
    assert site.p.approvals.get(aid).state is ApprovalState.APPROVED
