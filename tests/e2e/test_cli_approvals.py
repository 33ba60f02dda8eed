"""`proctor approvals` as an operator and an approver run it: the queue and one request (with its
arguments) for the operator; approve and deny only with an approver account's password, and the
held call then runs once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from proctor.app import Proctor
from proctor.pipeline import CallInput
from proctor.types import Verdict
from proctor.workspace import Workspace

PROCTOR = [sys.executable, "-c", "from proctor.cli.main import main; main()"]
PW = "cli-approver-passphrase-7"
CONFIG = """\
trust_domain: acme.test
tools:
  - {name: pay.send, effect: pay, flags: [financial]}
"""


def run(ws: Path, *args: str, input_: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROCTOR_WORKSPACE": str(ws), "COLUMNS": "200"}
    return subprocess.run(
        [*PROCTOR, *args], capture_output=True, text=True, env=env, timeout=120, input=input_, check=False
    )


def test_list_show_approve_deny(tmp_path: Path) -> None:
    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    with Proctor.open(ws) as p:
        p.agents.add("bot", "owner@acme.test")
        task = p.tasks.start(agent="bot", purpose="pay rent", allow=["pay.*"], requested_by="req@acme.test")

        def pay(amount: int) -> CallInput:
            return CallInput(
                tool="pay.send",
                args={"iban": "DE02120300000000202051", "amount": amount},
                agent="bot",
                task_token=task.token,
            )

        a = p.decide(pay(900)).approval_id
        b = p.decide(pay(901)).approval_id
    assert a
    assert b
    assert (
        run(ws.root, "user", "add", "owner@acme.test", "--password-stdin", input_=f"{PW}\n").returncode == 0
    )
    listed = run(ws.root, "approvals", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {r["id"] for r in json.loads(listed.stdout)} == {a, b}
    shown = run(ws.root, "approvals", "show", a)
    assert "DE02120300000000202051" in shown.stdout
    assert "pay rent" in shown.stdout
    wrong = run(
        ws.root,
        "approvals",
        "approve",
        a,
        "--as",
        "owner@acme.test",
        "--reason",
        "rent",
        "--password-stdin",
        input_="nope\n",
    )
    assert wrong.returncode != 0
    assert "auth_failed" in wrong.stderr + wrong.stdout
    ok = run(
        ws.root,
        "approvals",
        "approve",
        a,
        "--as",
        "owner@acme.test",
        "--reason",
        "rent",
        "--password-stdin",
        input_=f"{PW}\n",
    )
    assert ok.returncode == 0, ok.stderr
    assert "the identical call, once" in ok.stdout
    no = run(
        ws.root,
        "approvals",
        "deny",
        b,
        "--as",
        "owner@acme.test",
        "--reason",
        "duplicate",
        "--password-stdin",
        input_=f"{PW}\n",
    )
    assert no.returncode == 0, no.stderr
    with Proctor.open(ws) as p:
        assert p.decide(pay(900)).verdict is Verdict.ALLOW
        assert p.decide(pay(900)).verdict is Verdict.APPROVAL_REQUIRED
        assert p.approvals.get(b).state.value == "denied"


def test_show_prints_the_delegation_chain(tmp_path: Path) -> None:
    """`approvals show` of a call held in a delegated task prints the chain of accountability, root
    requester first, as the API and the approval page do (docs/adr/0032); fails without it."""
    ws, _ = Workspace.init(tmp_path / "ws", config_text=CONFIG)
    with Proctor.open(ws) as p:
        p.agents.add("planner", "owner@acme.test")
        p.agents.add("bot", "owner@acme.test")
        root = p.tasks.start(
            agent="planner", purpose="pay the suppliers", allow=["pay.*"], requested_by="req@acme.test"
        )
        child = p.tasks.delegate(str(root.task.id), agent="bot", allow=["pay.send"])
        held = p.decide(
            CallInput(
                tool="pay.send",
                args={"iban": "DE02120300000000202051", "amount": 900},
                agent="bot",
                task_token=child.token,
            )
        ).approval_id
    assert held
    shown = run(ws.root, "approvals", "show", held)
    assert shown.returncode == 0, shown.stderr
    (line,) = [x for x in shown.stdout.splitlines() if x.startswith("chain")]
    assert line.split(None, 1)[1] == f"req@acme.test → planner ({root.task.id}) → bot ({child.task.id})"
