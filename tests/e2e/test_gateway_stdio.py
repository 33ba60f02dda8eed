"""The MCP gateway over stdio, driven by the official MCP client, in front of the real
`mcp-server-time` and `mcp-server-git` from PyPI: the keyless thin client `proctor gateway --stdio
--socket PATH` relays each session to a real `proctor gateway --unix` daemon (ADR 0015)."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError
from tests.e2e.thin_harness import PROCTOR, Daemon, child_env, thin_client

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.store.base import AuditQuery
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent
CONFIG = "trust_domain: acme.test\naudit: {checkpoint_every: 50}\n"


@dataclass
class GatewayEnv:
    ws: Workspace
    repo: Path
    join_token: str
    task_token: str
    task_id: str
    daemon: Daemon


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[GatewayEnv]:
    """A workspace with two real upstreams, an agent and a task that may read time and git status/log."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    (repo / "a.txt").write_text("hello\n")
    _git(repo, "add", "a.txt")
    _git(repo, "commit", "-qm", "first")
    (repo / "new.txt").write_text("untracked\n")
    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {
                    "namespace": "time",
                    "command": str(BIN / "mcp-server-time"),
                    "args": ["--local-timezone", "UTC"],
                    "default": {"effect": "read"},
                }
            ),
            upstream_from_mapping(
                {
                    "namespace": "git",
                    "command": str(BIN / "mcp-server-git"),
                    "args": ["--repository", str(repo)],
                    "default": {"effect": "write"},
                    "tools": {"git_status": {"effect": "read"}, "git_log": {"effect": "read"}},
                }
            ),
        ],
    )
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test")
        join = p.agents.join_token("bot")
        started = p.tasks.start(
            agent="bot",
            purpose="look at the time and the repository",
            allow=["time.*", "git.git_status", "git.git_log"],
            requested_by="req@acme.test",
        )
    with Daemon(ws.root) as daemon:
        yield GatewayEnv(ws, repo, join, started.token, started.task.id, daemon)


def _params(gw: GatewayEnv, **env: str) -> StdioServerParameters:
    params = _stdio(gw.ws, gw.join_token, gw.task_token)
    assert params.env is not None
    params.env.update(env)
    return params


def _audit(gw: GatewayEnv) -> list[dict[str, object]]:
    gw.daemon.stop()  # the daemon flushes its audit log as it stops
    with Proctor.open(gw.ws) as p:
        return [json.loads(r.body) for r in p.store.search_audit(AuditQuery(limit=1000))]


def test_tools_list_shows_only_the_tasks_tools(gw: GatewayEnv) -> None:
    """tools/list is filtered to what the task declared, across both upstreams, with namespaces."""

    async def main() -> list[str]:
        async with Client(_params(gw), mode="legacy", cache=None) as c:
            return sorted(t.name for t in (await c.list_tools()).tools)

    names = anyio.run(main)
    assert names == ["git__git_log", "git__git_status", "time__convert_time", "time__get_current_time"]


def test_allowed_call_returns_the_upstreams_real_result(gw: GatewayEnv) -> None:
    """An allowed call reaches the real server and its real answer comes back; both are audited."""

    async def main() -> tuple[str, str]:
        async with Client(_params(gw), mode="legacy", cache=None) as c:
            t = await c.call_tool("time__get_current_time", {"timezone": "UTC"})
            g = await c.call_tool("git__git_status", {"repo_path": str(gw.repo)})
            assert not t.is_error, t
            assert not g.is_error, g
            return t.content[0].text, g.content[0].text  # type: ignore[union-attr]  # text content from these servers

    time_text, git_text = anyio.run(main)
    assert '"timezone": "UTC"' in time_text
    assert "new.txt" in git_text
    records = _audit(gw)
    decisions = [r for r in records if r["kind"] == "decision"]
    assert [d["decision"] for d in decisions] == ["allow", "allow"]
    completed = [r for r in records if r["kind"] == "call.completed"]
    assert {c["tool"] for c in completed} == {"time.get_current_time", "git.git_status"}
    assert all(c["status"] == "ok" for c in completed)


def test_denied_call_never_reaches_the_upstream(gw: GatewayEnv) -> None:
    """git_add is outside the task: the model gets a readable denial and the file stays unstaged."""

    async def main() -> tuple[bool, str]:
        async with Client(_params(gw), mode="legacy", cache=None) as c:
            r = await c.call_tool("git__git_add", {"repo_path": str(gw.repo), "files": ["new.txt"]})
            return bool(r.is_error), r.content[0].text  # type: ignore[union-attr]  # text content

    is_error, text = anyio.run(main)
    assert is_error
    assert "Proctor denied this call" in text
    assert "outside the task's declared tools" in text
    assert _git(gw.repo, "status", "--porcelain").strip() == "?? new.txt"  # not staged: never ran
    decisions = [r for r in _audit(gw) if r["kind"] == "decision"]
    assert decisions[-1]["decision"] == "deny"
    assert decisions[-1]["tool"] == "git.git_add"


def test_unknown_tool_is_invalid_params(gw: GatewayEnv) -> None:
    """A tool no upstream offers is JSON-RPC error -32602, and no exception text leaks."""

    async def main() -> MCPError:
        async with Client(_params(gw), mode="legacy", cache=None) as c:
            with pytest.raises(MCPError) as info:
                await c.call_tool("time__no_such_tool", {})
            with pytest.raises(MCPError) as info2:
                await c.call_tool("nowhere__tool", {})
            assert info2.value.error.code == -32602
            return info.value

    err = anyio.run(main)
    assert err.error.code == -32602
    assert "Traceback" not in err.error.message


def test_ended_task_denies_and_closes_upstreams(gw: GatewayEnv) -> None:
    """Ending the task mid-session denies the next call at once."""

    async def main() -> str:
        async with Client(_params(gw), mode="legacy", cache=None) as c:
            ok = await c.call_tool("time__get_current_time", {"timezone": "UTC"})
            assert not ok.is_error
            with Proctor.open(gw.ws) as p:
                p.tasks.end(gw.task_id)
            r = await c.call_tool("time__get_current_time", {"timezone": "UTC"})
            assert r.is_error
            return r.content[0].text  # type: ignore[union-attr]  # text content

    assert "completed" in anyio.run(main)


def test_bad_identity_refuses_to_start(gw: GatewayEnv) -> None:
    """A reused or forged join token, or a missing task token, stops the gateway before it serves:
    the daemon refuses the thin client, which says why and exits 2."""
    run = [*PROCTOR, "gateway", "--stdio", "--workspace", str(gw.ws.root)]
    with Proctor.open(gw.ws) as p:
        p.agents.svid_from_join_token(gw.join_token)  # used up
    r = subprocess.run(
        run,
        env=child_env(PROCTOR_JOIN_TOKEN=gw.join_token, PROCTOR_TASK_TOKEN=gw.task_token),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 2
    assert "join_token_invalid" in r.stderr
    with Proctor.open(gw.ws) as p:
        fresh = p.agents.join_token("bot")
    r = subprocess.run(
        run,
        env=child_env(PROCTOR_JOIN_TOKEN=fresh),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 2
    assert "PROCTOR_TASK_TOKEN" in r.stderr


FILESYSTEM_SERVER = (
    Path(__file__).resolve().parents[2] / "tests" / "node" / "node_modules" / ".bin" / "mcp-server-filesystem"
)


def test_filesystem_server_reads_but_cannot_write(tmp_path: Path) -> None:
    """In front of the real npm `@modelcontextprotocol/server-filesystem`: a read inside the task's
    declared resources returns the file; a write is denied and the file is never written."""
    assert FILESYSTEM_SERVER.exists(), "run `make node` (scripts/ensure-node.sh) to install the npm servers"
    data = tmp_path / "data"
    data.mkdir()
    (data / "notes.txt").write_text("quarterly numbers\n")
    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {
                    "namespace": "fs",
                    "command": str(FILESYSTEM_SERVER),
                    "args": [str(data)],
                    "default": {"effect": "write", "resource_arg": "path"},
                    "tools": {
                        "read_text_file": {"effect": "read", "resource_arg": "path"},
                        "list_directory": {"effect": "read", "resource_arg": "path"},
                    },
                }
            )
        ],
    )
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test")
        join = p.agents.join_token("bot")
        started = p.tasks.start(
            agent="bot",
            purpose="read the notes",
            allow=["fs.read_text_file", "fs.list_directory"],
            resources=[f"{data}/*"],
            requested_by="req@acme.test",
        )
    # node must be on the daemon's PATH (it spawns the upstream) for the npm server's shebang
    node_dir = str(Path(__import__("shutil").which("node") or "/usr/bin/node").parent)
    daemon = Daemon(ws.root, path=f"{BIN}:{node_dir}:/usr/bin:/bin")
    env = GatewayEnv(ws, tmp_path, join, started.token, started.task.id, daemon)

    async def main() -> tuple[Any, Any, Any]:
        async with Client(_params(env), mode="legacy", cache=None) as c:
            read = await c.call_tool("fs__read_text_file", {"path": str(data / "notes.txt")})
            write = await c.call_tool("fs__write_file", {"path": str(data / "evil.txt"), "content": "pwned"})
            outside = await c.call_tool("fs__read_text_file", {"path": "/etc/hostname"})
            return read, write, outside

    with daemon:
        read, write, outside = anyio.run(main)
    assert not read.is_error, read.content
    assert "quarterly numbers" in read.content[0].text
    assert write.is_error
    assert "Proctor denied this call" in write.content[0].text
    assert not (data / "evil.txt").exists()  # the upstream never saw the write
    assert outside.is_error
    assert "outside the task's declared resources" in outside.content[0].text
    with Proctor.open(ws) as p:
        kinds = [(r.kind, r.tool, r.decision) for r in p.store.search_audit(AuditQuery(limit=100)) if r.tool]
    assert ("decision", "fs.write_file", "deny") in kinds
    assert ("call.completed", "fs.read_text_file", None) in kinds


def test_identity_by_attesting_the_thin_client_process(tmp_path: Path) -> None:
    """With no token in its environment, the thin client is identified by the daemon attesting the
    thin client's own process over the socket (SO_PEERCRED: uid, and the SHA-256 of its
    executable) against the agents' registered selectors."""
    import hashlib

    exe = os.path.realpath(sys.executable)
    digest = hashlib.sha256(Path(exe).read_bytes()).hexdigest()
    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {"namespace": "time", "command": str(BIN / "mcp-server-time"), "default": {"effect": "read"}}
            )
        ],
    )
    with Proctor.open(ws) as p:
        p.agents.add("local-bot", "owner@acme.test", [f"unix:uid:{os.getuid()}", f"unix:sha256:{digest}"])
        task = p.tasks.start(agent="local-bot", purpose="t", allow=["time.*"], requested_by="r@acme.test")

    async def main(sp: StdioServerParameters) -> bool:
        async with Client(sp, mode="legacy", cache=None) as c:
            r = await c.call_tool("time__get_current_time", {"timezone": "UTC"})
            return bool(r.is_error)

    with Daemon(ws.root) as daemon:
        env = GatewayEnv(ws, tmp_path, "", task.token, task.task.id, daemon)
        sp = _params(env)
        assert sp.env is not None
        del sp.env["PROCTOR_JOIN_TOKEN"]
        assert anyio.run(main, sp) is False
    with Proctor.open(ws) as p:
        rows = p.store.search_audit(AuditQuery(kind="identity.attested"))
    assert rows
    assert rows[0].agent == "local-bot"


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _two_upstreams(tmp_path: Path) -> tuple[Workspace, dict[str, str]]:
    """`time` and the `fx` everything-fixture (resources and prompts); tokens for a task that
    declares `time.*` only (`narrow`) and one that declares both (`wide`)."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {"namespace": "time", "command": str(BIN / "mcp-server-time"), "default": {"effect": "read"}}
            ),
            upstream_from_mapping(
                {
                    "namespace": "fx",
                    "command": sys.executable,
                    "args": [str(FIXTURES / "everything_server.py"), "--stdio"],
                    "default": {"effect": "read"},
                }
            ),
        ],
    )
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test")
        tokens = {"join": p.agents.join_token("bot"), "join2": p.agents.join_token("bot")}
        for name, allow in (("narrow", ["time.*"]), ("wide", ["time.*", "fx.*"])):
            tokens[name] = p.tasks.start(
                agent="bot", purpose=name, allow=allow, requested_by="r@acme.test"
            ).token
    return ws, tokens


def _stdio(ws: Workspace, join: str, task_token: str) -> StdioServerParameters:
    return thin_client(
        ws.root / "run" / "gateway.sock", PROCTOR_JOIN_TOKEN=join, PROCTOR_TASK_TOKEN=task_token
    )


def test_resources_and_prompts_reach_only_the_upstreams_the_task_declared(tmp_path: Path) -> None:
    """A task narrows what the agent reaches: an upstream its declared intent does not name is not
    listed, read, prompted or completed on its behalf (these used to pass through to every upstream)."""
    ws, tokens = _two_upstreams(tmp_path)

    async def probe(join: str, task_token: str) -> tuple[list[str], list[str], str, str]:
        async with Client(_stdio(ws, join, task_token), mode="legacy", cache=None) as c:
            uris = sorted(str(r.uri) for r in (await c.list_resources()).resources)
            prompts = sorted(p.name for p in (await c.list_prompts()).prompts)
            try:
                read = (await c.read_resource("test://static-text")).contents[0].text  # type: ignore[union-attr]
            except MCPError as exc:
                read = f"error {exc.error.code}"
            try:
                got = str((await c.get_prompt("fx.test_simple_prompt")).messages[0].content.text)  # type: ignore[union-attr]
            except MCPError as exc:
                got = f"error {exc.error.code}"
            return uris, prompts, read, got

    with Daemon(ws.root):
        narrow = anyio.run(probe, tokens["join"], tokens["narrow"])
        uris, prompts, read, got = anyio.run(probe, tokens["join2"], tokens["wide"])
    assert narrow == ([], [], "error -32602", "error -32602")
    assert "test://static-text" in uris
    assert "fx.test_simple_prompt" in prompts
    assert not read.startswith("error")
    assert not got.startswith("error")


def test_a_lone_surrogate_gets_an_answer_and_an_audit_record(tmp_path: Path) -> None:
    """The MCP SDK drops a message holding a lone surrogate (`\\ud800`) without answering, so the
    client waited for ever. The gateway answers it with an error for its id and audits it."""
    ws, tokens = _two_upstreams(tmp_path)
    params = _stdio(ws, tokens["join"], tokens["narrow"])
    daemon = Daemon(ws.root)
    proc = subprocess.Popen(
        [params.command, *params.args],
        env=params.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    try:
        proc.stdin.write((json.dumps(init) + "\n").encode())
        proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        proc.stdin.write(
            b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":'
            b'{"name":"time__get_current_time","arguments":{"timezone":"\\ud800"}}}\n'
        )
        proc.stdin.flush()
        answers: dict[int, dict[str, Any]] = {}
        # the old behaviour: no answer at all; a loaded CI machine needs more than 30 s to start
        deadline = time.monotonic() + 90
        while 2 not in answers and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            line = proc.stdout.readline()
            if not line:
                break
            msg = json.loads(line)
            if "id" in msg:
                answers[msg["id"]] = msg
    finally:
        proc.kill()
        proc.wait()
        daemon.stop()
    assert answers[2]["error"]["code"] == -32601  # a method no server has, for the same id
    assert "lone surrogate" in answers[2]["error"]["data"]
    with Proctor.open(ws) as p:
        refused = [json.loads(r.body) for r in p.store.search_audit(AuditQuery(kind="gateway.refused"))]
    assert [(r["reason"], r["method"]) for r in refused] == [("lone surrogate", "tools/call")]
