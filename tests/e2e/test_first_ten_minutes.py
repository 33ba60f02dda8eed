"""The first ten minutes of a new user (issue 16, part 4), as they meet them: real `proctor`
processes, a real workspace, the official MCP client through the gateway."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml
from mcp import Client
from mcp.shared.exceptions import MCPError
from tests.e2e.gateway_harness import free_port
from tests.e2e.test_cli import PROCTOR, run
from tests.e2e.test_gateway_policy import HOLD_0, _gateway_params

from proctor.app import Proctor
from proctor.gateway.config import save_upstreams, upstream_from_mapping
from proctor.workspace import Workspace

TIME_SERVER = str(Path(sys.executable).parent / "mcp-server-time")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """An initialised workspace with an agent and two tools."""
    w = tmp_path / "ws"
    assert run(w, "init", str(w), "--trust-domain", "acme.test").returncode == 0
    assert run(w, "agent", "add", "bot", "--owner", "o@acme.test").returncode == 0
    assert run(w, "tool", "add", "mail.send", "--effect", "execute").returncode == 0
    assert run(w, "tool", "add", "mail.read", "--effect", "read").returncode == 0
    return w


def test_version_prints_the_package_version() -> None:
    """`proctor --version` (and `-V`) prints the installed version and exits 0."""
    from importlib.metadata import version

    for flag in ("--version", "-V"):
        r = subprocess.run([*PROCTOR, flag], capture_output=True, text=True, timeout=60, check=False)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == f"proctor {version('proctor')}"


def test_an_upstream_whose_command_is_missing_is_an_explicit_error(tmp_path: Path) -> None:
    """A call to a tool of an upstream that cannot start reaches the official MCP client as a
    JSON-RPC error naming the upstream and why, not as `unknown tool`; the refusal is audited."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text=HOLD_0)
    cfg = upstream_from_mapping(
        {"namespace": "git", "command": str(tmp_path / "no-such-server"), "default": {"effect": "read"}}
    )
    save_upstreams(ws.root, [cfg])
    with Proctor.open(ws) as p:
        agent = p.agents.add("bot", "owner@acme.test")
        svid = p.agents.issue_svid(agent)
        task = p.tasks.start(agent="bot", purpose="log", allow=["git.*"], requested_by="r@acme.test")
    params = _gateway_params(ws, svid, task.token)

    async def session() -> MCPError:
        async with Client(params, mode="legacy", cache=None) as c:
            with pytest.raises(MCPError) as raised:
                await c.call_tool("git__git_status", {"repo_path": "."})
            return raised.value

    error = anyio.run(session)
    message = str(error.error.message)
    assert "unknown tool" not in message
    assert "upstream `git` is unavailable" in message
    assert "command was not found" in message
    rows = json.loads(run(ws.root, "audit", "search", "--decision", "deny", "--json").stdout)
    assert [r["record"]["tool"] for r in rows] == ["git.git_status"]
    assert "upstream_unavailable" in json.dumps(rows[0]["record"])


def _env(ws: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PROCTOR_WORKSPACE": str(ws), "COLUMNS": "200", **extra}


def _start(ws: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*PROCTOR, *args], env=_env(ws), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _reader(stream: Any) -> queue.Queue[str]:
    """The lines of ``stream`` as they come, read on a thread (``""`` at its end)."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    return lines


def _wait_listening(proc: subprocess.Popen[str], url: str) -> None:
    """Read the server's stderr (on a thread: a server that never says it would block the read)
    until it says it listens on ``url``; fails after 60 s or if it exits first."""
    assert proc.stderr is not None
    lines = _reader(proc.stderr)
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if not line:
            break
        seen.append(line)
        if line.strip() == f"listening on {url}":
            return
    proc.kill()
    raise AssertionError(f"never said `listening on {url}`: {''.join(seen)}")


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_a_second_serve_on_a_taken_port_says_so_in_one_line(ws: Path) -> None:
    """`proctor serve` says where it listens once ready; a second one on the same loopback port
    prints one line naming the port and the option, and exits 2 (an error), without a traceback."""
    port = free_port()
    first = _start(ws, "serve", "--port", str(port))
    try:
        _wait_listening(first, f"http://127.0.0.1:{port}")
        second = subprocess.run(
            [*PROCTOR, "serve", "--port", str(port)],
            env=_env(ws),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 2
        assert second.stderr.splitlines() == [
            f"proctor: port 127.0.0.1:{port} is in use (another proctor serve?); choose another with --port"
        ]
        assert "Traceback" not in second.stderr
        assert first.poll() is None  # the first one is still serving
    finally:
        _stop(first)


def test_gateway_http_listens_refuses_a_taken_port_and_names_an_unreachable_upstream(
    tmp_path: Path,
) -> None:
    """`proctor gateway --http` says where it listens; a second one on its port gets one line and
    exit 2; an HTTP upstream that refuses connections reaches the official MCP client as an
    explicit error naming it (not `unknown tool`)."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text=HOLD_0)
    refused = free_port()  # nothing listens there
    save_upstreams(
        ws.root,
        [
            upstream_from_mapping(
                {"namespace": "crm", "url": f"http://127.0.0.1:{refused}/mcp", "default": {"effect": "read"}}
            )
        ],
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with Proctor.open(ws) as p:
        agent = p.agents.add("bot", "owner@acme.test")
        svid = p.agents.issue_svid(agent, url)
        task = p.tasks.start(agent="bot", purpose="crm", allow=["crm.*"], requested_by="r@acme.test")
    gateway = _start(ws.root, "gateway", "--http", "--no-socket", "--port", str(port))
    try:
        _wait_listening(gateway, url)
        second = subprocess.run(
            [*PROCTOR, "gateway", "--http", "--no-socket", "--port", str(port)],
            env=_env(ws.root),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 2
        assert second.stderr.splitlines() == [
            f"proctor: port 127.0.0.1:{port} is in use (another proctor gateway?); choose another with --port"
        ]

        async def session() -> MCPError:
            import httpx2
            from mcp.client.streamable_http import streamable_http_client

            h = {"Authorization": f"Bearer {svid}", "Proctor-Task": task.token}
            transport = streamable_http_client(url, http_client=httpx2.AsyncClient(headers=h, timeout=30))
            async with Client(transport, cache=None, mode="legacy") as c:
                with pytest.raises(MCPError) as raised:
                    await c.call_tool("crm__lookup", {"id": "1"})
                return raised.value

        error = anyio.run(session)
        assert "unknown tool" not in error.error.message
        assert "upstream `crm` is unavailable: the connection was refused" in error.error.message
    finally:
        _stop(gateway)


def test_allow_patterns_that_match_no_tool_are_refused_with_a_suggestion(ws: Path) -> None:
    """`task start --allow 'mial.*'` (a typo) is `no_such_tool` with "did you mean `mail.*`?" and
    starts nothing; a pattern that matches a tool starts as before; a pattern only an unpinned
    upstream could match is accepted with a warning (its tools are not known until listed)."""
    start = ["task", "start", "--agent", "bot", "--purpose", "mail", "--requested-by", "r@acme.test"]
    typo = run(ws, *start, "--allow", "mial.*")
    assert typo.returncode == 2
    assert "no_such_tool" in typo.stderr
    assert "did you mean `mail.*`?" in " ".join(typo.stderr.split())
    assert "Traceback" not in typo.stderr
    name = run(ws, *start, "--allow", "mail.read", "--allow", "mail.sned")
    assert name.returncode == 2
    assert "`mail.send`" in name.stderr
    assert json.loads(run(ws, "task", "list", "--json").stdout) == []
    assert run(ws, *start, "--allow", "mail.*").returncode == 0
    assert run(ws, "upstream", "add", "git", "--command", TIME_SERVER).returncode == 0
    later = run(ws, *start, "--allow", "git.git_status")
    assert later.returncode == 0, later.stderr
    assert "upstream `git` is not pinned" in " ".join(later.stderr.split())


def test_upstream_add_stores_an_absolute_command_and_warns_when_missing(ws: Path) -> None:
    """A bare command is resolved on the current PATH and stored absolute (a desktop client starts
    the gateway with a bare PATH); a missing one is stored as given with a one-line warning; a
    `--tool-effect` naming a tool the upstream does not list is refused with a suggestion."""
    path = f"{Path(TIME_SERVER).parent}:/usr/bin:/bin"
    env = _env(ws, PATH=path)

    def add(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*PROCTOR, "upstream", "add", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    added = add("time", "--command", "mcp-server-time", "--arg", "--local-timezone", "--arg", "UTC")
    assert added.returncode == 0, added.stderr
    assert added.stderr == ""
    typo = add("clock", "--command", "mcp-server-time", "--tool-effect", "get_curent_time=read")
    assert typo.returncode == 2
    assert "did you mean `get_current_time`?" in " ".join(typo.stderr.split())
    missing = add("git", "--command", "no-such-mcp-server-zz")
    assert missing.returncode == 0, missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    assert "`no-such-mcp-server-zz` is not on PATH" in missing.stderr
    stored = {u["namespace"]: u for u in yaml.safe_load((ws / "upstreams.yaml").read_text())["upstreams"]}
    assert stored["time"]["command"] == TIME_SERVER
    assert stored["git"]["command"] == "no-such-mcp-server-zz"
    assert "clock" not in stored


def _records(ws: Path, *args: str) -> list[dict[str, Any]]:
    r = run(ws, "audit", *args, "--json")
    assert r.returncode == 0, r.stderr
    return [{**x["record"], "seq": x["seq"]} for x in json.loads(r.stdout)]


def test_audit_since_takes_an_iso_time_or_a_duration(ws: Path) -> None:
    """`--since` on `audit tail` and `audit search`: an ISO 8601 time or a duration ago; a bad
    value is `invalid_input`, exit 2."""
    everything = _records(ws, "tail", "-n", "100")
    assert everything
    assert _records(ws, "tail", "--since", "1h") == everything
    assert _records(ws, "tail", "--since", "2099-01-01T00:00:00Z") == []
    assert _records(ws, "search", "--since", "2099-01-01T00:00:00Z") == []
    assert _records(ws, "search", "--kind", "tool.registered", "--since", "2000-01-01T00:00:00Z") != []
    bad = run(ws, "audit", "tail", "--since", "yesterday")
    assert bad.returncode == 2
    assert "invalid_input" in bad.stderr


def test_task_and_approvals_lists_take_since(tmp_path: Path) -> None:
    """`task list --since` and `approvals list --since` take what `audit tail --since` takes (an
    ISO 8601 time or a duration ago) and list only what was started or filed since then."""
    import datetime as dt

    from proctor.clock import FrozenClock
    from proctor.pipeline import CallInput

    ws, _ = Workspace.init(
        tmp_path / "ws",
        config_text="trust_domain: acme.test\ntools:\n  - {name: pay.send, effect: pay, flags: [financial]}\n",
    )
    three_hours_ago = time.time() - 3 * 3600
    ids: dict[str, tuple[str, str]] = {}
    for label, clock in (("old", FrozenClock(three_hours_ago)), ("new", None)):
        with Proctor.open(ws, clock=clock) as p:
            if label == "old":
                p.agents.add("bot", "owner@acme.test")
            task = p.tasks.start(agent="bot", purpose=label, allow=["pay.*"], requested_by="r@acme.test")
            call = CallInput(tool="pay.send", args={"amount": 5}, agent="bot", task_token=task.token)
            approval = p.decide(call).approval_id
            assert approval
            ids[label] = (str(task.task.id), approval)

    def listed(*args: str) -> list[str]:
        r = run(ws.root, *args, "--json")
        assert r.returncode == 0, r.stderr
        return sorted(x["id"] for x in json.loads(r.stdout))

    two_hours_ago = dt.datetime.fromtimestamp(time.time() - 2 * 3600, dt.UTC).isoformat()
    for since, want in (("1h", ["new"]), ("4h", ["old", "new"]), (two_hours_ago, ["new"])):
        assert listed("task", "list", "--since", since) == sorted(ids[w][0] for w in want), since
        assert listed("approvals", "list", "--state", "all", "--since", since) == sorted(
            ids[w][1] for w in want
        ), since
    assert listed("task", "list") == sorted(t for t, _ in ids.values())
    for cmd in (("task", "list"), ("approvals", "list")):
        bad = run(ws.root, *cmd, "--since", "yesterday")
        assert bad.returncode == 2
        assert "invalid_input" in bad.stderr


def test_audit_tail_follows_new_records_until_stopped(ws: Path) -> None:
    """`audit tail -f` prints the newest records, then each new one as it is written, until it is
    stopped (Ctrl-C: exit 0)."""
    follow = subprocess.Popen(
        [*PROCTOR, "audit", "tail", "-f", "-n", "1", "--interval", "0.1"],
        env=_env(ws),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follow.stdout is not None
        lines = _reader(follow.stdout)
        first = lines.get(timeout=60)
        assert "tool.registered" in first
        assert "tool=mail.read" in first
        assert run(ws, "agent", "add", "later-bot", "--owner", "o@acme.test").returncode == 0
        line = lines.get(timeout=60)
        assert "agent.registered" in line
        assert "agent=later-bot" in line
    finally:
        follow.send_signal(signal.SIGINT)
        follow.wait(timeout=30)
    assert follow.stderr is not None
    err = follow.stderr.read()
    assert follow.returncode == 0, err
    assert "Traceback" not in err


def test_human_output_uses_iso_times_and_fits_80_columns(ws: Path) -> None:
    """Times are ISO 8601 UTC (`2026-12-05T16:04:48Z`). Piped at 80 columns the audit log is a
    record per line (every time whole, the fields it has named), and a table keeps its ids and
    times whole on one line (no ellipsis), folding long text instead, within 80 columns."""
    import re

    def narrow(*args: str) -> str:
        r = subprocess.run(
            [*PROCTOR, *args],
            env=_env(ws, COLUMNS="80"),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert r.returncode == 0, r.stderr
        return r.stdout

    iso = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
    records = _records(ws, "tail", "-n", "100")
    lines = narrow("audit", "tail", "-n", "100").splitlines()
    assert len(lines) == len(records)
    assert all(
        re.match(rf"{r['seq']}  {iso}  {re.escape(r['kind'])}\b", line)
        for r, line in zip(records, lines, strict=True)
    )
    assert "tool=mail.read" in lines[-1]
    start = ["task", "start", "--agent", "bot", "--purpose", "read the mail", "--requested-by", "r@acme.test"]
    allow = ("--allow", "mail.read", "--allow", "mail.send", "--allow", "mail.*")
    task = json.loads(run(ws, *start, *allow, "--json").stdout)["task"]["id"]
    table = narrow("task", "list")
    assert "…" not in table
    assert re.search(rf"^{task}\s.*\s{iso}$", table, re.M), table
    assert max(len(line) for line in table.splitlines()) <= 80


def test_audit_show_summarises_a_gateway_call(tmp_path: Path) -> None:
    """`audit show DECISION_ID` of a call made through the gateway (official MCP client, the real
    `mcp-server-time`) opens with what a person asks first: the verdict and on what, the reasons,
    the deciding policies and how the call completed; an unknown id is `unknown_decision`."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text=HOLD_0)
    cfg = upstream_from_mapping(
        {
            "namespace": "time",
            "command": TIME_SERVER,
            "args": ["--local-timezone", "UTC"],
            "default": {"effect": "read"},
        }
    )
    save_upstreams(ws.root, [cfg])
    with Proctor.open(ws) as p:
        agent = p.agents.add("bot", "owner@acme.test")
        svid = p.agents.issue_svid(agent)
        task = p.tasks.start(agent="bot", purpose="time", allow=["time.*"], requested_by="r@acme.test")

    async def session() -> None:
        async with Client(_gateway_params(ws, svid, task.token), mode="legacy", cache=None) as c:
            result = await c.call_tool("time__get_current_time", {"timezone": "UTC"})
            assert not result.is_error

    anyio.run(session)
    (done,) = _records(ws.root, "search", "--kind", "call.completed")
    shown = run(ws.root, "audit", "show", done["decision_id"])
    assert shown.returncode == 0, shown.stderr
    head = shown.stdout.split("\n\n")[0].splitlines()
    assert head[0] == f"decision {done['decision_id']}: 2 records"
    summary = {line.split()[0]: line.split(None, 1)[1] for line in head[1:]}
    assert summary["verdict"].startswith(f"allow  tool time.get_current_time  agent bot  task {task.task.id}")
    assert summary["policies"] == "baseline.read"
    assert summary["completion"].startswith("ok from upstream time at ")
    unknown = run(ws.root, "audit", "show", "dec_" + "A" * 22)
    assert unknown.returncode == 2
    assert "unknown_decision" in unknown.stderr


def test_shell_completion_is_printed_and_completes_commands(tmp_path: Path) -> None:
    """`proctor --show-completion bash` prints a script, and the completion it installs completes
    command names (`proctor au<TAB>` → `audit`) and options."""
    script = tmp_path / "proctor"
    script.write_text(f"#!{sys.executable}\nfrom proctor.cli.main import main\nmain()\n")
    script.chmod(0o755)
    shown = subprocess.run(
        [str(script), "--show-completion", "bash"], capture_output=True, text=True, timeout=60, check=False
    )
    assert shown.returncode == 0, shown.stderr
    assert "_PROCTOR_COMPLETE=complete_bash" in shown.stdout
    assert "complete -o default -F" in shown.stdout

    def complete(words: str, cword: int) -> list[str]:
        env = dict(os.environ, _PROCTOR_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(cword))
        r = subprocess.run([str(script)], capture_output=True, text=True, env=env, timeout=60, check=False)
        assert r.returncode == 0, r.stderr
        return r.stdout.split()

    assert "audit" in complete("proctor au", 1)
    assert "approvals" in complete("proctor ap", 1)
    assert "--follow" in complete("proctor audit tail --fo", 3)
