"""The kill switch works while the store or the audit log cannot take it: `agent suspend` and
`task end` succeed, every Proctor process enforces them at once from the workspace's kill file, and
they are recorded (store, then an audit record that says it was late) once the store is back."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from proctor.app import Proctor
from proctor.config import tool_from_mapping
from proctor.killswitch import KILL_FILE
from proctor.pipeline import CallInput
from proctor.store.base import AuditQuery
from proctor.types import AgentStatus, TaskState, Verdict
from proctor.workspace import Workspace

BIN = Path(sys.executable).parent


def _setup(tmp_path: Path) -> tuple[Workspace, str, str]:
    ws, _admin = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    return _setup_in(ws)


def _setup_in(ws: Workspace) -> tuple[Workspace, str, str]:
    with Proctor.open(ws) as p:
        p.put_tool(tool_from_mapping({"name": "docs.read", "effect": "read"}))
        p.add_agent("bot", "owner@acme.test")
        started = p.start_task(agent="bot", purpose="read", allow=["docs.*"], requested_by="r@acme.test")
    return ws, str(started.task.id), started.token


def _cli(ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROCTOR_WORKSPACE": str(ws.root), "COLUMNS": "200"}
    return subprocess.run(
        [str(BIN / "proctor"), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_suspend_and_task_end_work_while_the_database_is_locked(tmp_path: Path) -> None:
    """Another process holds SQLite's write lock: `agent suspend` and `task end` still succeed
    (exit 0, saying the record is pending), a Proctor process opened before enforces both, and the
    next process once the lock is gone records them with `recorded_late`."""
    ws, task_id, token = _setup(tmp_path)
    running = Proctor.open(ws)  # a process that was already serving when the store locked up
    try:
        locker = sqlite3.connect(ws.root / "proctor.db", isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            sus = _cli(ws, "agent", "suspend", "bot", "--reason", "incident 7")
            end = _cli(ws, "task", "end", task_id)
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert sus.returncode == 0, sus.stderr + sus.stdout
        assert "unavailable" in sus.stdout
        assert end.returncode == 0, end.stderr + end.stdout
        pending = json.loads((ws.run_dir / KILL_FILE).read_text())
        assert {(k["kind"], k["target"]) for k in pending} == {("agent", "bot"), ("task", task_id)}
        assert oct((ws.run_dir / KILL_FILE).stat().st_mode & 0o777) == "0o600"
        # the store still says active; the process enforces the kill file all the same
        assert running.get_agent("bot").status is AgentStatus.ACTIVE
        d = running.pipeline.decide_call(
            CallInput(tool="docs.read", args={}, agent="bot", task_token=token, source="test")
        )
        assert d.verdict is Verdict.DENY
        assert "agent_suspended" in d.errors
    finally:
        running.close()
    # the next process to open the workspace records both, late and saying so
    with Proctor.open(ws) as p:
        assert p.get_agent("bot").status is AgentStatus.SUSPENDED
        assert p.get_task(task_id).state is TaskState.COMPLETED
        rows = p.store.search_audit(AuditQuery(kind="agent.suspended", limit=5))
        bodies = [json.loads(r.body) for r in rows]
        assert any(b.get("recorded_late") and b.get("reason") == "incident 7" for b in bodies), bodies
        assert p.store.search_audit(AuditQuery(kind="task.ended", limit=5))
        assert p.verify_audit().ok
    assert json.loads((ws.run_dir / KILL_FILE).read_text()) == []


def test_a_kill_is_enforced_by_a_running_process_without_the_store(tmp_path: Path) -> None:
    """The running process reads the kill file on its next decision (no restart, no store change),
    and records it itself once the store takes writes again (its sweeper)."""
    ws, task_id, token = _setup(tmp_path)
    with Proctor.open(ws) as p:
        call = CallInput(tool="docs.read", args={}, agent="bot", task_token=token, source="test")
        assert p.pipeline.decide_call(call).verdict is Verdict.ALLOW
        from proctor.killswitch import KillSwitch, PendingKill

        KillSwitch(ws.run_dir / KILL_FILE).add(
            PendingKill("task", task_id, p.clock.now(), "cli", "", "store_locked", "cancelled")
        )
        d = p.pipeline.decide_call(call)
        assert d.verdict is Verdict.DENY
        assert "task_not_active" in d.errors
        p.sweep()
        assert p.get_task(task_id).state is TaskState.CANCELLED
        assert p.pipeline.decide_call(call).verdict is Verdict.DENY


def test_the_api_kill_switch_answers_202_while_the_store_refuses(tmp_path: Path) -> None:
    """`POST /v1/agents/{name}/suspend` and `/v1/tasks/{id}/end` through the app, with the store
    refusing writes (a real locked SQLite): 202, enforced at once, recorded once the lock is gone."""
    import asyncio

    import httpx

    from proctor.server.api import create_app

    ws, admin = Workspace.init(tmp_path / "ws", config_text="trust_domain: acme.test\n")
    ws, task_id, token = _setup_in(ws)
    p = Proctor.open(ws)
    try:
        app = create_app(p, ws)

        async def post(path: str) -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                return await c.post(path, headers={"Authorization": f"Bearer {admin}"}, json={})

        locker = sqlite3.connect(ws.root / "proctor.db", isolation_level=None, timeout=0)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            sus = asyncio.run(post("/v1/agents/bot/suspend"))
            end = asyncio.run(post(f"/v1/tasks/{task_id}/end"))
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        assert sus.status_code == 202, sus.text
        assert sus.json()["recorded"] is False
        assert end.status_code == 202, end.text
        d = p.pipeline.decide_call(
            CallInput(tool="docs.read", args={}, agent="bot", task_token=token, source="t")
        )
        assert d.verdict is Verdict.DENY
        assert p.record_pending_kills() == 2
        assert p.get_agent("bot").status is AgentStatus.SUSPENDED
    finally:
        p.close()


def test_suspend_works_while_the_policy_files_are_invalid(tmp_path: Path) -> None:
    """A broken policy file (an operator mid-edit, or whoever can write the policy directory) keeps
    the running processes on their last good set, so they keep allowing: `agent suspend` and `task
    end` must still work then, instead of failing to open a Proctor."""
    ws, task_id, token = _setup(tmp_path)
    running = Proctor.open(ws)
    try:
        (ws.policies_dir / "50-broken.cedar").write_text("permit(principal action, resource);\n")
        sus = _cli(ws, "agent", "suspend", "bot", "--reason", "incident 8")
        end = _cli(ws, "task", "end", task_id)
        assert sus.returncode == 0, sus.stderr + sus.stdout
        assert end.returncode == 0, end.stderr + end.stdout
        # a kill loads no policy set: it is recorded at once, not merely pended
        assert not (ws.run_dir / KILL_FILE).exists()
        assert running.get_agent("bot").status is AgentStatus.SUSPENDED
        d = running.pipeline.decide_call(
            CallInput(tool="docs.read", args={}, agent="bot", task_token=token, source="test")
        )
        assert d.verdict is Verdict.DENY
    finally:
        running.close()
    (ws.policies_dir / "50-broken.cedar").unlink()
    with Proctor.open(ws) as p:
        assert p.get_agent("bot").status is AgentStatus.SUSPENDED
        assert p.get_task(task_id).state is TaskState.COMPLETED


def test_a_kill_added_while_another_is_being_recorded_is_not_lost(tmp_path: Path) -> None:
    """The sweeper records a pending suspension while the operator adds another one for the same
    agent (a second incident): removing the recorded entry must not drop the new one with it."""
    from proctor.killswitch import KillSwitch, PendingKill

    ws, _task_id, _token = _setup(tmp_path)
    with Proctor.open(ws) as p:
        ks = KillSwitch(ws.run_dir / KILL_FILE)
        ks.add(PendingKill("agent", "bot", 1.0, "cli", "incident 1", "store_locked"))
        real = p.store.set_agent_status

        def meanwhile(*a: object, **kw: object) -> object:
            ks.add(PendingKill("agent", "bot", 2.0, "cli", "incident 2", "store_locked"))
            return real(*a, **kw)  # type: ignore[arg-type]

        p.store.set_agent_status = meanwhile  # type: ignore[method-assign,assignment]
        assert p.record_pending_kills() == 1
        p.store.set_agent_status = real  # type: ignore[method-assign]
        left = [k.reason for k in ks.pending()]
        assert left == ["incident 2"]
        assert p.record_pending_kills() == 1
        rows = p.store.search_audit(AuditQuery(kind="agent.suspended", limit=5))
        reasons = {json.loads(r.body).get("reason") for r in rows}
        assert {"incident 1", "incident 2"} <= reasons


def test_a_fifo_in_place_of_the_kill_file_blocks_no_decision(tmp_path: Path) -> None:
    """Every decision looks at the kill file: a FIFO in its place is refused unread (logged), and
    the decision goes on, instead of waiting for a writer for ever."""
    import threading

    ws, _task_id, token = _setup(tmp_path)
    with Proctor.open(ws) as p:
        os.mkfifo(ws.run_dir / KILL_FILE)
        call = CallInput(tool="docs.read", args={}, agent="bot", task_token=token, source="test")
        got: list[object] = []
        decider = threading.Thread(target=lambda: got.append(p.pipeline.decide_call(call)), daemon=True)
        decider.start()
        decider.join(30)  # a guard against hanging the suite, not a performance bound
        if decider.is_alive():
            os.close(os.open(ws.run_dir / KILL_FILE, os.O_WRONLY | os.O_NONBLOCK))
            decider.join(30)
            raise AssertionError("the decision blocked on a FIFO kill file")
        assert got


def test_a_kill_file_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    """A full disk (here: a path that cannot hold the file) makes the pended kill fail with an error
    that says nothing was enforced, not with a traceback or a false success."""
    import pytest

    from proctor.errors import StoreUnavailable
    from proctor.killswitch import KillSwitch, PendingKill

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    ks = KillSwitch(blocker / KILL_FILE)
    with pytest.raises(StoreUnavailable, match="NOTHING was enforced"):
        ks.add(PendingKill("agent", "bot", 1.0, "cli", "", "store_full"))
    assert not ks.agent_killed("bot")
