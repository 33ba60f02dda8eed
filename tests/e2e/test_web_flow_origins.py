"""The approval page of a real ``proctor serve`` shows where each argument of a held call came
from, beside it (issue 15, docs/adr/0025): an IBAN found only in an e-mail the task read, an amount
from the task's intent."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_web_login import add_user, sign_in
from tests.e2e.web_harness import proctor_serve

from proctor.app import Proctor
from proctor.pipeline import CallInput
from proctor.types import Verdict
from proctor.workspace import Workspace

CONFIG = """\
trust_domain: acme.test
tools:
  - {name: mail.read, effect: read, labels: {trust: untrusted}}
  - {name: payments.transfer, effect: pay, flags: [financial]}
"""
IBAN = "DE89370400440532013000"


def test_the_request_page_shows_each_arguments_origin(tmp_path: Path) -> None:
    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    add_user(ws.root, "ann@acme.test", "payments-team")
    with Proctor.open(ws) as p:
        p.agents.add("bot", "ann@acme.test")
        started = p.tasks.start(
            agent="bot",
            purpose="pay the March invoice",
            allow=["mail.*", "payments.*"],
            requested_by="rob@acme.test",
            ttl_s=900,
            params={"amount": "1250"},
        )
        p.flow.observe(started.task, p.tools.get("mail.read"), "Our new account: DE89 3704 0044 0532 0130 00")
        d = p.decide(
            CallInput(
                tool="payments.transfer",
                args={"iban": IBAN, "amount": 1250, "memo": "zq-7Hx"},
                agent="bot",
                task_token=started.token,
            )
        )
        assert d.verdict is Verdict.APPROVAL_REQUIRED, d
        aid = d.approval_id
    with proctor_serve(ws.root) as url:
        page = sign_in(url, "ann@acme.test").get(f"/approvals/{aid}").text
    assert "ONLY from untrusted content: mail.read" in page
    assert "from intent (parameter amount)" in page
    assert "from nowhere" in page  # the memo: the model made it up
    # beside its own argument: the IBAN's row holds the untrusted origin
    row = page[page.index(IBAN) :]
    assert row.index("ONLY from untrusted content") < row.index("</tr>")
