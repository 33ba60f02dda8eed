"""``proctor serve``: the HTTP API, the policy watcher, the task sweeper and local attestation."""

from __future__ import annotations

import logging
import threading

from proctor.app import Proctor
from proctor.server.graceful import DRAIN_TIMEOUT_S, graceful_stop
from proctor.workspace import Workspace

log = logging.getLogger(__name__)


def start_sweeper(proctor: Proctor, interval_s: float = 1.0) -> threading.Event:
    """Expire tasks at their deadline (calls are denied at the deadline even without this)."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(interval_s):
            try:
                proctor.sweep()
            except Exception:  # the sweeper must not die; the next round retries
                log.exception("task sweeper round failed")

    threading.Thread(target=run, name="proctor-sweeper", daemon=True).start()
    return stop


def run_server(workspace: str | None, *, store_url: str | None, host: str | None, port: int | None) -> None:
    import uvicorn

    from proctor.server.api import create_app

    ws = Workspace.find(workspace)
    proctor = Proctor.open(ws, store_url=store_url)
    try:
        proctor.check_secrets_key()  # a wrong or missing secrets key fails at start-up
    except BaseException:
        proctor.close()
        raise
    proctor.watch_policies()
    stop = start_sweeper(proctor)
    attest = None
    try:
        from proctor.identity.attest import AttestationServer

        attest = AttestationServer(
            ws.run_dir, proctor.store, proctor.svids, proctor.clock, on_attest=proctor.audit_attestation
        )
        attest.start()
        log.warning("local attestation socket at %s", attest.socket_path)
    except Exception as exc:
        log.warning("local attestation disabled: %s", exc)
    with graceful_stop():
        try:
            uvicorn.run(
                create_app(proctor, ws),
                host=host or proctor.settings.host,
                port=port or proctor.settings.port,
                log_level="warning",
                server_header=False,
                timeout_graceful_shutdown=DRAIN_TIMEOUT_S,
            )
        finally:
            stop.set()
            if attest is not None:
                attest.close()
            proctor.close()  # flushes the audit log and signs a checkpoint at its head
