"""The `proctor` command as a user runs it: a real process, a real workspace."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROCTOR = [sys.executable, "-c", "from proctor.cli.main import main; main()"]


def run(ws: Path, *args: str, input_: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PROCTOR_WORKSPACE=str(ws), COLUMNS="200")
    return subprocess.run(
        [*PROCTOR, *args], capture_output=True, text=True, env=env, timeout=120, input=input_, check=False
    )


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """An initialised workspace with one agent and a tool."""
    w = tmp_path / "ws"
    r = run(w, "init", str(w), "--trust-domain", "acme.test")
    assert r.returncode == 0, r.stderr
    assert "admin token" in r.stdout
    assert run(w, "agent", "add", "bot", "--owner", "o@acme.test").returncode == 0
    assert run(w, "tool", "add", "fs.read", "--effect", "read", "--resource-arg", "path").returncode == 0
    return w


def test_init_makes_private_keys(ws: Path) -> None:
    """Private key files and the key directory are readable by the owner only."""
    keys = ws / "keys"
    assert oct(keys.stat().st_mode & 0o777) == "0o700"
    for f in keys.iterdir():
        assert f.stat().st_mode & 0o077 == 0, f
    assert (ws / "policies" / "schema.cedarschema").is_file()
    assert run(ws, "init", str(ws)).returncode == 2  # refuses to overwrite


def test_agent_without_owner_is_refused(ws: Path) -> None:
    """`agent add` without --owner exits 2 with a clear one-line error."""
    r = run(ws, "agent", "add", "lonely")
    assert r.returncode == 2
    assert "owner_required" in r.stderr
    assert "Traceback" not in r.stderr


def test_task_and_check_exit_codes(ws: Path) -> None:
    """`check` explains and exits 0 for allow, 1 for deny; ended tasks deny."""
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
    task = json.loads(r.stdout)["task"]["id"]
    ok = run(ws, "check", "--agent", "bot", "--task", task, "--tool", "fs.read", "--args", '{"path": "/a"}')
    assert ok.returncode == 0
    assert "allow" in ok.stdout
    assert "baseline.read" in ok.stdout
    bad = run(ws, "check", "--agent", "bot", "--task", task, "--tool", "fs.read", "--args", "{broken")
    assert bad.returncode == 2
    assert "not valid JSON" in bad.stderr
    # JSON the parser gives up on: a clear error (exit 2), never a traceback
    for args, says in (('{"n": 1' + "0" * 5000 + "}", "too long"), ("[" * 3000 + "]" * 3000, "too deeply")):
        odd = run(ws, "check", "--agent", "bot", "--task", task, "--tool", "fs.read", "--args", args)
        assert odd.returncode == 2, odd.stderr
        assert says in odd.stderr
        assert "Traceback" not in odd.stderr
    assert run(ws, "task", "end", task).returncode == 0
    no = run(ws, "check", "--agent", "bot", "--task", task, "--tool", "fs.read", "--args", "{}")
    assert no.returncode == 1
    assert "completed" in no.stdout
    lst = json.loads(run(ws, "task", "list", "--json").stdout)
    assert lst[0]["state"] == "completed"


def test_policy_validate_and_test(ws: Path) -> None:
    """`policy validate` names file and line; `policy test` runs the starter scenarios."""
    assert run(ws, "policy", "validate").returncode == 0
    r = run(ws, "policy", "test", str(ROOT / "tests" / "scenarios" / "starter.yaml"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "18 passed, 0 failed" in r.stdout
    (ws / "policies" / "77-bad.cedar").write_text(
        "\n\npermit(principal, action, resource) when { principal.nope };\n"
    )
    r = run(ws, "policy", "validate")
    assert r.returncode == 2
    assert "77-bad.cedar:3" in r.stderr


def test_audit_tables_show_what_callers_sent_as_text(ws: Path) -> None:
    """A deny reason quotes what a caller sent (here a tool name): rich markup in it (`[/]`,
    `[red]`) used to crash `audit tail` and `audit search` (MarkupError) or restyle the table."""
    for tool in ("fs.read[/]", "fs.[red]x[/red]"):
        r = run(
            ws, "check", "--agent", "bot", "--task", "tsk_0123456789abcdefgh", "--tool", tool, "--args", "{}"
        )
        assert r.returncode in (1, 2), r.stderr
    for cmd in (("audit", "tail", "-n", "5"), ("audit", "search", "--decision", "deny")):
        r = run(ws, *cmd)
        assert r.returncode == 0, r.stderr
        assert "Traceback" not in r.stderr
    assert "[/]" in run(ws, "audit", "tail", "-n", "5").stdout.replace("\n", "")


def test_audit_verify_tail_search_export_and_tamper(ws: Path, tmp_path: Path) -> None:
    """The audit commands work, and verify exits 1 naming the record an attacker edited."""
    assert run(ws, "audit", "verify").returncode == 0
    tail = run(ws, "audit", "tail", "--json")
    assert tail.returncode == 0
    assert json.loads(tail.stdout)
    found = json.loads(run(ws, "audit", "search", "--agent", "bot", "--json").stdout)
    assert all(r["record"]["agent"] == "bot" for r in found)
    assert found
    exp = run(ws, "audit", "export", "--format", "jsonl")
    lines = [json.loads(x) for x in exp.stdout.splitlines()]
    assert lines
    assert {"seq", "hash", "record"} <= set(lines[0])
    conn = sqlite3.connect(ws / "proctor.db")
    conn.execute("DROP TRIGGER audit_records_no_delete")
    conn.execute("DELETE FROM audit_records WHERE seq = 2")
    conn.commit()
    conn.close()
    r = run(ws, "audit", "verify")
    assert r.returncode == 1
    assert "TAMPERED record 2:" in " ".join(r.stderr.split()), r.stderr


def test_audit_show_gives_every_record_of_one_decision(ws: Path) -> None:
    """`audit show DECISION_ID` prints the records that carry the decision id (JSON and text); an
    unknown id is `unknown_decision` and a malformed one `invalid_input`, both exit 2."""
    r = run(
        ws,
        *("task", "start", "--agent", "bot", "--purpose", "read", "--allow", "fs.*"),
        *("--requested-by", "r@acme.test", "--json"),
    )
    task = json.loads(r.stdout)["task"]["id"]
    checked = run(
        ws, "check", "--agent", "bot", "--task", task, "--tool", "fs.read", "--args", "{}", "--json"
    )
    decision = json.loads(checked.stdout)["decision_id"]
    other = run(ws, "check", "--agent", "bot", "--task", task, "--tool", "fs.read", "--args", "{}", "--json")
    assert json.loads(other.stdout)["decision_id"] != decision
    shown = run(ws, "audit", "show", decision, "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["decision_id"] == decision
    assert [x["record"]["kind"] for x in data["records"]] == ["decision"]
    assert data["records"][0]["record"]["decision_id"] == decision
    assert data["records"][0]["record"]["tool"] == "fs.read"
    text = run(ws, "audit", "show", decision)
    assert text.returncode == 0, text.stderr
    assert decision in text.stdout
    assert "fs.read" in text.stdout
    unknown = run(ws, "audit", "show", "dec_" + "A" * 22)
    assert unknown.returncode == 2
    assert "unknown_decision" in unknown.stderr
    malformed = run(ws, "audit", "show", "not-a-decision")
    assert malformed.returncode == 2
    assert "invalid_input" in malformed.stderr
    assert "Traceback" not in unknown.stderr + malformed.stderr
