"""The keyless stdio gateway (ADR 0015): the thin client holds no keys and opens nothing under the
workspace, fails closed when the daemon is away, and its session's end stops the task's upstream
processes. Real subprocesses throughout: `proctor gateway --unix` and `proctor gateway --stdio`
driven by the official MCP client."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError
from tests.e2e.thin_harness import PROCTOR, SRC, Daemon, child_env, thin_client

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.store.base import AuditQuery
from proctor.workspace import Workspace

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CONFIG = "trust_domain: acme.test\n"
AGENT_USER = "proctor-thin-test"


def _workspace(root: Path, selectors: list[str] | None = None) -> tuple[Workspace, dict[str, str], Path]:
    """A workspace with the misbehaving fixture as upstream `bad` (it logs its pid at start), an
    agent `bot` and a task allowed `bad.echo`: the workspace, tokens and the upstream's start log."""
    ws, _ = Workspace.init(root / "ws", config_text=CONFIG)
    starts = root / "starts.log"
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {
                    "namespace": "bad",
                    "command": sys.executable,
                    "args": [str(FIXTURES / "misbehaving_server.py")],
                    "env": {"MISBEHAVE_LOG": str(starts)},
                    "default": {"effect": "read"},
                }
            )
        ],
    )
    with Proctor.open(ws) as p:
        agent = p.agents.add("bot", "owner@acme.test", selectors or [])
        tokens = {
            "svid": p.agents.issue_svid(agent),
            "task": p.tasks.start(
                agent="bot", purpose="t", allow=["bad.echo"], requested_by="r@acme.test"
            ).token,
        }
    return ws, tokens, starts


async def _echo(params: StdioServerParameters, text: str) -> tuple[list[str], str]:
    async with Client(params, mode="legacy", cache=None) as c:
        names = sorted(t.name for t in (await c.list_tools()).tools)
        r = await c.call_tool("bad__echo", {"text": text})
        assert not r.is_error, r.content
        return names, str(r.content[0].text)  # type: ignore[union-attr]  # text content


def _pids(starts: Path) -> list[int]:
    return [int(line.split()[1]) for line in starts.read_text().splitlines()]


def _uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _runs_as(pid: int, user: pwd.struct_passwd) -> bool:
    try:
        return _uid_of(pid) == user.pw_uid
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


#: runs the CLI under an audit hook that records every open, listing or chdir of a path under the
#: workspace (argv: workspace, log, then the CLI's arguments)
WATCHED = """
import os, sys
ws, log = os.path.abspath(sys.argv.pop(1)), sys.argv.pop(1)
EVENTS = {"open", "os.listdir", "os.scandir", "os.chdir", "os.mkdir", "os.rename", "os.remove",
          "os.chmod", "os.chown", "sqlite3.connect", "os.truncate", "os.utime"}
def hook(event, args):
    if event in EVENTS and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.abspath(os.fsdecode(args[0]))
        if path == ws or path.startswith(ws + os.sep):
            with open(log, "a") as f:
                f.write(f"{event} {path}\\n")
sys.addaudithook(hook)
from proctor.cli.main import main
main()
"""


def _watched(ws: Path, log: Path, *args: str, **env: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-c", WATCHED, str(ws), str(log), *args], env=child_env(**env)
    )


def test_the_thin_client_opens_nothing_under_the_workspace(tmp_path: Path) -> None:
    """`proctor gateway --stdio --workspace WS` finds the daemon's socket from the path alone and
    relays tools/list and tools/call: it opens, lists or creates nothing under the workspace (an
    audit hook in the thin client's process watches). The same hook catches the in-process mode,
    which opens the workspace's keys and store."""
    ws, tokens, _ = _workspace(tmp_path)
    creds = {"PROCTOR_SVID": tokens["svid"], "PROCTOR_TASK_TOKEN": tokens["task"]}
    thin_log, in_process_log = tmp_path / "thin.log", tmp_path / "in-process.log"
    with Daemon(ws.root):
        names, text = anyio.run(
            _echo,
            _watched(ws.root, thin_log, "gateway", "--stdio", "--workspace", str(ws.root), **creds),
            "hi",
        )
    assert (names, text) == (["bad__echo"], "hi")
    assert not thin_log.exists(), thin_log.read_text()
    # the watch can see: the in-process gateway reads the workspace
    names, text = anyio.run(
        _echo,
        _watched(
            ws.root,
            in_process_log,
            "gateway",
            "--stdio",
            "--in-process",
            "--workspace",
            str(ws.root),
            **creds,
        ),
        "hi",
    )
    assert text == "hi"
    assert "keys" in in_process_log.read_text()


def test_an_unreachable_daemon_fails_closed(tmp_path: Path) -> None:
    """No daemon on the socket: the MCP client's initialize is answered with an error naming the
    socket, the reason is on stderr, and the thin client exits 1. No socket at all: exit 2."""
    missing = tmp_path / "run" / "gateway.sock"

    async def connect() -> None:
        async with Client(thin_client(missing, PROCTOR_TASK_TOKEN="t"), mode="legacy", cache=None):
            raise AssertionError("the session opened")

    with pytest.raises(BaseExceptionGroup) as info:  # the SDK wraps it in exception groups
        anyio.run(connect)
    err = _leaf(info.value)
    assert isinstance(err, MCPError), err
    assert "cannot reach the Proctor daemon" in err.error.message
    assert str(missing) in err.error.message
    init = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    r = subprocess.run(
        [*PROCTOR, "gateway", "--stdio", "--socket", str(missing)],
        input=json.dumps(init) + "\n",
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 1
    assert "daemon_unreachable" in r.stderr
    assert json.loads(r.stdout)["id"] == 7
    assert json.loads(r.stdout)["error"]["code"] == -32000
    r = subprocess.run(
        [*PROCTOR, "gateway", "--stdio"],
        stdin=subprocess.DEVNULL,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 2
    assert "--socket" in r.stdout + r.stderr


def test_closing_stdin_ends_the_session_and_its_upstream_processes(tmp_path: Path) -> None:
    """When the MCP client closes the thin client's stdin, the daemon ends the session and stops
    the task's stdio upstream (which ran as the daemon's user), while the daemon keeps serving."""
    ws, tokens, starts = _workspace(tmp_path)
    params = thin_client(
        ws.root / "run" / "gateway.sock", PROCTOR_SVID=tokens["svid"], PROCTOR_TASK_TOKEN=tokens["task"]
    )
    with Daemon(ws.root) as daemon:
        assert anyio.run(_echo, params, "one")[1] == "one"
        [pid] = _pids(starts)
        deadline = time.monotonic() + 60  # waiting for the session's end, not timing it
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid)
        assert daemon.running()
        assert anyio.run(_echo, params, "two")[1] == "two"  # a new session of the task starts afresh
        assert len(_pids(starts)) == 2
    with Proctor.open(ws) as p:
        closed = [
            json.loads(r.body) for r in p.store.search_audit(AuditQuery(kind="upstream.sessions_closed"))
        ]
    assert {"namespaces": ["bad"], "reason": "session ended"}.items() <= closed[0].items()


# --- a second Unix user, who cannot read the workspace ------------------------------------------
SITE = next(p for p in sys.path if p.endswith("site-packages") and Path(p, "mcp").is_dir())
#: what the agent host's user runs: a Python it can execute (the test's may live under /root)
AGENT_PYTHON = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
AS_USER = "import os, sys; os.setgroups([]); os.setgid(int(sys.argv[2])); os.setuid(int(sys.argv[1])); os.execv(sys.argv[3], sys.argv[3:])"


def _as_user(user: pwd.struct_passwd, *argv: str) -> list[str]:
    return [sys.executable, "-c", AS_USER, str(user.pw_uid), str(user.pw_gid), AGENT_PYTHON, "-S", *argv]


@pytest.fixture
def agent_user() -> Iterator[pwd.struct_passwd]:
    """A Unix user for the agent host, made for this test (root only)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create a second Unix user")
    if shutil.which("useradd") is None or not os.access(AGENT_PYTHON, os.X_OK):
        pytest.skip(f"needs useradd and {AGENT_PYTHON}")
    created = False
    try:
        user = pwd.getpwnam(AGENT_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", AGENT_USER],
            check=True,
        )
        created = True
        user = pwd.getpwnam(AGENT_USER)
    probe = subprocess.run(
        _as_user(user, "-c", "import proctor.gateway.thin, mcp, typer"),
        env={"PYTHONPATH": f"{SRC}:{SITE}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    try:
        if probe.returncode != 0:
            pytest.skip(f"the second user cannot run Proctor from this checkout: {probe.stderr[-300:]}")
        yield user
    finally:
        if created:
            subprocess.run(["userdel", AGENT_USER], check=False)


def _private(root: Path) -> None:
    """The workspace as the lead's hardening leaves it: everything 0700/0600 but the root and
    `run/`, which are 0711 (traversable, not listable), so only the socket is reachable."""
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            os.chmod(Path(dirpath, d), 0o700)
        for f in filenames:
            os.chmod(Path(dirpath, f), 0o600)
    os.chmod(root, 0o711)
    os.chmod(root / "run", 0o711)


def test_an_agent_user_without_access_to_the_workspace(agent_user: pwd.struct_passwd) -> None:
    """The agent host's user cannot read the workspace at all; its thin client still serves
    tools/list and tools/call. It is identified by attestation of its process (`unix:uid`), and
    the stdio upstream runs as the daemon's user, not the agent's."""
    base = Path(tempfile.mkdtemp(prefix="proctor-thin-"))
    try:
        os.chmod(base, 0o711)
        ws, tokens, starts = _workspace(base, [f"unix:uid:{agent_user.pw_uid}"])
        _private(ws.root)
        env = {"PYTHONPATH": f"{SRC}:{SITE}", "PATH": "/usr/bin:/bin"}
        denied = subprocess.run(
            _as_user(agent_user, "-c", f"open({str(ws.root / 'proctor.yaml')!r}).read()"),
            env=env,
            capture_output=True,
            text=True,
            check=False,
            cwd="/",
        )
        assert "PermissionError" in denied.stderr  # the agent's user really cannot read it
        socket = ws.root / "run" / "gateway.sock"
        params = StdioServerParameters(
            command=_as_user(agent_user)[0],
            args=[
                *_as_user(agent_user, "-c", "from proctor.cli.main import main; main()")[1:],
                "gateway",
                "--stdio",
                "--socket",
                str(socket),
            ],
            env={**env, "PROCTOR_TASK_TOKEN": tokens["task"]},  # no SVID, no join token: attestation
            cwd="/",
        )

        async def session() -> tuple[list[str], str, int, int]:
            async with Client(params, mode="legacy", cache=None) as c:
                names = sorted(t.name for t in (await c.list_tools()).tools)
                r = await c.call_tool("bad__echo", {"text": "as another user"})
                [pid] = _pids(starts)  # the upstream is running for this session
                thin = [
                    x
                    for x in Path("/proc").iterdir()
                    if x.name.isdigit() and _runs_as(int(x.name), agent_user)
                ]
                return names, str(r.content[0].text), _uid_of(pid), len(thin)  # type: ignore[union-attr]

        with Daemon(ws.root):
            assert os.stat(socket).st_mode & 0o777 == 0o666
            names, text, upstream_uid, agent_processes = anyio.run(session)
        assert (names, text) == (["bad__echo"], "as another user")
        assert agent_processes >= 1  # the thin client did run as the agent's user
        assert upstream_uid == os.geteuid() != agent_user.pw_uid  # the upstream ran as the daemon's
        with Proctor.open(ws) as p:
            attested = p.store.search_audit(AuditQuery(kind="identity.attested"))
        assert [r.agent for r in attested] == ["bot"]
        assert f"unix:uid:{agent_user.pw_uid}" in json.loads(attested[0].body)["selectors"]
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_the_socket_bounds_every_message(tmp_path: Path) -> None:
    """Straight on the daemon's socket, as any local process may: a second daemon cannot take it
    over; a hello over 64 KiB is refused;
    after a good hello, a line over 4 MiB is dropped (its bytes never held at once) and the next
    request is still answered; a stranger's hello (not `gateway/1`) and one nested too deep to parse
    are refused."""
    import socket

    ws, tokens, _ = _workspace(tmp_path)
    path = str(ws.root / "run" / "gateway.sock")

    def connect(first: bytes) -> tuple[socket.socket, Any]:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(path)
        s.sendall(first)
        return s, s.makefile("rb")

    with Daemon(ws.root):
        second = subprocess.run(
            [*PROCTOR, "gateway", "--unix", "--workspace", str(ws.root)],
            env=child_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert second.returncode == 2  # a live socket is never taken over
        assert "in use by another Proctor gateway" in second.stderr
        s, f = connect(b'{"proctor":"gateway/1","svid":"' + b"x" * (70 << 10) + b'"}\n')
        assert json.loads(f.readline())["error"]["message"] == "the hello is too long"
        s.close()
        s, f = connect(b'{"hello":"there"}\n')
        assert json.loads(f.readline())["error"]["code"] == "invalid_input"
        s.close()
        s, f = connect(b"[" * 60000 + b"\n")  # nested too deep for the parser: refused as such
        assert json.loads(f.readline())["error"]["message"] == "the hello is not JSON"
        s.close()
        hello = {"proctor": "gateway/1", "svid": tokens["svid"], "task_token": tokens["task"]}
        s, f = connect(json.dumps(hello).encode() + b"\n")
        assert json.loads(f.readline())["agent"] == "bot"
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
        s.sendall(json.dumps(init).encode() + b"\n")
        assert json.loads(f.readline())["id"] == 1
        s.sendall(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        big = b'{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"pad":"' + b"x" * (5 << 20) + b'"}}\n'
        s.sendall(big + b'{"jsonrpc":"2.0","id":3,"method":"tools/list"}\n')
        answers = [json.loads(f.readline())]
        s.close()
    assert [a.get("id") for a in answers] == [3]  # 2 was dropped unread, 3 answered
    assert [t["name"] for t in answers[0]["result"]["tools"]] == ["bad__echo"]


def test_the_http_daemon_serves_the_socket_too(tmp_path: Path) -> None:
    """`proctor gateway --http` listens on `<workspace>/run/gateway.sock` as well (mode 0666); a
    socket left by a stopped daemon is replaced by the next; `--no-socket` goes with --http only."""
    from tests.e2e.gateway_harness import free_port

    ws, tokens, _ = _workspace(tmp_path)
    sock = ws.root / "run" / "gateway.sock"
    params = thin_client(sock, PROCTOR_SVID=tokens["svid"], PROCTOR_TASK_TOKEN=tokens["task"])
    with Daemon(ws.root, mode=("--http", "--port", str(free_port()))):
        assert os.stat(sock).st_mode & 0o777 == 0o666
        assert anyio.run(_echo, params, "over http's daemon") == (["bad__echo"], "over http's daemon")
    # uvicorn re-raises SIGTERM once it has stopped, so the file may be left behind: a daemon
    # started later finds nobody listening on it and replaces it
    with Daemon(ws.root):
        assert anyio.run(_echo, params, "again")[1] == "again"
    r = subprocess.run(
        [*PROCTOR, "gateway", "--unix", "--no-socket", "--workspace", str(ws.root)],
        env=child_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 2  # --no-socket goes with --http only


FLOOD = """
import socket, sys
held = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    held.append(s)
held[-1].settimeout(120)
print(held[-1].recv(4096).decode().strip(), flush=True)
sys.stdin.read()
"""


def test_idle_connections_of_one_user_lock_out_nobody(agent_user: pwd.struct_passwd) -> None:
    """Review finding: any local user may connect, and a connection that never sends its hello
    held one of the 256 session slots for 10 s, so one user could keep every agent out. Now only
    identified sessions take a slot, and each Unix user has at most 8 connections awaiting their
    hello: another user's flood of 300 idle connections leaves this agent's session served."""
    import socket

    base = Path(tempfile.mkdtemp(prefix="proctor-thin-"))
    try:
        os.chmod(base, 0o711)
        ws, tokens, _ = _workspace(base)
        _private(ws.root)
        path = str(ws.root / "run" / "gateway.sock")
        with Daemon(ws.root):
            flood = subprocess.Popen(
                _as_user(agent_user, "-c", FLOOD, path, "300"),
                env={"PATH": "/usr/bin:/bin"},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd="/",
            )
            try:
                assert flood.stdout is not None
                assert '"busy"' in flood.stdout.readline()  # the daemon has seen every connection
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(60)
                s.connect(path)
                hello = {"proctor": "gateway/1", "svid": tokens["svid"], "task_token": tokens["task"]}
                s.sendall(json.dumps(hello).encode() + b"\n")
                answer = json.loads(s.makefile("rb").readline())
                s.close()
            finally:
                flood.kill()
                flood.wait()
        assert answer.get("agent") == "bot", answer
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_refused_identities_are_audited_within_limits(tmp_path: Path) -> None:
    """Review finding: any local user may connect, and every hello whose process matched no agent
    (or whose join token was bad) wrote an audit record, so a loop of connections grew the audit
    log without bound. Per Unix user, the first `refusal_audit_burst` (10) of a window are
    recorded; the rest are counted in one summary (written at the latest when the daemon stops)."""
    import socket

    ws, _, _ = _workspace(tmp_path)
    path = str(ws.root / "run" / "gateway.sock")

    def refused(hello: dict[str, str]) -> str:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(path)
        s.sendall(json.dumps({"proctor": "gateway/1", "task_token": "t", **hello}).encode() + b"\n")
        answer = json.loads(s.makefile("rb").readline())
        s.close()
        return str(answer["error"]["code"])

    with Daemon(ws.root):
        codes = {refused({}) for _ in range(30)} | {refused({"join_token": "nope"}) for _ in range(30)}
    assert "internal_error" not in codes
    with Proctor.open(ws) as p:
        failed = p.store.search_audit(AuditQuery(kind="identity.attestation_failed"))
        rejected = p.store.search_audit(AuditQuery(kind="identity.join_token_rejected"))
        summaries = [
            json.loads(r.body) for r in p.store.search_audit(AuditQuery(kind="audit.refusals_suppressed"))
        ]
    assert (len(failed), len(rejected)) == (10, 10)
    assert sorted((s["refused"], s["suppressed"]) for s in summaries) == [
        ("identity.attestation_failed", 20),
        ("identity.join_token_rejected", 20),
    ]
    assert {s["source"] for s in summaries} == {f"uid:{os.geteuid()}"}


def test_a_stopping_daemon_removes_only_its_own_socket(tmp_path: Path) -> None:
    """Review finding: a daemon removed whatever socket file was at its path when it stopped, so
    once its own had been removed and a second daemon bound its socket there, stopping the first
    made the second unreachable. Now the first leaves the second's socket alone."""
    ws, tokens, _ = _workspace(tmp_path)
    socket = ws.root / "run" / "gateway.sock"
    first = Daemon(ws.root)
    try:
        socket.unlink()  # as a cleanup script might, while it still runs
        with Daemon(ws.root) as second:
            first.stop()
            assert socket.exists()

            async def session() -> tuple[list[str], str]:
                return await _echo(
                    thin_client(socket, PROCTOR_SVID=tokens["svid"], PROCTOR_TASK_TOKEN=tokens["task"]),
                    "still here",
                )

            assert anyio.run(session)[1] == "still here"
            assert second.running()
    finally:
        first.stop()


def test_one_agent_cannot_take_every_session_slot(tmp_path: Path) -> None:
    """An identified agent (or whoever holds its tokens) may hold at most 32 sessions at once on the
    daemon's socket: the 33rd is refused `busy`, and a slot freed is usable again."""
    import socket

    ws, tokens, _ = _workspace(tmp_path)
    path = str(ws.root / "run" / "gateway.sock")
    hello = json.dumps(
        {"proctor": "gateway/1", "svid": tokens["svid"], "task_token": tokens["task"]}
    ).encode()

    def session() -> tuple[socket.socket, dict[str, Any]]:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(path)
        s.sendall(hello + b"\n")
        return s, json.loads(s.makefile("rb").readline())

    held: list[socket.socket] = []
    with Daemon(ws.root):
        try:
            for _ in range(32):
                s, answer = session()
                held.append(s)
                assert "error" not in answer, answer
            s, answer = session()
            held.append(s)
            assert answer["error"]["code"] == "busy"
            held.pop(0).close()
            time.sleep(0.5)  # the daemon sees the close (not a bound on anything)
            s, answer = session()
            held.append(s)
            assert "error" not in answer, answer
        finally:
            for s in held:
                s.close()
