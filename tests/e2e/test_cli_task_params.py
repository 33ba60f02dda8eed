"""`proctor task start --param NAME=VALUE` (repeatable): the task's explicit intent, shown by
`task show`; a malformed parameter is refused before any task starts (issue 15)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from proctor.app import Proctor
from proctor.workspace import Workspace

PROCTOR = [sys.executable, "-c", "from proctor.cli.main import main; main()"]
CONFIG = "trust_domain: acme.test\ntools:\n  - {name: pay.send, effect: pay}\n"


def run(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROCTOR_WORKSPACE": str(ws), "COLUMNS": "200"}
    return subprocess.run(
        [*PROCTOR, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_task_start_with_params(tmp_path: Path) -> None:
    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test")
    start = ["task", "start", "--agent", "bot", "--purpose", "pay rent", "--allow", "pay.*"]
    start += ["--requested-by", "r@acme.test"]
    r = run(ws.root, *start, "--param", "iban=DE89 3704 0044 0532 0130 00", "--param", "payee=ACME", "--json")
    assert r.returncode == 0, r.stderr
    task = json.loads(r.stdout)["task"]
    assert task["params"] == {"iban": "DE89 3704 0044 0532 0130 00", "payee": "ACME"}
    shown = run(ws.root, "task", "show", task["id"])
    assert json.loads(shown.stdout)["params"] == {"iban": "DE89 3704 0044 0532 0130 00", "payee": "ACME"}
    for bad in ("iban", "9x=1", "a=", "two words=1"):
        refused = run(ws.root, *start, "--param", bad)
        assert refused.returncode != 0, bad
        assert "param" in (refused.stderr + refused.stdout).lower(), bad
    with Proctor.open(ws) as p:
        assert len(p.tasks.list()) == 1
