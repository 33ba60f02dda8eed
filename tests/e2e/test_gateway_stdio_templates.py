"""Stdio clients that survive restarts (docs/adr/0029): `proctor mcp-config --template` prints a
config with no secret; the official MCP client launches it, unchanged, again and again against a
real gateway daemon; the daemon attests the client's process, starts a fresh task from the
template for each session and ends it when the client exits. Refusals and hostile hellos too.
Real subprocesses throughout: `proctor gateway --unix`, `proctor gateway --stdio`, `mcp-config`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError
from tests.e2e.thin_harness import PROCTOR, SRC, Daemon

from proctor.app import Proctor
from proctor.clock import FrozenClock
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.store.base import AuditQuery
from proctor.types import AgentStatus, TaskState
from proctor.workspace import Workspace

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CONFIG = "trust_domain: acme.test\n"
UID = f"unix:uid:{os.getuid()}"


def _workspace(root: Path, *, ttl_s: float = 600) -> Workspace:
    """A workspace with the echo fixture as upstream `bad`, agent `bot` attested by this user's
    uid, agent `helper` (another uid), and templates `echo` (bot) and `helper-only` (helper)."""
    ws, _ = Workspace.init(root / "ws", config_text=CONFIG)
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {
                    "namespace": "bad",
                    "command": sys.executable,
                    "args": [str(FIXTURES / "misbehaving_server.py")],
                    "default": {"effect": "read"},
                }
            )
        ],
    )
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test", [UID])
        p.agents.add("helper", "owner@acme.test", ["unix:uid:4242"])
        common = {"allow": ["bad.echo"], "requested_by": "lead@acme.test", "ttl_s": ttl_s}
        p.templates.add("echo", agents=["bot"], purpose="echo things", **common)  # type: ignore[arg-type]
        p.templates.add("helper-only", agents=["helper"], purpose="not for bot", **common)  # type: ignore[arg-type]
    return ws


def _wrapper(root: Path) -> Path:
    """A `proctor` on PATH that runs this checkout (as an installed console script runs its own)."""
    bindir = root / "bin"
    bindir.mkdir()
    exe = bindir / "proctor"
    exe.write_text(
        f'#!/bin/sh\nPYTHONPATH={SRC} exec {sys.executable} -c "from proctor.cli.main import main; main()" "$@"\n'
    )
    exe.chmod(0o755)
    return bindir


def _mcp_config(ws: Path, bindir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "PYTHONPATH": SRC, "COLUMNS": "300", "HOME": str(ws)}
    return subprocess.run(
        [*PROCTOR, "mcp-config", "--workspace", str(ws), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _params(entry: dict[str, Any]) -> StdioServerParameters:
    """What an MCP client does with its config entry: command, args and env, as written."""
    return StdioServerParameters(command=entry["command"], args=entry["args"], env=entry.get("env"))


async def _launch(entry: dict[str, Any], text: str) -> str:
    async with stdio_client(_params(entry)) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        r = await s.call_tool("bad__echo", {"text": text})
        assert not r.is_error, r.content
        return str(r.content[0].text)  # type: ignore[union-attr]  # text content


async def _refused(entry: dict[str, Any]) -> str:
    """The error the MCP client gets for its `initialize` (the SDK raises it inside task groups)."""
    with pytest.raises((MCPError, BaseExceptionGroup)) as caught:  # the SDK may group it
        async with stdio_client(_params(entry)) as (read, write), ClientSession(read, write) as s:
            await s.initialize()
    found = _mcp_error(caught.value)
    assert found is not None, caught.value
    return str(found)


def _mcp_error(exc: BaseException) -> MCPError | None:
    if isinstance(exc, MCPError):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for sub in exc.exceptions:
            if (found := _mcp_error(sub)) is not None:
                return found
    return None


def _template_tasks(ws: Path) -> list[Any]:
    with Proctor.open(Workspace(ws)) as p:
        return [t for t in p.store.list_tasks(None, None) if t.purpose in ("echo things", "not for bot")]


def _wait_ended(ws: Path, count: int) -> list[Any]:
    """The template tasks once ``count`` of them have ended (the daemon ends a task just after
    its client exits): a wait for a state, not a timed assertion."""
    deadline = time.monotonic() + 60
    while True:
        tasks = _template_tasks(ws)
        if sum(t.state is not TaskState.ACTIVE for t in tasks) >= count or time.monotonic() > deadline:
            return tasks
        time.sleep(0.1)


def _audit(ws: Path, kind: str) -> list[dict[str, Any]]:
    with Proctor.open(Workspace(ws)) as p:
        return [json.loads(r.body) for r in p.store.search_audit(AuditQuery(kind=kind))]


def test_the_printed_config_launched_five_times_gets_five_tasks(tmp_path: Path) -> None:
    """`mcp-config --template echo` prints command and args only (no env, no token); launched
    unchanged five times by the official MCP client, each launch calls a tool in a new task from
    the template (audited with its name) and that task ends, completed, when the client exits."""
    ws = _workspace(tmp_path)
    bindir = _wrapper(tmp_path)
    r = _mcp_config(ws.root, bindir, "--client", "claude-desktop", "--agent", "bot", "--template", "echo")
    assert r.returncode == 0, r.stderr
    entry = json.loads(r.stdout)["mcpServers"]["proctor"]
    assert set(entry) == {"command", "args"}  # nothing secret, nothing that expires
    assert entry["command"] == str(bindir / "proctor")
    assert entry["args"] == [
        "gateway",
        "--stdio",
        "--socket",
        str(ws.root / "run" / "gateway.sock"),
        "--template",
        "echo",
    ]
    assert "ok" in r.stderr
    assert "match this user" in r.stderr
    assert "warning" not in r.stderr

    async def five() -> list[str]:
        out = []
        for i in range(5):
            out.append(await _launch(entry, f"launch {i}"))
            tasks = _wait_ended(ws.root, i + 1)
            assert len(tasks) == i + 1  # a new task per launch, the earlier ones ended
        return out

    with Daemon(ws.root):
        texts = anyio.run(five)
    assert texts == [f"launch {i}" for i in range(5)]
    tasks = _template_tasks(ws.root)
    assert len({t.id for t in tasks}) == 5
    assert all(t.state is TaskState.COMPLETED for t in tasks)
    assert all(t.end_reason == "stdio session ended (template echo)" for t in tasks)
    assert all(str(t.requested_by) == "lead@acme.test" and str(t.agent) == "bot" for t in tasks)
    started = [b for b in _audit(ws.root, "task.started") if b.get("template") == "echo"]
    assert len(started) == 5
    assert {b["via"] for b in started} == {"stdio"}
    ended = [b for b in _audit(ws.root, "task.ended") if b.get("by") == "gateway"]
    assert len(ended) == 5
    with Proctor.open(ws) as p:
        decisions = p.store.search_audit(AuditQuery(kind="decision"))
    assert len({d.task for d in decisions if d.tool == "bad.echo" and d.decision == "allow"}) == 5


def test_refusals_start_no_task(tmp_path: Path) -> None:
    """An agent the template does not list, an unknown template, a process whose selectors match
    no agent, a suspended agent: each launch is refused with a reason the client shows, and no
    task starts."""
    ws = _workspace(tmp_path)
    sock = str(ws.root / "run" / "gateway.sock")
    base = [sys.executable, *PROCTOR[1:], "gateway", "--stdio", "--socket", sock]

    def entry(template: str) -> dict[str, Any]:
        return {"command": base[0], "args": [*base[1:], "--template", template], "env": {"PYTHONPATH": SRC}}

    async def refusals() -> list[str]:
        out = [await _refused(entry("helper-only")), await _refused(entry("nope"))]
        with Proctor.open(ws) as p:
            p.agents.set_selectors("bot", ["unix:uid:4242", "unix:gid:4242"])
        out.append(await _refused(entry("echo")))
        with Proctor.open(ws) as p:
            p.agents.set_selectors("bot", [UID])
            p.agents.set_status("bot", AgentStatus.SUSPENDED)
        out.append(await _refused(entry("echo")))
        return out

    with Daemon(ws.root):
        listed, unknown, stranger, suspended = anyio.run(refusals)
    assert "may not start tasks from template `helper-only`" in listed
    assert "[invalid_input]" in listed
    assert "unknown template `nope`" in unknown
    assert "[unknown_template]" in unknown
    assert "[attestation_failed]" in stranger
    assert "[agent_suspended]" in suspended
    assert _template_tasks(ws.root) == []
    refused = _audit(ws.root, "task.template_refused")
    assert [(r["template"], r["caller"], r["error"]) for r in refused] == [
        ("helper-only", "bot", "invalid_input"),
        ("nope", "bot", "unknown_template"),
    ]


def _raw(path: str, hello: dict[str, Any] | bytes) -> tuple[socket.socket, Any, dict[str, Any]]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(path)
    s.sendall(hello if isinstance(hello, bytes) else json.dumps(hello).encode() + b"\n")
    f = s.makefile("rb")
    return s, f, json.loads(f.readline())


def test_hostile_hellos_and_a_template_removed_mid_session(tmp_path: Path) -> None:
    """Straight on the socket: a hello with both a task token and a template is refused; so are an
    oversized template name (the error quotes at most 80 characters of it) and a name with a
    newline or non-ASCII. A template removed while its session runs: the running task keeps its
    scope (the next call is allowed) and ends with the session; the next launch is refused."""
    ws = _workspace(tmp_path)
    path = str(ws.root / "run" / "gateway.sock")
    with Proctor.open(ws) as p:
        token = p.tasks.start(agent="bot", purpose="t", allow=["bad.echo"], requested_by="r@acme.test").token
    base = {"proctor": "gateway/1"}
    with Daemon(ws.root):
        s, _, both = _raw(path, {**base, "task_token": token, "template": "echo"})
        s.close()
        assert both["error"]["code"] == "invalid_input"
        assert "both a task token and a template" in both["error"]["message"]
        s, _, big = _raw(path, {**base, "template": "a" * 60000})
        s.close()
        assert big["error"]["code"] == "invalid_input"
        assert "invalid template name" in big["error"]["message"]
        assert len(big["error"]["message"]) < 300
        for odd in ("echo\n", "\u00e9cho", "Echo", "../echo", ""):
            s, _, bad = _raw(path, {**base, "template": odd})
            s.close()
            assert bad["error"]["code"] == "invalid_input", odd
        s, _, wrong_type = _raw(path, b'{"proctor":"gateway/1","template":["echo"]}\n')
        s.close()
        assert wrong_type["error"]["code"] == "invalid_input"
        assert _template_tasks(ws.root) == []

        entry = {
            "command": sys.executable,
            "args": [*PROCTOR[1:], "gateway", "--stdio", "--socket", path, "--template", "echo"],
            "env": {"PYTHONPATH": SRC},
        }

        async def removed_mid_session() -> tuple[str, str, str]:
            async with stdio_client(_params(entry)) as (read, write), ClientSession(read, write) as s:
                await s.initialize()
                first = await s.call_tool("bad__echo", {"text": "before"})
                with Proctor.open(ws) as p:
                    p.templates.remove("echo")
                second = await s.call_tool("bad__echo", {"text": "after"})
                assert not second.is_error, second.content
            refused = await _refused(entry)
            return str(first.content[0].text), str(second.content[0].text), refused  # type: ignore[union-attr]

        before, after, refused = anyio.run(removed_mid_session)
        tasks = _wait_ended(ws.root, 1)
    assert (before, after) == ("before", "after")
    assert "[unknown_template]" in refused
    assert [t.state for t in tasks] == [TaskState.COMPLETED]


def test_a_killed_daemon_leaves_the_task_to_its_deadline(tmp_path: Path) -> None:
    """SIGKILL of the daemon mid-session cannot end the session's task; the task's ttl bounds it:
    the sweep at its deadline expires it."""
    ws = _workspace(tmp_path, ttl_s=120)
    path = str(ws.root / "run" / "gateway.sock")
    with Daemon(ws.root) as d:
        s, _, answer = _raw(path, {"proctor": "gateway/1", "template": "echo"})
        assert answer["template"] == "echo"
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(timeout=60)
        s.close()
    [task] = _template_tasks(ws.root)
    assert str(task.id) == answer["task"]
    assert task.state is TaskState.ACTIVE
    with Proctor.open(ws, clock=FrozenClock(task.deadline + 1)) as p:
        p.tasks.sweep()
        assert p.store.get_task(task.id).state is TaskState.EXPIRED  # type: ignore[union-attr]


@pytest.mark.parametrize("client", ["claude-desktop", "vscode"])
def test_mcp_config_warns_of_what_is_missing(tmp_path: Path, client: str) -> None:
    """An agent whose selectors do not match this user, a template that does not list it: each is
    a warning with the exact command that fixes it. Without attestation VS Code prompts for the
    join token (a password input); other clients get a placeholder and are told so."""
    ws = _workspace(tmp_path)
    bindir = _wrapper(tmp_path)
    r = _mcp_config(ws.root, bindir, "--client", client, "--agent", "helper", "--template", "echo")
    assert r.returncode == 0, r.stderr
    assert f"proctor agent selectors helper --selector {UID}" in r.stderr
    assert "does not list agent `helper`" in r.stderr
    r = _mcp_config(
        ws.root, bindir, "--client", client, "--agent", "bot", "--template", "echo", "--no-attestation"
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    if client == "vscode":
        assert data["inputs"] == [
            {
                "type": "promptString",
                "id": "proctor-join-token",
                "description": "Proctor join token of agent bot (proctor agent join-token bot)",
                "password": True,
            }
        ]
        assert data["servers"]["proctor"]["env"] == {"PROCTOR_JOIN_TOKEN": "${input:proctor-join-token}"}
        assert "prompts" in r.stderr
    else:
        assert data["mcpServers"]["proctor"]["env"] == {
            "PROCTOR_JOIN_TOKEN": "<run: proctor agent join-token bot>"
        }
        assert "pasted" in r.stderr
    bad = _mcp_config(ws.root, bindir, "--client", client, "--transport", "http", "--template", "echo")
    assert bad.returncode == 2


def test_a_stopping_daemon_ends_its_sessions_tasks(tmp_path: Path) -> None:
    """SIGTERM of the daemon with a template session open: the session's task is ended (completed,
    by the gateway) before the daemon exits, not left to its deadline."""
    ws = _workspace(tmp_path)
    path = str(ws.root / "run" / "gateway.sock")
    with Daemon(ws.root) as d:
        s, _, answer = _raw(path, {"proctor": "gateway/1", "template": "echo"})
        d.stop()
        s.close()
    [task] = _template_tasks(ws.root)
    assert str(task.id) == answer["task"]
    assert task.state is TaskState.COMPLETED
    assert task.end_reason == "stdio session ended (template echo)"


def test_a_session_refused_as_busy_starts_no_task(tmp_path: Path) -> None:
    """The per-agent session cap is checked before a template's task is started: the 33rd
    attested `--template` session of one agent is refused `busy` and leaves no task (started and
    ended) behind; a slot freed serves a new session (with its own task) again."""
    ws = _workspace(tmp_path)
    path = str(ws.root / "run" / "gateway.sock")
    hello = {"proctor": "gateway/1", "template": "echo"}
    held: list[socket.socket] = []
    with Daemon(ws.root):
        try:
            for _ in range(32):
                s, _f, answer = _raw(path, hello)
                held.append(s)
                assert "error" not in answer, answer
            s, _f, answer = _raw(path, hello)
            held.append(s)
            assert answer["error"]["code"] == "busy"
            assert len(_template_tasks(ws.root)) == 32
            assert len([r for r in _audit(ws.root, "task.started") if r.get("template")]) == 32
            held.pop(0).close()
            _wait_ended(ws.root, 1)
            s, _f, answer = _raw(path, hello)
            held.append(s)
            assert "error" not in answer, answer
        finally:
            for s in held:
                s.close()
    assert len(_template_tasks(ws.root)) == 33
