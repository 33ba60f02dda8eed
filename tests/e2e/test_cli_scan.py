"""`proctor scan` and `proctor agent retire` as an operator runs them (issue 18, ADR 0033): real
`proctor` processes on a real workspace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from proctor.workspace import Workspace

PROCTOR = [sys.executable, "-c", "from proctor.cli.main import main; main()"]
FIX = Path(__file__).resolve().parents[1] / "fixtures"


def run(ws: Path | None, *args: str, input_: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "80", "HOME": str(FIX / "posture" / "no-home")}
    env.pop("PROCTOR_WORKSPACE", None)
    if ws is not None:
        env["PROCTOR_WORKSPACE"] = str(ws)
    return subprocess.run(
        [*PROCTOR, *args], capture_output=True, text=True, env=env, timeout=120, input=input_, check=False
    )


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    w, _ = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    return w.root


def _ok(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_scan_exit_codes_and_outputs(tmp_path: Path) -> None:
    bad = FIX / "posture" / "secret-static" / "bad"
    clean = FIX / "posture" / "secret-static" / "clean"
    r = run(None, "scan", str(bad), "--no-clients")
    assert r.returncode == 0
    assert "secret.static" in r.stdout
    assert all(len(line) <= 80 for line in r.stdout.splitlines()), r.stdout
    assert run(None, "scan", str(bad), "--no-clients", "--fail-on", "high").returncode == 1
    assert run(None, "scan", str(bad), "--no-clients", "--fail-on", "critical").returncode == 0
    assert run(None, "scan", str(clean), "--no-clients", "--fail-on", "info").returncode == 0
    assert run(None, "scan", str(bad), "--no-clients", "--fail-on", "severe").returncode == 2
    assert run(None, "scan", str(tmp_path / "missing"), "--no-clients").returncode == 2
    data = json.loads(_ok(run(None, "scan", str(bad), "--no-clients", "--json")))
    [f] = data["findings"]
    assert f["line"] == 1
    assert f["frameworks"]
    assert "sha256:" in f["evidence"]
    sarif = json.loads(_ok(run(None, "scan", str(FIX / "posture"), "--no-clients", "--sarif")))
    schema = json.loads((FIX / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)
    assert len(sarif["runs"][0]["results"]) >= 19


def test_scan_reads_client_configs_in_home(tmp_path: Path) -> None:
    """Without paths, the usual MCP client configurations of the user are read (Cursor here)."""
    home = tmp_path / "home"
    (home / ".cursor").mkdir(parents=True)
    src = FIX / "posture" / "unpinned-npx" / "bad" / "claude_desktop_config.json"
    (home / ".cursor" / "mcp.json").write_text(src.read_text())
    env = {**os.environ, "HOME": str(home), "COLUMNS": "80"}
    env.pop("PROCTOR_WORKSPACE", None)
    r = subprocess.run([*PROCTOR, "scan", "--json"], capture_output=True, text=True, env=env, check=False)
    assert r.returncode == 0, r.stderr
    [f] = json.loads(r.stdout)["findings"]
    assert f["id"] == "upstream.unpinned"
    assert f["path"].endswith(".cursor/mcp.json")


def test_scan_env_inspects_this_process_environment() -> None:
    """`--env` reads the environment `proctor scan` runs in, as an agent's: an inherited
    kubeconfig and a personal access token are found; without `--env` they are not."""
    env = {
        **os.environ,
        "HOME": str(FIX / "posture" / "no-home"),
        "KUBECONFIG": "/etc/kube/admin.conf",
        "GH_TOKEN": "ghp_" + "Zx9" * 12,
    }
    env.pop("PROCTOR_WORKSPACE", None)
    r = subprocess.run(
        [*PROCTOR, "scan", "--env", "--json"], capture_output=True, text=True, env=env, check=False
    )
    assert r.returncode == 0, r.stderr
    found = {(f["id"], f["location"]) for f in json.loads(r.stdout)["findings"]}
    assert ("credential.inherited-service-account", "env:KUBECONFIG") in found
    assert ("credential.personal", "env:GH_TOKEN") in found
    assert "Zx9Zx9" not in r.stdout
    r = subprocess.run([*PROCTOR, "scan", "--json"], capture_output=True, text=True, env=env, check=False)
    assert json.loads(r.stdout)["findings"] == []


def test_agent_retire_and_scan_of_the_registry(ws: Path) -> None:
    """An agent whose owner holds no approver account is reported; `agent retire` ends its task,
    spends its join token, drops its selectors, marks it retired (kept, audited), refuses to be
    undone, and the next scan no longer reports it."""
    _ok(run(ws, "tool", "add", "fs.read", "--effect", "read"))
    _ok(run(ws, "user", "add", "ann@acme.test", "--password-stdin", input_="pv-PLANTED-pass-7c1d\n"))
    _ok(run(ws, "agent", "add", "bot", "--owner", "bob@acme.test", "--selector", "unix:uid:4242"))
    _ok(run(ws, "agent", "add", "helper", "--owner", "ann@acme.test"))
    task = json.loads(
        _ok(
            run(
                ws,
                "task",
                "start",
                "--agent",
                "bot",
                "--purpose",
                "p",
                "--requested-by",
                "ann@acme.test",
                "--allow",
                "fs.read",
                "--json",
            )
        )
    )
    token = _ok(run(ws, "agent", "join-token", "bot")).strip()

    data = json.loads(_ok(run(ws, "scan", "--no-clients", "--json")))
    owners = [f for f in data["findings"] if f["id"] == "agent.owner-not-approver"]
    assert [f["subject"] for f in owners] == ["bot"]
    assert run(ws, "scan", "--no-clients", "--fail-on", "high").returncode == 1

    done = json.loads(_ok(run(ws, "agent", "retire", "bot", "--reason", "owner left", "--json")))
    assert done["tasks_ended"] == 1
    assert done["join_tokens_revoked"] == 1
    assert done["selectors_removed"] == 1
    [bot] = [a for a in json.loads(_ok(run(ws, "agent", "list", "--json"))) if a["name"] == "bot"]
    assert bot["status"] == "retired"
    assert bot["selectors"] == []
    shown = json.loads(_ok(run(ws, "task", "show", task["task"]["id"])))
    assert shown["state"] == "cancelled"
    assert run(ws, "agent", "svid", "--join-token", token).returncode == 2
    assert run(ws, "agent", "resume", "bot").returncode == 2
    assert run(ws, "agent", "join-token", "bot").returncode == 2
    assert run(ws, "agent", "retire", "bot").returncode == 2
    assert run(ws, "agent", "selectors", "bot", "--selector", "unix:uid:4242").returncode == 2
    tail = _ok(run(ws, "audit", "tail", "-n", "50"))
    assert "agent.retired" in tail
    assert "agent.registered" in tail
    data = json.loads(_ok(run(ws, "scan", "--no-clients", "--json")))
    assert not [f for f in data["findings"] if f["subject"] == "bot"]
