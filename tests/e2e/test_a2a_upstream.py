"""A2A agents as upstreams (issue 17, docs/adr/0038), with a real A2A agent: the A2A project's own
SDK (`a2a-sdk`, tests/e2e/a2a_agent.py) serving a card it signed itself, on loopback, and real
`proctor` processes (the CLI and `proctor gateway --http`).

- a validly signed card is pinned; each skill is a tool whose effect its card declares (or
  `execute`); calls are decided, audited, and their answers labelled untrusted, so a consequential
  call whose argument came only from the agent's answer is held by the starter flow policy;
- a card changed after signing, an unsigned card and a card signed by a key nobody pinned are
  refused at registration (and audited); an unsigned card goes in only with
  `--allow-unsigned-card`, with a loud warning;
- a card that changes after pinning (a skill's effect re-declared) is refused by `upstream refresh`
  and by the gateway until an operator re-pins it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from tests.e2e.gateway_harness import free_port

from proctor.app import Proctor
from proctor.store.base import AuditQuery
from proctor.workspace import Workspace

pytest.importorskip("a2a", reason="a2a-sdk (a dev dependency) runs the test agent")

BIN = Path(sys.executable).parent
PROCTOR = [sys.executable, "-c", "from proctor.cli.main import main; main()"]
AGENT = Path(__file__).resolve().parent / "a2a_agent.py"
#: the test agent's default card: `echo` declares `read`, `shout` declares nothing; here `shout`
#: declares `write`
EFFECT_WRITE_SHOUT = [
    {
        "id": "echo",
        "name": "Echo",
        "description": "Says back what it is told",
        "tags": ["proctor:effect=read"],
    },
    {"id": "shout", "name": "Shout", "description": "Now a write", "tags": ["proctor:effect=write"]},
]


def _keypair(d: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = d / f"{name}.key.pem", d / f"{name}.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def _wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            assert time.monotonic() < deadline, "the process did not start listening"
            time.sleep(0.1)


@contextmanager
def agent(port: int, key: Path, mode: str, skills: list[dict[str, Any]] | None = None) -> Iterator[str]:
    """The test A2A agent on ``port`` serving its card signed with ``key`` in ``mode``."""
    args = [sys.executable, str(AGENT), str(port), str(key), mode]
    if skills is not None:
        args.append(json.dumps(skills))
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_port(port, proc)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PROCTOR_WORKSPACE=str(ws), COLUMNS="200")
    return subprocess.run(
        [*PROCTOR, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def ok(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    r = run(ws, *args)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def records(ws: Path, kind: str) -> list[dict[str, Any]]:
    with Proctor.open(Workspace.find(ws)) as p:
        p.audit.flush()
        return [json.loads(bytes(x.body)) for x in p.store.search_audit(AuditQuery(kind=kind, limit=1000))]


def upstreams(ws: Path) -> dict[str, Any]:
    path = ws / "upstreams.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {u["namespace"]: u for u in data.get("upstreams") or []}


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    w = tmp_path / "ws"
    ok(w, "init", str(w), "--trust-domain", "acme.test")
    return w


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    agent_key, agent_pub = _keypair(tmp_path, "agent")
    _, other_pub = _keypair(tmp_path, "other")
    return {"agent": agent_key, "pub": agent_pub, "other_pub": other_pub}


def _text(result: types.CallToolResult) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


@contextmanager
def gateway(ws: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "proctor"), "gateway", "--http", "--port", str(port), "--workspace", str(ws)],
        env={**os.environ, "PATH": f"{BIN}:/usr/bin:/bin"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_port(port, proc)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _session(ws: Path, url: str) -> tuple[str, str]:
    """An SVID for `bot` at the gateway's URL and a task token allowing the agent's skills."""
    with Proctor.open(Workspace.find(ws)) as p:
        if not any(a.name == "bot" for a in p.agents.list()):
            p.agents.add("bot", "owner@acme.test")
        svid = p.agents.issue_svid(p.agents.get("bot"), url)
        started = p.tasks.start(
            agent="bot",
            purpose="Ask the helper agent for ideas",
            allow=["helper.*"],
            requested_by="alice@acme.test",
            ttl_s=3600,
        )
    return svid, started.token


def _calls(url: str, svid: str, token: str, calls: list[tuple[str, Any]]) -> list[types.CallToolResult]:
    """Make ``calls`` in order on one MCP session; an argument that is a callable gets the texts of
    the answers so far."""
    out: list[types.CallToolResult] = []

    async def main() -> None:
        h = {"Authorization": f"Bearer {svid}", "Proctor-Task": token}
        transport = streamable_http_client(url, http_client=httpx2.AsyncClient(headers=h, timeout=60))
        async with Client(transport, cache=None, mode="legacy") as c:
            for name, args in calls:
                sent = args([_text(r) for r in out]) if callable(args) else args
                out.append(await c.call_tool(name, sent))

    anyio.run(main)
    return out


def _refused(url: str, svid: str, token: str, name: str, args: dict[str, Any]) -> str:
    """The error the gateway answers a call with when it cannot open the agent."""
    try:
        _calls(url, svid, token, [(name, args)])
    except (MCPError, BaseExceptionGroup) as exc:
        leaf: BaseException = exc
    else:
        pytest.fail("the gateway answered a call to an agent whose card it refused")
    while isinstance(leaf, BaseExceptionGroup):
        leaf = leaf.exceptions[0]
    assert isinstance(leaf, MCPError), repr(leaf)
    return str(leaf)


def test_a_signed_card_is_pinned_and_its_skills_are_decided_audited_and_labelled(
    ws: Path, keys: dict[str, Path]
) -> None:
    port = free_port()
    idea = "Reconcile ledger batch 7731 against the vendor export before noon"
    with agent(port, keys["agent"], "signed") as url:
        # the card declares `echo` a read: not honoured on the card's word
        first = ok(ws, "upstream", "add", "helper", "--a2a", url, "--card-key", str(keys["pub"]))
        assert "skill echo: effect execute" in first.stdout
        assert "--tool-effect SKILL=read" in first.stdout
        ok(ws, "upstream", "remove", "helper")
        # the operator, having checked it, makes it one
        added = ok(
            ws,
            "upstream",
            "add",
            "helper",
            "--a2a",
            url,
            "--card-key",
            str(keys["pub"]),
            "--tool-effect",
            "echo=read",
        )
        assert "skill echo: effect read" in added.stdout
        assert "skill shout: effect execute" in added.stdout  # undeclared: execute, never read
        cfg = upstreams(ws)["helper"]
        assert cfg["transport"] == "a2a"
        assert cfg["url"] == f"{url.rstrip('/')}/.well-known/agent-card.json"
        assert cfg["a2a"]["card_digest"].startswith("sha256:")
        assert cfg["tools"]["echo"] == {"effect": "read", "labels": {"trust": "untrusted"}}
        assert cfg["tools"]["shout"]["effect"] == "execute"
        pinned = records(ws, "upstream.a2a_card_pinned")[-1]
        assert pinned["namespace"] == "helper"
        assert pinned["effects"] == {"echo": "read", "shout": "execute"}
        assert pinned["unsigned"] is False
        assert pinned["endpoint"] == url
        listed = json.loads(ok(ws, "upstream", "tools", "helper", "--json").stdout)
        assert {r["proctor_name"]: r["effect"] for r in listed} == {
            "helper.echo": "read",
            "helper.shout": "execute",
        }

        with gateway(ws) as gw:
            svid, token = _session(ws, gw)
            echo, shout_clean, echo2, shout_from_answer = _calls(
                gw,
                svid,
                token,
                [
                    ("helper__echo", {"message": "hello there"}),
                    ("helper__shout", {"message": "status"}),
                    ("helper__echo", {"message": idea}),
                    # the argument is the agent's answer, word for word: another agent's output
                    ("helper__shout", lambda texts: {"message": texts[2]}),
                ],
            )
    assert not echo.is_error, _text(echo)
    assert _text(echo) == "echo: hello there"
    assert not shout_clean.is_error, _text(shout_clean)
    assert _text(echo2) == f"echo: {idea}"
    # held for a person by the starter flow policy: what runs was chosen by another agent's words
    assert shout_from_answer.is_error
    assert "approval" in _text(shout_from_answer), _text(shout_from_answer)

    decisions = [d for d in records(ws, "decision") if str(d.get("tool", "")).startswith("helper.")]
    by_tool = [(d["tool"], d["decision"]) for d in decisions]
    assert by_tool == [
        ("helper.echo", "allow"),
        ("helper.shout", "allow"),
        ("helper.echo", "allow"),
        ("helper.shout", "approval_required"),
    ]
    # each decided as the effect its card declares: `echo` a read, the undeclared `shout` an execute
    assert "baseline.read" in decisions[0]["outcome"]["policies"]
    assert "baseline.write-nonprod" in decisions[1]["outcome"]["policies"]
    held = decisions[-1]
    assert held["flow"]["read_untrusted"] is True
    # every answer of the agent is another agent's output: untrusted, whichever skill gave it
    assert set(held["flow"]["untrusted_sources"]) == {"helper.echo", "helper.shout"}
    assert "flow.hold-untrusted-control" in json.dumps(held)
    origin = {a["arg"]: a for a in held["provenance"]["args"]}["message"]
    assert origin["origin"] == "untrusted"
    assert origin["sources"] == ["helper.echo"]
    done = [c for c in records(ws, "call.completed") if c["tool"] == "helper.echo"]
    assert len(done) == 2
    assert all(c["labels"]["trust"] == "untrusted" for c in done)


def test_a_card_changed_after_signing_is_refused_at_registration_and_at_refresh(
    ws: Path, keys: dict[str, Path]
) -> None:
    port = free_port()
    with agent(port, keys["agent"], "tampered") as url:
        r = run(ws, "upstream", "add", "helper", "--a2a", url, "--card-key", str(keys["pub"]))
    assert r.returncode != 0
    assert "no signature on the agent card verifies" in r.stderr, r.stderr
    assert "helper" not in upstreams(ws)
    (refused,) = records(ws, "upstream.a2a_card_refused")
    assert refused["namespace"] == "helper"
    assert "no signature" in refused["reason"]

    # pinned while valid; then the same agent serves a tampered card
    with agent(port, keys["agent"], "signed") as url:
        ok(ws, "upstream", "add", "helper", "--a2a", url, "--card-key", str(keys["pub"]))
        ok(ws, "upstream", "refresh", "helper")
    with agent(port, keys["agent"], "tampered"):
        r = run(ws, "upstream", "refresh", "helper")
        assert r.returncode != 0
        assert "no signature on the agent card verifies" in r.stderr, r.stderr
        # re-pinning does not take a card whose signature fails
        assert run(ws, "upstream", "refresh", "helper", "--repin").returncode != 0
        # the gateway verifies the card when it opens the agent: the call never reaches it
        with gateway(ws) as gw:
            svid, token = _session(ws, gw)
            why = _refused(gw, svid, token, "helper__echo", {"message": "hello"})
        assert "no signature on the agent card verifies" in why
        # recorded as a deny that names why
        (denied,) = [d for d in records(ws, "decision") if d.get("tool") == "helper.echo"]
        assert denied["decision"] == "deny"
        assert "no signature on the agent card verifies" in json.dumps(denied)
    assert len(records(ws, "upstream.a2a_card_refused")) == 3


def test_an_unsigned_card_is_refused_unless_the_operator_allows_it_loudly(
    ws: Path, keys: dict[str, Path]
) -> None:
    port = free_port()
    with agent(port, keys["agent"], "unsigned") as url:
        r = run(ws, "upstream", "add", "helper", "--a2a", url, "--card-key", str(keys["pub"]))
        assert r.returncode != 0
        assert "the agent card is not signed" in r.stderr, r.stderr
        r = run(ws, "upstream", "add", "helper", "--a2a", url)
        assert r.returncode != 0
        assert "--card-key" in r.stderr
        assert "helper" not in upstreams(ws)
        added = ok(ws, "upstream", "add", "helper", "--a2a", url, "--allow-unsigned-card")
    assert "WARNING" in added.stderr
    assert "--allow-unsigned-card" in added.stderr
    assert upstreams(ws)["helper"]["a2a"]["allow_unsigned"] is True
    (pinned,) = records(ws, "upstream.a2a_card_pinned")
    assert pinned["unsigned"] is True


def test_a_card_signed_by_a_key_nobody_pinned_is_refused(ws: Path, keys: dict[str, Path]) -> None:
    port = free_port()
    with agent(port, keys["agent"], "signed") as url:
        r = run(ws, "upstream", "add", "helper", "--a2a", url, "--card-key", str(keys["other_pub"]))
    assert r.returncode != 0
    assert "no signature on the agent card verifies" in r.stderr, r.stderr
    assert "helper" not in upstreams(ws)
    assert len(records(ws, "upstream.a2a_card_refused")) == 1


def test_a_card_that_changes_its_skills_effects_is_refused_until_re_pinned(
    ws: Path, keys: dict[str, Path]
) -> None:
    port = free_port()
    with agent(port, keys["agent"], "signed") as url:
        ok(ws, "upstream", "add", "helper", "--a2a", url, "--card-key", str(keys["pub"]))
    assert upstreams(ws)["helper"]["tools"]["shout"]["effect"] == "execute"
    # validly signed by the same key, but `shout` now declares another effect
    with agent(port, keys["agent"], "signed", EFFECT_WRITE_SHOUT):
        r = run(ws, "upstream", "refresh", "helper")
        assert r.returncode != 0
        assert "changed since it was pinned" in r.stderr, r.stderr
        assert upstreams(ws)["helper"]["tools"]["shout"]["effect"] == "execute"
        with gateway(ws) as gw:
            svid, token = _session(ws, gw)
            why = _refused(gw, svid, token, "helper__shout", {"message": "hello"})
        assert "changed since it was pinned" in why
        (denied,) = [d for d in records(ws, "decision") if d.get("tool") == "helper.shout"]
        assert denied["decision"] == "deny"
        # an operator looks at the new card and accepts it
        repinned = ok(ws, "upstream", "refresh", "helper", "--repin")
        # the effect the card now declares is shown to the operator, not only pinned
        assert "skill shout: effect write (was execute)" in repinned.stdout, repinned.stdout
        assert upstreams(ws)["helper"]["tools"]["shout"]["effect"] == "write"
        ok(ws, "upstream", "refresh", "helper")
    pins = records(ws, "upstream.a2a_card_pinned")
    assert [p["effects"]["shout"] for p in pins] == ["execute", "write"]
    assert pins[0]["card_digest"] != pins[1]["card_digest"]
