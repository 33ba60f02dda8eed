"""Outbound approval webhooks (proctor.approvals.webhooks) against a real HTTP receiver on 127.0.0.1,
a real SQLite store and the workspace's real audit log and secrets store."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from tests.unit.conftest import Env

from proctor.approvals.model import ApprovalRequest, Approver
from proctor.approvals.webhooks import (
    WebhookDispatcher,
    WebhookTarget,
    parse_webhooks,
    sign,
    slack_payload,
    verify_signature,
)
from proctor.errors import ValidationError
from proctor.pipeline import CallInput
from proctor.types import Email, Verdict

SECRET = b"whsec-test-0123456789"
PUBLIC = "https://proctor.acme.test"


@dataclass
class Receiver:
    """A tiny HTTP server: answers the scripted statuses in order (then the last one), records
    every request it got."""

    statuses: list[int]
    got: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook?x=1"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver([200])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            rec.got.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status = rec.statuses[min(len(rec.got), len(rec.statuses)) - 1]
            self.send_response(status)
            if status == 429:
                self.send_header("retry-after", "7")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    rec.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=rec.server.serve_forever, daemon=True)
    t.start()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


def held(env: Env, amount: int = 100) -> ApprovalRequest:
    """A real request: a payment the starter policy holds for the owner, filed by the pipeline."""
    c = CallInput(
        tool="payments.transfer",
        args={"account": "acct-1", "amount": amount},
        svid=env.svid,
        task_token=env.task.token,
    )
    d = env.p.decide(c)
    assert d.verdict is Verdict.APPROVAL_REQUIRED
    assert d.approval_id is not None
    return env.p.approvals.get(d.approval_id)


def dispatcher(env: Env, targets: Sequence[WebhookTarget], **kw: Any) -> WebhookDispatcher:
    return WebhookDispatcher(
        env.p.store,
        env.p.approvals,
        targets,
        PUBLIC,
        env.p.audit,
        env.clock,
        secret_value=env.p.credentials.secret_value,
        env={"HOOK_KEY": SECRET.decode()},
        **kw,
    )


def hook(rec: Receiver, **kw: Any) -> WebhookTarget:
    return WebhookTarget(
        **{"name": "ops", "url": rec.url, "secret_env": "HOOK_KEY", "allow_private_network": True, **kw}
    )


def run(d: WebhookDispatcher) -> int:
    return asyncio.run(d.run_once())


def audit_of(env: Env, approval: ApprovalRequest) -> list[dict[str, Any]]:
    env.p.audit.flush()
    rows = [json.loads(r.body) for r in env.p.store.iter_audit() if r.kind == "approval.webhook"]
    return [
        r
        for r in rows
        if r.get("approval") == str(approval.id) or r.get("fields", {}).get("approval") == str(approval.id)
    ]


def fields(rec: dict[str, Any]) -> dict[str, Any]:
    inner: dict[str, Any] = rec.get("fields", rec)
    return inner


def test_a_500_is_retried_with_backoff_then_delivered_signed(env: Env, receiver: Receiver) -> None:
    """The receiver answers 500, then 200: the second attempt comes after the backoff, carries the
    identical body, a valid signature and the page's link, never the arguments; both are audited."""
    receiver.statuses = [500, 200]
    apr = held(env)
    d = dispatcher(env, [hook(receiver)])
    assert run(d) == 1
    (first,) = env.p.store.list_webhook_deliveries(str(apr.id))
    assert (first.state, first.attempts, first.last_status) == ("pending", 1, 500)
    assert first.next_attempt_at is not None
    assert 5.0 <= first.next_attempt_at - env.clock.now() <= 10.0  # base 10 s, jitter in [half, whole]
    assert run(d) == 0  # not due yet
    env.clock.advance(10)
    assert run(d) == 1
    (done,) = env.p.store.list_webhook_deliveries(str(apr.id))
    assert (done.state, done.attempts, done.last_status) == ("delivered", 2, 200)
    assert len(receiver.got) == 2
    (p1, h1, b1), (_, h2, b2) = receiver.got
    assert b1 == b2
    assert p1 == "/hook?x=1"
    assert h1["host"].startswith("127.0.0.1:")
    assert h1["proctor-delivery"] == f"{apr.id}/ops"
    assert verify_signature(SECRET, h2["proctor-signature"], b2, env.clock.now())
    doc = json.loads(b2)
    assert doc["event"] == "approval.requested"
    assert doc["url"] == f"{PUBLIC}/approvals/{apr.id}"
    assert doc["approval"]["tool"] == "payments.transfer"
    assert "digest" not in doc["approval"]
    assert "args_digest" not in doc["approval"]
    assert apr.args_digest not in b2.decode()
    assert "acct-1" not in b2.decode()
    outcomes = [
        (fields(r)["attempt"], fields(r)["outcome"], fields(r).get("status")) for r in audit_of(env, apr)
    ]
    assert outcomes == [(1, "retry", 500), (2, "delivered", 200)]


def test_the_signature_refuses_a_changed_body_an_old_time_and_another_key() -> None:
    """What a receiver checks: the body signed, within the replay window, with its key."""
    body = b'{"event":"approval.requested"}'
    header = sign(SECRET, body, 1_000_000)
    assert verify_signature(SECRET, header, body, 1_000_000 + 299)
    assert not verify_signature(SECRET, header, body + b" ", 1_000_000)
    assert not verify_signature(SECRET, header, body, 1_000_000 + 301)  # replayed too late
    assert not verify_signature(SECRET, header, body, 1_000_000 - 301)
    assert not verify_signature(b"another key", header, body, 1_000_000)
    assert not verify_signature(SECRET, "t=1000000", body, 1_000_000)
    forged = header.replace("t=1000000", "t=1000100")  # a fresh time on an old signature
    assert not verify_signature(SECRET, forged, body, 1_000_100)


def test_slack_payload_links_the_page_with_a_button_and_escapes_text(env: Env, receiver: Receiver) -> None:
    """A Slack-compatible body: text plus blocks whose button opens the request's page; a reason
    cannot smuggle a mention or a link in. The key comes from the secrets store."""
    env.p.credentials.secrets.put("slack-signing", b"slack-key", env.clock.now())
    apr = held(env)
    d = dispatcher(env, [hook(receiver, format="slack", secret=None, secret_env=None)])
    d2 = dispatcher(
        env,
        [hook(receiver, name="signed", format="slack", secret="slack-signing", secret_env=None)],
    )
    run(d)
    run(d2)
    (_, h, body), (_, h_signed, body_signed) = receiver.got
    assert "proctor-signature" not in h
    assert verify_signature(b"slack-key", h_signed["proctor-signature"], body_signed, env.clock.now())
    doc = json.loads(body)
    link = f"{PUBLIC}/approvals/{apr.id}"
    assert link in doc["text"]
    (button,) = next(b for b in doc["blocks"] if b["type"] == "actions")["elements"]
    assert button["url"] == link
    assert "acct-1" not in body.decode()
    sneaky = json.loads(slack_payload(replace(apr, reasons=("pay <@channel> <https://evil|here>",)), link))
    assert "&lt;@channel&gt; &lt;https://evil|here&gt;" in json.dumps(sneaky)
    assert "<@channel>" not in json.dumps(sneaky)


def test_a_private_address_is_refused_unless_allowed(env: Env, receiver: Receiver) -> None:
    """127.0.0.1 (as any loopback, private or link-local address) is refused by default: nothing
    is sent, the refusal is audited and final."""
    apr = held(env)
    d = dispatcher(env, [hook(receiver, allow_private_network=False)])
    run(d)
    assert receiver.got == []
    (row,) = env.p.store.list_webhook_deliveries(str(apr.id))
    assert (row.state, row.last_error) == ("failed", "refused_private_address")
    assert [fields(r)["outcome"] for r in audit_of(env, apr)] == ["failed"]


def test_a_4xx_is_final_and_5xx_gives_up_after_the_last_attempt(env: Env, receiver: Receiver) -> None:
    """404 ends the delivery at once; 503 forever is tried max_attempts times, then failed; 429's
    Retry-After is honoured."""
    receiver.statuses = [404]
    a = held(env)
    run(dispatcher(env, [hook(receiver)]))
    assert env.p.store.list_webhook_deliveries(str(a.id))[0].state == "failed"

    receiver.statuses, receiver.got = [429, 503], []
    b = held(env, 200)
    d = dispatcher(env, [hook(receiver)], max_attempts=3, backoff_base_s=1, backoff_cap_s=60)
    run(d)
    (row,) = env.p.store.list_webhook_deliveries(str(b.id))
    assert row.next_attempt_at is not None
    assert row.next_attempt_at - env.clock.now() >= 7  # Retry-After: 7 beats the 1 s backoff
    for _ in range(2):
        env.clock.advance(60)
        run(d)
    (row,) = env.p.store.list_webhook_deliveries(str(b.id))
    assert (row.state, row.attempts, row.last_status) == ("failed", 3, 503)
    assert len(receiver.got) == 3
    env.clock.advance(600)
    assert run(d) == 0


def test_a_crash_loses_no_notification(env: Env, receiver: Receiver) -> None:
    """A request filed by no process yet is filed by the next one; a claim a crashed process left
    behind runs out, and the delivery is sent by another process."""
    apr = held(env)
    crashed = dispatcher(env, [hook(receiver)])
    crashed.file_new()
    claimed = env.p.store.claim_webhook_deliveries(env.clock.now(), env.clock.now() + 60)
    assert len(claimed) == 1  # ... and the process dies before sending
    restarted = dispatcher(env, [hook(receiver)])
    assert run(restarted) == 0  # still claimed
    env.clock.advance(61)
    assert run(restarted) == 1
    assert env.p.store.list_webhook_deliveries(str(apr.id))[0].state == "delivered"
    assert len(receiver.got) == 1

    late = held(env, 300)  # made while no serve process ran: filed and sent at the next start
    assert run(dispatcher(env, [hook(receiver)])) == 1
    assert len(receiver.got) == 2
    assert json.loads(receiver.got[1][2])["approval"]["id"] == str(late.id)


def test_a_request_decided_before_its_turn_is_not_announced(env: Env, receiver: Receiver) -> None:
    """Decided between filing and sending: obsolete, nothing sent, audited."""
    apr = held(env)
    d = dispatcher(env, [hook(receiver)])
    d.file_new()
    env.p.approvals.approve(str(apr.id), Approver(Email("owner@acme.test")), "known supplier")
    run(d)
    assert receiver.got == []
    assert env.p.store.list_webhook_deliveries(str(apr.id))[0].state == "obsolete"
    assert [fields(r)["outcome"] for r in audit_of(env, apr)] == ["obsolete"]


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ([{"url": "ftp://x.test/h", "secret": "s"}], "http"),
        ([{"url": "https://x.test/h"}], "signed"),
        ([{"url": "https://x.test/h", "url_secret": "u", "secret": "s"}], "`url` or `url_secret`"),
        ([{"url": "https://u:p@x.test/h", "secret": "s"}], "no user"),
        ([{"url": "https://x.test/h", "secret": "s", "secrt_env": "X"}], "secrt_env"),
        ([{"url": "https://x.test/h", "format": "teams", "secret": "s"}], "format"),
        (
            [
                {"name": "a", "url_secret": "u", "format": "slack"},
                {"name": "a", "url_secret": "v", "format": "slack"},
            ],
            "twice",
        ),
    ],
)
def test_webhook_settings_are_checked(raw: Any, why: str) -> None:
    """Only http(s) URLs without credentials, known formats and keys; a json webhook is signed."""
    with pytest.raises(ValidationError, match=why):
        parse_webhooks(raw)


def test_webhook_settings_parse() -> None:
    (t,) = parse_webhooks([{"url_secret": "slack-url", "format": "slack"}])
    assert (t.name, t.format, t.url_secret, t.url) == ("webhook-1", "slack", "slack-url", None)
    assert "slack-url" not in repr(t)


def test_approvals_settings_in_proctor_yaml(tmp_path: Any) -> None:
    """``approvals``: public_url, hold (0 answers at once), webhooks (which need the public URL)."""
    from proctor.config import load_settings
    from proctor.errors import ConfigError

    cfg = tmp_path / "proctor.yaml"
    cfg.write_text(
        "trust_domain: acme.test\napprovals:\n  public_url: https://p.acme.test/\n  hold: 0\n"
        "  webhooks:\n    - {name: chat, url_secret: chat-url, format: slack}\n"
    )
    s = load_settings(cfg, env={})
    assert (s.approval_public_url, s.approval_hold_s) == ("https://p.acme.test", 0.0)
    assert [t.name for t in s.approval_webhooks] == ["chat"]
    assert load_settings(cfg.parent / "proctor.yaml", env={}).approval_webhooks
    cfg.write_text("trust_domain: acme.test\napprovals:\n  hold: 45s\n")
    assert load_settings(cfg, env={}).approval_hold_s == 45.0
    cfg.write_text("trust_domain: acme.test\napprovals:\n  webhooks:\n    - {url_secret: u, format: slack}\n")
    with pytest.raises(ConfigError, match="public_url"):
        load_settings(cfg, env={})
    cfg.write_text("trust_domain: acme.test\napprovals:\n  hold: 2h\n")
    with pytest.raises(ConfigError, match="at most"):
        load_settings(cfg, env={})
