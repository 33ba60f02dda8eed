"""`proctor template add|list|show|remove` (docs/adr/0029): a stored task intent, checked as
`task start` checks its input; a bad one is refused and nothing is stored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from proctor.app import Proctor
from proctor.workspace import Workspace

PROCTOR = [sys.executable, "-c", "from proctor.cli.main import main; main()"]
CONFIG = (
    "trust_domain: acme.test\ntools:\n  - {name: pay.send, effect: pay}\n  - {name: fs.read, effect: read}\n"
)


def run(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROCTOR_WORKSPACE": str(ws), "COLUMNS": "200"}
    return subprocess.run(
        [*PROCTOR, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_template_add_list_show_remove(tmp_path: Path) -> None:
    """A template added with every option reads back from `show` and `list`; `remove` removes it;
    an unknown agent, a bad name or ttl is refused (exit 2) and stores nothing."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test")
        p.agents.add("helper", "owner@acme.test")
    add = ["template", "add", "rent", "--agent", "bot", "--agent", "helper", "--purpose", "pay rent"]
    add += ["--allow", "pay.*", "--resource", "acct-*", "--ttl", "15m", "--max-calls", "3"]
    r = run(ws.root, *add, "--requested-by", "r@acme.test", "--param", "payee=ACME", "--json")
    assert r.returncode == 0, r.stderr
    shown = json.loads(run(ws.root, "template", "show", "rent").stdout)
    assert shown["agents"] == ["bot", "helper"]
    assert (shown["ttl_s"], shown["max_calls"], shown["requested_by"]) == (900.0, 3, "r@acme.test")
    assert (shown["allow"], shown["resources"], shown["params"]) == (["pay.*"], ["acct-*"], {"payee": "ACME"})
    listed = json.loads(run(ws.root, "template", "list", "--json").stdout)
    assert [t["name"] for t in listed] == ["rent"]
    again = run(ws.root, *add)
    assert again.returncode == 2
    assert "conflict" in again.stderr
    for bad in (
        ["template", "add", "x", "--agent", "ghost", "--purpose", "p", "--allow", "fs.read"],
        ["template", "add", "Bad Name", "--agent", "bot", "--purpose", "p", "--allow", "fs.read"],
        ["template", "add", "x", "--agent", "bot", "--purpose", "p", "--allow", "fs.read", "--ttl", "400d"],
    ):
        refused = run(ws.root, *bad)
        assert refused.returncode == 2, bad
    assert len(json.loads(run(ws.root, "template", "list", "--json").stdout)) == 1
    assert run(ws.root, "template", "remove", "rent").returncode == 0
    gone = run(ws.root, "template", "show", "rent")
    assert gone.returncode == 2
    assert "unknown_template" in gone.stderr


def test_agent_selectors_replaces_shows_and_clears(tmp_path: Path) -> None:
    """`agent selectors A --selector ...` replaces them (audited); without options it shows them;
    `--clear` removes them; a malformed selector is refused and changes nothing."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test", ["unix:uid:1"])
    r = run(ws.root, "agent", "selectors", "bot", "--selector", "unix:uid:4242", "--selector", "unix:gid:7")
    assert r.returncode == 0, r.stderr
    assert "unix:uid:4242 unix:gid:7" in r.stdout
    assert run(ws.root, "agent", "selectors", "bot", "--selector", "uid:1").returncode == 2
    assert "unix:uid:4242 unix:gid:7" in run(ws.root, "agent", "selectors", "bot").stdout
    assert run(ws.root, "agent", "selectors", "bot", "--clear").returncode == 0
    with Proctor.open(ws) as p:
        assert p.agents.get("bot").selectors == ()
        p.audit.flush()
        from proctor.store.base import AuditQuery

        changed = [
            json.loads(x.body) for x in p.store.search_audit(AuditQuery(kind="agent.selectors_changed"))
        ]
    assert [c["selectors"] for c in changed] == [["unix:uid:4242", "unix:gid:7"], []]
    assert changed[0]["before"] == ["unix:uid:1"]
