"""Browser tests: Playwright driving Debian's Chromium (by its executable path) against a real
``proctor serve``. An approver signs in — with a local account, or through the OpenID provider
``oidc-provider-mock`` — finds the held call in the queue, reads its arguments on its page and
approves it; the pipeline then runs the identical call once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.test_web_login import PW, add_user
from tests.e2e.web_harness import browser_page, oidc_provider, proctor_serve

from proctor.app import Proctor
from proctor.approvals.model import ApprovalState
from proctor.pipeline import CallInput
from proctor.types import Verdict
from proctor.workspace import Workspace

TOOLS = """\
tools:
  - {name: payments.transfer, effect: pay, resource_arg: account, flags: [financial]}
"""
CAROL = {
    "sub": "carol",
    "email": "carol@acme.test",
    "email_verified": True,
    "name": "Carol",
    "groups": ["finance"],
}


def held_payment(p: Proctor, owner: str) -> tuple[str, CallInput]:
    """Agent `bot` (owned by ``owner``) asks to pay: the pipeline holds the call for its owner."""
    p.agents.add("bot", owner)
    task = p.tasks.start(
        agent="bot",
        purpose="pay supplier invoice INV-2291",
        allow=["payments.*"],
        resources=["acct-*"],
        requested_by="req@acme.test",
        ttl_s=900,
    )
    call = CallInput(
        tool="payments.transfer",
        args={"account": "acct-DE89370400440532013000", "amount": 1250, "reference": "INV-2291"},
        agent="bot",
        task_token=task.token,
    )
    d = p.decide(call)
    assert d.verdict is Verdict.APPROVAL_REQUIRED
    assert d.approval_id is not None
    return d.approval_id, call


def approve_in_browser(page: object, url: str, aid: str) -> None:
    """From the queue: open the request, check what it shows, give a reason and approve."""
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    expect(page.locator("h1")).to_have_text("Pending approvals")
    page.click(f"a[href='/approvals/{aid}']")
    expect(page).to_have_url(re.compile(rf"/approvals/{aid}$"))
    args = page.locator("table.args")
    expect(args).to_contain_text("acct-DE89370400440532013000")
    expect(args).to_contain_text("1250")
    expect(args).to_contain_text("INV-2291")
    expect(page.locator("main")).to_contain_text("pay supplier invoice INV-2291")
    expect(page.locator("main")).to_contain_text("req@acme.test")
    page.fill("textarea[name=reason]", "invoice checked against the contract")
    page.click("button[value=approve]")
    expect(page.locator(".notice")).to_contain_text("You approved this request")
    expect(page.locator("main")).to_contain_text("invoice checked against the contract")


def test_an_approver_signs_in_and_approves_a_held_call(tmp_path: Path) -> None:
    """Local account: sign in on /login, see the held payment with its arguments, approve it; the
    identical call then runs (once), and the decision names the approver."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n" + TOOLS)
    add_user(ws.root, "ann@acme.test", "payments-team")
    with Proctor.open(ws) as p:
        aid, call = held_payment(p, "ann@acme.test")
        with proctor_serve(ws.root) as url, browser_page() as page:
            page.goto(url + "/approvals")
            page.wait_for_url(re.compile(r"/login\?next="))
            page.fill("input[name=email]", "ann@acme.test")
            page.fill("input[name=password]", PW)
            page.click("button[type=submit]")
            page.wait_for_url(url + "/approvals")
            approve_in_browser(page, url, aid)
        req = p.approvals.get(aid)
        assert req.state is ApprovalState.APPROVED
        assert req.decided_by == "ann@acme.test"
        assert p.decide(call).verdict is Verdict.ALLOW
        assert p.approvals.get(aid).state is ApprovalState.USED


@pytest.fixture
def oidc_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    monkeypatch.setenv("PROCTOR_TEST_OIDC_SECRET", "a-client-secret")
    with oidc_provider([CAROL]) as issuer:
        config = (
            "trust_domain: acme.test\n"
            + TOOLS
            + f"login:\n  oidc:\n    issuer: {issuer}\n    client_id: proctor-web\n"
            "    client_secret: env:PROCTOR_TEST_OIDC_SECRET\n    email_domain: acme.test\n"
        )
        ws, _ = Workspace.init(tmp_path / "ws", config_text=config)
        yield ws.root, issuer


def test_an_approver_signs_in_through_oidc_and_approves(oidc_site: tuple[Path, str]) -> None:
    """SSO: the sign-in page sends the browser to the provider, Carol picks her account there, the
    provider sends her back and Proctor opens a session from her verified ID token; she approves
    the payment her agent is waiting for."""
    root, issuer = oidc_site
    with Proctor.open(Workspace.find(str(root))) as p:
        aid, call = held_payment(p, "carol@acme.test")
        with proctor_serve(root) as url, browser_page() as page:
            page.goto(url + "/login")
            page.click("a.sso")
            page.wait_for_url(re.compile(re.escape(issuer) + "/oauth2/authorize"))
            page.click("button[name=sub][value=carol]")
            page.wait_for_url(url + "/approvals")
            from playwright.sync_api import expect

            expect(page.locator("header .who")).to_contain_text("carol@acme.test")
            approve_in_browser(page, url, aid)
        req = p.approvals.get(aid)
        assert req.decided_by == "carol@acme.test"
        assert req.decided_via == f"oidc:{issuer}"
        assert p.decide(call).verdict is Verdict.ALLOW
