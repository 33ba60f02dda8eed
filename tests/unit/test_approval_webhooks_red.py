"""Red team of the approval webhooks (issue 14): targets that hide an internal IPv4 address in an
IPv6 one, signature headers a receiver cannot parse, a receiver whose body never ends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from tests.unit import test_approval_webhooks as base
from tests.unit.conftest import Env
from tests.unit.test_approval_webhooks import SECRET, Receiver, dispatcher, held, hook, run

from proctor.approvals.webhooks import CLAIM_S, WebhookTarget, sign, verify_signature

receiver = base.receiver  # the scripted receiver fixture


@pytest.mark.parametrize(
    "host",
    [
        "[64:ff9b::7f00:1]",  # NAT64 well-known prefix: 127.0.0.1 through a NAT64 gateway
        "[64:ff9b::a9fe:a9fe]",  # ... the cloud metadata address
        "[2002:a00:1::1]",  # 6to4 of 10.0.0.1
        "[::a9fe:a9fe]",  # IPv4-compatible (deprecated) 169.254.169.254
        "[::ffff:224.0.0.1]",  # IPv4-mapped multicast
        "[fec0::1]",  # site-local (deprecated, still routed as private on some networks)
    ],
)
def test_an_ipv6_address_embedding_an_internal_ipv4_is_refused(env: Env, host: str) -> None:
    """Python 3.11's ``is_global`` calls these global; each carries (or is) a non-public address, so
    the target is refused like 127.0.0.1 is: nothing is attempted, the refusal is final."""
    apr = held(env)
    target = WebhookTarget(name="ops", url=f"http://{host}:9/hook", secret_env="HOOK_KEY")
    run(dispatcher(env, [target]))
    (row,) = env.p.store.list_webhook_deliveries(str(apr.id))
    assert (row.state, row.last_error) == ("failed", "refused_private_address")


@pytest.mark.parametrize(
    "header",
    [
        "t=1000000,v1=\u00e9\u00e9",  # a latin-1 decoded header byte: compare_digest raised TypeError
        "t=\u00b2,v1=00",  # a superscript digit: isdigit() but not int(): ValueError
    ],
)
def test_verify_signature_refuses_a_header_it_cannot_parse(header: str) -> None:
    """The reference verifier answers False to any header it cannot read, never raises (a receiver
    built on it would answer 500 to a forged request instead of refusing it)."""
    assert not verify_signature(SECRET, header, b"{}", 1_000_000)
    good = sign(SECRET, b"{}", 1_000_000)
    assert verify_signature(SECRET, good, b"{}", 1_000_000)


@pytest.fixture
def endless() -> Iterator[tuple[str, threading.Event]]:
    """A receiver that answers 200 and then a body that never ends (it trickles, then stalls)."""
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            self.send_response(200)
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"4\r\njunk\r\n")
            self.wfile.flush()
            stop.wait(30)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", stop
    stop.set()
    server.shutdown()
    server.server_close()


def test_the_receivers_body_is_not_read(env: Env, endless: tuple[str, threading.Event]) -> None:
    """The status is the answer: a receiver that streams an endless (or huge) body neither holds the
    delivery until its timeout nor fills the serve process's memory."""
    url, _ = endless
    apr = held(env)
    target = WebhookTarget(name="ops", url=url, secret_env="HOOK_KEY", allow_private_network=True)
    run(dispatcher(env, [target]))
    (row,) = env.p.store.list_webhook_deliveries(str(apr.id))
    assert (row.state, row.last_status, row.last_error) == ("delivered", 200, None)


def test_a_process_that_does_not_know_a_webhook_leaves_its_delivery_to_one_that_does(
    env: Env, receiver: Receiver
) -> None:
    """Two serve processes whose ``approvals.webhooks`` differ (a rolling change of proctor.yaml):
    the one without webhook `chat` claims its delivery among the due ones. It must not end it
    (``failed``, never sent): the process that has `chat` delivers it once the claim runs out."""
    apr = held(env)
    old = dispatcher(env, [hook(receiver, name="ops")])
    new = dispatcher(env, [hook(receiver, name="ops"), hook(receiver, name="chat")])
    new.file_new()  # files ops and chat
    run(old)  # claims both: sends ops, does not know chat
    env.clock.advance(CLAIM_S + 1)
    run(new)
    rows = {r.target: r for r in env.p.store.list_webhook_deliveries(str(apr.id))}
    assert (rows["ops"].state, rows["chat"].state) == ("delivered", "delivered")
    assert sorted(h["proctor-delivery"] for _, h, _ in receiver.got) == [f"{apr.id}/chat", f"{apr.id}/ops"]
