"""``proctor serve``: the HTTP API, the policy watcher, the task sweeper and local attestation."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from proctor.app import Proctor
from proctor.audit.refusals import RefusalLimiter
from proctor.server.graceful import DRAIN_TIMEOUT_S, graceful_stop
from proctor.workspace import Workspace

if TYPE_CHECKING:
    from proctor.approvals.webhooks import WebhookDispatcher

__all__ = [
    "MAX_HEAD_BYTES",
    "BoundedH11Protocol",
    "run_server",
    "start_sweeper",
    "start_webhooks",
]


log = logging.getLogger(__name__)

#: the request line and header fields of one request, in bytes: a larger head is answered 431
MAX_HEAD_BYTES = 32 * 1024
_TOO_LARGE = json.dumps(
    {
        "error": {
            "code": "headers_too_large",
            "message": f"the request line and headers are larger than {MAX_HEAD_BYTES} bytes",
        }
    }
).encode()


class _Connection(h11.Connection):
    """h11's connection, remembering that it gave up on a head larger than its buffer."""

    head_too_large = False

    def next_event(self) -> Any:
        try:
            return super().next_event()
        except h11.RemoteProtocolError as exc:
            # h11 hints 431 only when an incomplete head outgrows ``max_incomplete_event_size``
            self.head_too_large = exc.error_status_hint == 431
            raise


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the request head bounded to ``MAX_HEAD_BYTES`` (httptools, which
    uvicorn picks when it is installed, buffers a header of any size): a larger head is answered
    ``431`` with a JSON error, and the connection is closed. The bound holds before the head is
    complete, so at most one read past it is ever buffered."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = _Connection(h11.SERVER, MAX_HEAD_BYTES)

    def send_400_response(self, msg: str) -> None:
        if not (isinstance(self.conn, _Connection) and self.conn.head_too_large):
            super().send_400_response(msg)
            return
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(_TOO_LARGE)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=431, headers=headers, reason=b"Request Header Fields Too Large"),
            h11.Data(data=_TOO_LARGE),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()


def start_sweeper(
    proctor: Proctor, interval_s: float = 1.0, refusals: Sequence[RefusalLimiter] = ()
) -> threading.Event:
    """Expire tasks at their deadline (calls are denied at the deadline even without this), and
    write the summary of each closed window of suppressed refusal records."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(interval_s):
            try:
                proctor.tasks.sweep()
            except Exception:  # the sweeper must not die; the next round retries
                log.exception("task sweeper round failed")
            for limiter in refusals:
                proctor.refusals.write_summaries(limiter)

    threading.Thread(target=run, name="proctor-sweeper", daemon=True).start()
    return stop


def start_webhooks(proctor: Proctor) -> WebhookDispatcher | None:
    """Announce each new approval request to the configured webhooks, from a thread of its own
    (see proctor.approvals.webhooks); None when none is configured."""
    settings = proctor.settings
    if not settings.approval_webhooks or settings.approval_public_url is None:
        return None
    from proctor.approvals.webhooks import WebhookDispatcher

    dispatcher = WebhookDispatcher(
        proctor.store,
        proctor.approvals,
        settings.approval_webhooks,
        settings.approval_public_url,
        proctor.audit,
        proctor.clock,
        secret_value=proctor.credentials.secret_value,
    )
    proctor.approvals.subscribe(dispatcher.notify)  # a request filed by this process: at once
    dispatcher.start()
    return dispatcher


def run_server(workspace: str | None, *, store_url: str | None, host: str | None, port: int | None) -> None:
    import uvicorn

    from proctor.server.api import create_app
    from proctor.server.listen import AnnouncingServer, bind_listener

    ws = Workspace.find(workspace)
    settings = ws.settings()
    # the port first: a second `proctor serve` ends here, with one line, before opening anything
    sock = bind_listener(host or settings.host, port or settings.port, command="proctor serve")
    try:
        proctor = Proctor.open(ws, store_url=store_url)
    except BaseException:
        sock.close()
        raise
    try:
        proctor.credentials.check_secrets_key()  # a wrong or missing secrets key fails at start-up
    except BaseException:
        sock.close()
        proctor.close()
        raise
    proctor.policies.watch()
    app = create_app(proctor, ws)
    limiters: tuple[RefusalLimiter, ...] = app.state.limiters
    stop = start_sweeper(proctor, refusals=limiters)
    webhooks = start_webhooks(proctor)
    attest = None
    try:
        from proctor.identity.attest import AttestationServer

        attest = AttestationServer(
            ws.run_dir,
            proctor.store,
            proctor.agents.svids,
            proctor.clock,
            on_attest=proctor.agents.audit_attestation,
        )
        attest.start()
        log.warning("local attestation socket at %s", attest.socket_path)
    except Exception as exc:
        log.warning("local attestation disabled: %s", exc)
    with graceful_stop():  # SIGTERM/SIGINT: uvicorn drains, then the clean-up below runs
        try:
            config = uvicorn.Config(
                app,
                log_level="warning",
                server_header=False,
                http=BoundedH11Protocol,
                timeout_graceful_shutdown=DRAIN_TIMEOUT_S,
                # the peer's address is what the audit log records as a request's source (and
                # what refusal records are limited by): never an X-Forwarded-For any process on
                # this host may send (uvicorn trusts it from 127.0.0.1 by default), as the gateway
                proxy_headers=False,
            )
            AnnouncingServer(config).run(sockets=[sock])
        finally:
            sock.close()
            stop.set()
            if webhooks is not None:
                webhooks.stop()
            for limiter in limiters:
                proctor.refusals.write_summaries(limiter, final=True)
            if attest is not None:
                attest.close()
            proctor.close()  # flushes the audit log and signs a checkpoint at its head
