"""A real `proctor serve` announces an approval request filed by another process (the pipeline in
this test's process, as a gateway would) to a webhook receiver on 127.0.0.1, signed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.e2e.gateway_harness import free_port

from proctor.app import Proctor
from proctor.approvals.webhooks import verify_signature
from proctor.pipeline import CallInput
from proctor.types import Verdict
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent
KEY = "e2e-webhook-key-0123456789"


def test_serve_delivers_a_request_filed_by_another_process(tmp_path: Path) -> None:
    """The request is in the store only (no message between processes): serve's worker finds it
    unannounced, posts the signed JSON with the page's link, and audits the delivery."""
    got: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            got.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    config = (
        "trust_domain: acme.test\n"
        "tools:\n  - {name: payments.transfer, effect: pay, resource_arg: account, flags: [financial]}\n"
        "approvals:\n  public_url: https://proctor.acme.test\n  webhooks:\n"
        f"    - {{name: ops, url: '{hook}', secret_env: HOOK_KEY, allow_private_network: true}}\n"
    )
    ws, _ = Workspace.init(tmp_path / "ws", config_text=config)
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "proctor"), "serve", "--port", str(port), "--workspace", str(ws.root)],
        env={**os.environ, "HOOK_KEY": KEY, "PATH": f"{BIN}:/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
                assert time.monotonic() < deadline, "proctor serve did not start"
                time.sleep(0.1)
        with Proctor.open(ws) as p:
            agent = p.agents.add("bot", "owner@acme.test")
            task = p.tasks.start(
                agent="bot",
                purpose="pay",
                allow=["payments.*"],
                resources=["acct-*"],
                requested_by="r@acme.test",
            )
            d = p.decide(
                CallInput(
                    tool="payments.transfer",
                    args={"account": "acct-9", "amount": 5},
                    svid=p.agents.issue_svid(agent),
                    task_token=task.token,
                )
            )
            assert d.verdict is Verdict.APPROVAL_REQUIRED
            deadline = time.monotonic() + 20
            while not got and time.monotonic() < deadline:
                time.sleep(0.1)
            assert got, "the webhook was not called"
            headers, body = got[0]
            assert verify_signature(KEY.encode(), headers["proctor-signature"], body, time.time())
            doc = json.loads(body)
            assert doc["url"] == f"https://proctor.acme.test/approvals/{d.approval_id}"
            assert doc["approval"]["id"] == d.approval_id
            assert "acct-9" not in body.decode()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                rows = p.store.list_webhook_deliveries(str(d.approval_id))
                if rows and rows[0].state == "delivered":
                    break
                time.sleep(0.1)
            assert [(r.target, r.state, r.last_status) for r in rows] == [("ops", "delivered", 204)]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        receiver.shutdown()
        receiver.server_close()
    assert len(got) == 1
