"""`proctor serve` on PostgreSQL: an unauthenticated /v1/decide whose tool name holds a NUL (which a
PostgreSQL text column cannot hold) shares group commits with other agents' calls. None of theirs
may be denied for it, its own deny is recorded, and `proctor audit verify` passes afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.pgserver import free_port

from proctor.app import Proctor
from proctor.workspace import Workspace

PROCTOR = [sys.executable, "-c", "from proctor.cli.main import main; main()"]
CONFIG = """\
trust_domain: acme.test
tools:
  - {name: fs.read, effect: read, resource_arg: path, resource: "/data/*"}
"""
AGENTS = 6
ROUNDS = 8
BAD_PER_ROUND = 4
BAD_TOOL = "fs.\x00read"


@dataclass
class Served:
    base: str
    ws: Path
    url: str
    admin: str
    creds: list[tuple[str, str]]  # each agent's (svid, task token)


def _env(ws: Path) -> dict[str, str]:
    return dict(os.environ, PROCTOR_WORKSPACE=str(ws), COLUMNS="200")


@pytest.fixture
def served(tmp_path: Path, pg_fresh_url: str) -> Iterator[Served]:
    """A workspace on PostgreSQL with AGENTS agents, each with an SVID and a task, served by a real
    `proctor serve --store <url>` process."""
    ws, admin = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    p = Proctor.open(ws, store_url=pg_fresh_url)
    creds: list[tuple[str, str]] = []
    try:
        for i in range(AGENTS):
            agent = p.agents.add(f"bot-{i}", "owner@acme.test")
            task = p.tasks.start(
                agent=agent.name,
                purpose="read data",
                allow=["fs.read"],
                resources=["/data/*"],
                requested_by="req@acme.test",
                ttl_s=3600,
            )
            creds.append((p.agents.issue_svid(agent), task.token))
    finally:
        p.close()
    port = free_port()
    log = (tmp_path / "serve.log").open("ab")
    proc = subprocess.Popen(
        [*PROCTOR, "serve", "--store", pg_fresh_url, "--host", "127.0.0.1", "--port", str(port)],
        env=_env(ws.root),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:  # wait for the server (or for it to die: then the assertion says so)
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield Served(base, ws.root, pg_fresh_url, admin, creds)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_nul_tool_name_denies_no_other_call(served: Served) -> None:
    """Rounds of concurrent calls: every agent's allowed call and unauthenticated calls for a tool
    named with a NUL. Every allowed call is allowed, every bad one is a 401 deny found in the log
    under its exact name, and `proctor audit verify --deep` passes."""
    base, ws, url, creds = served.base, served.ws, served.url, served.creds
    good: list[dict[str, Any]] = []
    bad: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()

    with httpx.Client(base_url=base, timeout=60, limits=httpx.Limits(max_connections=64)) as client:

        def call_good(i: int, n: int) -> None:
            svid, token = creds[i]
            r = client.post(
                "/v1/decide",
                json={"tool": "fs.read", "task_token": token, "args": {"path": f"/data/{n}"}},
                headers={"Authorization": f"Bearer {svid}"},
            )
            with lock:
                good.append({"status": r.status_code, **r.json()})

        def call_bad() -> None:
            # an identified caller (an unidentified one is a rate-limited refusal, not a decision)
            # whose task token is garbage: a deny decision recorded under the NUL tool name
            r = client.post(
                "/v1/decide",
                json={"tool": BAD_TOOL, "task_token": "x", "args": {"p": "\x00"}},
                headers={"Authorization": f"Bearer {creds[0][0]}"},
            )
            with lock:
                bad.append((r.status_code, r.json()))

        for n in range(ROUNDS):
            barrier = threading.Barrier(AGENTS + BAD_PER_ROUND)

            def at_once(fn: Any, *args: Any, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                fn(*args)

            threads = [threading.Thread(target=at_once, args=(call_good, i, n)) for i in range(AGENTS)]
            threads += [threading.Thread(target=at_once, args=(call_bad,)) for _ in range(BAD_PER_ROUND)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()

        # an agent's own call for such a tool is denied as an unknown tool, not as a store failure
        svid, token = creds[0]
        own = client.post(
            "/v1/decide",
            json={"tool": BAD_TOOL, "task_token": token, "args": {"path": "/data/\x00"}},
            headers={"Authorization": f"Bearer {svid}"},
        ).json()
        audit = client.get(
            "/v1/audit",
            params={"tool": BAD_TOOL, "limit": 1000},
            headers={"Authorization": f"Bearer {served.admin}"},
        )

    assert len(good) == AGENTS * ROUNDS
    denied = [g for g in good if g.get("decision") != "allow"]
    assert denied == [], denied[:3]
    assert len(bad) == ROUNDS * BAD_PER_ROUND
    for status, answer in bad:  # refused, and said so
        assert status in (200, 401), answer
        assert answer["decision"] == "deny"
    # every refused call is in the log under its exact tool name
    assert audit.status_code == 200, audit.text
    assert (own["decision"], own["errors"]) == ("deny", ["invalid_input"])
    assert len(audit.json()) == ROUNDS * BAD_PER_ROUND + 1

    r = subprocess.run(
        [*PROCTOR, "audit", "verify", "--deep", "--store", url],
        env=_env(ws),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
