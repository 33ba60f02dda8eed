"""An invalid policy set, as a user meets it: real `proctor` processes on a real workspace.

What decides nothing (the kill switch, ending a task, reading the log) must work whatever the
policy files hold; what decides fails closed naming file and line; a running server refuses the
set, keeps the last good one and says so (`/healthz`, the audit record, `proctor status`).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.e2e.gateway_harness import free_port
from tests.e2e.test_cli import PROCTOR, run

BAD = "\n\npermit(principal, action, resource) when { principal.nope };\n"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    w = tmp_path / "ws"
    assert run(w, "init", str(w), "--trust-domain", "acme.test").returncode == 0
    assert run(w, "agent", "add", "bot", "--owner", "o@acme.test").returncode == 0
    assert run(w, "tool", "add", "fs.read", "--effect", "read", "--resource-arg", "path").returncode == 0
    return w


def start_task(ws: Path) -> tuple[str, str]:
    r = run(
        ws,
        "task",
        "start",
        "--agent",
        "bot",
        "--purpose",
        "read",
        "--allow",
        "fs.*",
        "--requested-by",
        "r@acme.test",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    return data["task"]["id"], data["token"]


def audit(ws: Path, kind: str) -> list[dict[str, object]]:
    r = run(ws, "audit", "search", "--kind", kind, "--json")
    assert r.returncode == 0, r.stderr
    return [row["record"] for row in json.loads(r.stdout)]


def test_the_kill_switch_works_with_an_invalid_policy_set(ws: Path) -> None:
    """`agent suspend`, `task end` and `audit tail` used to fail with `policy_invalid` as soon as
    one .cedar file was invalid: the kill switch stopped with it."""
    task, _ = start_task(ws)
    (ws / "policies" / "77-bad.cedar").write_text(BAD)
    r = run(ws, "agent", "suspend", "bot", "--reason", "incident")
    assert r.returncode == 0, r.stderr
    r = run(ws, "task", "end", task, "--cancel")
    assert r.returncode == 0, r.stderr
    for cmd in (("audit", "tail", "-n", "5"), ("audit", "search", "--agent", "bot"), ("task", "list")):
        r = run(ws, *cmd)
        assert r.returncode == 0, (cmd, r.stderr)
    assert [x["agent"] for x in audit(ws, "agent.suspended")] == ["bot"]
    assert [x["task"] for x in audit(ws, "task.ended")] == [task]
    # not even the schema is needed to stop an agent
    (ws / "policies" / "schema.cedarschema").unlink()
    assert run(ws, "agent", "resume", "bot").returncode == 0
    r = run(ws, "agent", "suspend", "bot")
    assert r.returncode == 0, r.stderr


def test_check_fails_closed_naming_file_and_line(ws: Path) -> None:
    """A command that decides refuses to start on an invalid set: exit 2, file and line named,
    no decision recorded (and so no allow)."""
    task, _ = start_task(ws)
    (ws / "policies" / "77-bad.cedar").write_text(BAD)
    r = run(ws, "check", "--agent", "bot", "--task", task, "--tool", "fs.read", "--args", '{"path": "/a"}')
    assert r.returncode == 2, r.stdout + r.stderr
    assert "policy_invalid" in r.stderr
    assert "77-bad.cedar:3" in r.stderr
    assert "nothing was decided" in r.stderr
    assert "Traceback" not in r.stderr
    assert "allow" not in r.stdout
    assert audit(ws, "decision") == []
    r = run(ws, "policy", "test", str(Path(__file__).parents[1] / "scenarios" / "starter.yaml"))
    assert r.returncode == 2
    assert "77-bad.cedar:3" in r.stderr


def test_serve_and_gateway_refuse_to_start_on_an_invalid_set(ws: Path) -> None:
    (ws / "policies" / "77-bad.cedar").write_text(BAD)
    for cmd in (
        ("serve", "--port", str(free_port())),
        ("gateway", "--http", "--port", str(free_port())),
        ("gateway", "--unix"),  # the daemon decides; `--stdio` is a keyless relay to it
    ):
        r = run(ws, *cmd, input_="")
        assert r.returncode == 2, (cmd, r.stderr)
        assert "policy_invalid" in r.stderr
        assert "77-bad.cedar:3" in r.stderr
        assert "Traceback" not in r.stderr


def test_status_shows_a_rejected_set_with_its_errors(ws: Path) -> None:
    r = run(ws, "status", "--json")
    assert r.returncode == 0, r.stderr
    ok = json.loads(r.stdout)
    assert ok["status"] == "ok"
    assert ok["policy"]["valid"] is True
    assert ok["policy"]["files_version"] == ok["policy"]["active_version"]
    (ws / "policies" / "77-bad.cedar").write_text(BAD)
    r = run(ws, "status", "--json")
    assert r.returncode == 1
    bad = json.loads(r.stdout)
    assert bad["status"] == "degraded"
    assert bad["policy"]["active_version"] == ok["policy"]["active_version"]
    assert bad["policy"]["rejected"]["errors"][0]["file"] == "77-bad.cedar"
    assert bad["policy"]["rejected"]["errors"][0]["line"] == 3
    assert "nope" in bad["policy"]["rejected"]["errors"][0]["message"]
    r = run(ws, "status")
    assert r.returncode == 1
    assert "degraded" in r.stdout
    assert "77-bad.cedar:3" in r.stdout


@pytest.fixture
def served(ws: Path) -> Iterator[tuple[Path, httpx.Client]]:
    """`proctor serve` as a real process, with the policy watcher polling every second."""
    port = free_port()
    env = dict(os.environ, PROCTOR_WORKSPACE=str(ws))
    proc = subprocess.Popen(
        [*PROCTOR, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        wait_for(client, lambda h: h["status"] == "ok", proc)
        yield ws, client
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def wait_for(
    client: httpx.Client, ok: object, proc: subprocess.Popen[bytes] | None = None
) -> dict[str, object]:
    """Poll /healthz until ``ok(body)`` holds (the watcher polls on its own schedule)."""
    assert callable(ok)
    deadline = time.monotonic() + 60
    last: object = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            assert proc.stderr is not None
            pytest.fail(f"proctor serve exited: {proc.stderr.read().decode(errors='replace')}")
        try:
            r = client.get("/healthz")
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        assert r.status_code == 200
        last = r.json()
        if ok(last):
            assert isinstance(last, dict)
            return last
        time.sleep(0.1)
    pytest.fail(f"/healthz never matched; last answer {last}")


def test_a_running_server_keeps_the_last_good_set_and_reports_the_rejected_one(
    served: tuple[Path, httpx.Client],
) -> None:
    """The server refused an invalid set silently: `/healthz` said ok and the audit record had no
    detail. Now /healthz is `degraded` with the errors, the record carries them, decisions keep
    the last good set, and undoing the edit clears the report."""
    ws, c = served
    good = c.get("/healthz").json()
    assert good["policy"] == {"active_version": good["policy_version"], "rejected": None}
    _, token = start_task(ws)
    join = run(ws, "agent", "join-token", "bot").stdout.strip()
    svid = c.post("/v1/identity/svid", json={"join_token": join}).json()["svid"]
    auth = {"Authorization": f"Bearer {svid}"}

    bad_file = ws / "policies" / "77-bad.cedar"
    bad_file.write_text(BAD)
    health = wait_for(c, lambda h: h["status"] == "degraded")
    policy = health["policy"]
    assert isinstance(policy, dict)
    assert policy["active_version"] == good["policy_version"]
    rejected = policy["rejected"]
    assert rejected["active_version"] == good["policy_version"]
    assert rejected["errors"][0]["file"] == "77-bad.cedar"
    assert rejected["errors"][0]["line"] == 3
    assert "nope" in rejected["errors"][0]["message"]

    d = c.post(
        "/v1/decide", json={"task_token": token, "tool": "fs.read", "args": {"path": "/x"}}, headers=auth
    )
    assert d.status_code == 200, d.text
    assert d.json()["decision"] == "allow"
    assert d.json()["policy_version"] == good["policy_version"]

    records = audit(ws, "policy.rejected")
    assert len(records) == 1
    assert records[0]["errors"] == [
        {"file": "77-bad.cedar", "line": 3, "message": rejected["errors"][0]["message"]}
    ]
    assert records[0]["active_version"] == good["policy_version"]
    tail = run(ws, "audit", "tail", "-n", "3")
    assert "77-bad.cedar:3" in tail.stdout.replace("\n", "")  # the table's detail is no longer empty

    st = run(ws, "status")
    assert st.returncode == 1
    assert "77-bad.cedar:3" in st.stdout

    bad_file.unlink()
    back = wait_for(c, lambda h: h["status"] == "ok")
    assert back["policy"] == {"active_version": good["policy_version"], "rejected": None}


def test_audit_tables_show_terminal_escapes_as_text(ws: Path) -> None:
    """`audit tail` and `audit search` printed the escapes a caller put in a tool name or a reason
    raw (clear screen, CSI, a right-to-left override): now every cell is escaped text."""
    task, _ = start_task(ws)
    tool = "fs.\x1b[2J\x9b31m\u202e[bold]x[/bold]"
    r = run(
        ws, "check", "--agent", "bot", "--task", task, "--tool", tool, "--args", '{"\\u001b]0;t\\u0007": 1}'
    )
    assert r.returncode == 1, r.stderr
    assert "\x1b" not in r.stdout + r.stderr  # the deny reason quotes the name
    for cmd in (("audit", "tail", "-n", "3"), ("audit", "search", "--decision", "deny")):
        r = run(ws, *cmd)
        assert r.returncode == 0, r.stderr
        for raw in ("\x1b", "\x9b", "\u202e", "\x07"):
            assert raw not in r.stdout, (cmd, raw)
        text = r.stdout.replace("\n", "")
        assert "\\x1b[2J\\x9b31m\\u202e[bold]x[/bold]" in text, r.stdout
