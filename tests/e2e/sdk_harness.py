"""What the SDK's tests share: a workspace with an agent, its owner (an approver account), a task
and three tools guarded by ``proctor.sdk`` — a read (allowed), a payment (held for the owner) and
a command (outside the task: denied) — and a person who decides held calls from another thread."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from proctor.app import Proctor
from proctor.store.base import AuditQuery
from proctor.testing import Sandbox

__all__ = [
    "OWNER",
    "PASSWORD",
    "World",
    "audit_records",
    "decide_held",
    "make_world",
]

OWNER = "owner@acme.test"
PASSWORD = "correct horse battery staple"


@dataclass
class World:
    sandbox: Sandbox
    p: Proctor
    task_id: str
    task_token: str
    #: another agent's task token (adversarial tests)
    other_token: str
    calls: list[tuple[str, dict[str, Any]]]


def make_world(sandbox: Sandbox) -> World:
    p = sandbox.proctor
    p.agents.add("bot", OWNER)
    p.agents.add("eve", OWNER)
    p.accounts.add(OWNER, name="Owner", groups=[], password=PASSWORD, by="test")
    task = p.tasks.start(
        agent="bot",
        purpose="read notes and pay a supplier",
        allow=["fs.*", "pay.*"],
        requested_by="req@acme.test",
    )
    other = p.tasks.start(agent="eve", purpose="other", allow=["fs.*"], requested_by="req@acme.test")
    return World(sandbox, p, str(task.task.id), task.token, other.token, [])


def audit_records(p: Proctor, **query: Any) -> list[dict[str, Any]]:
    """The audit records matching ``query`` (AuditQuery's fields), oldest first, as dicts."""
    p.audit.flush()
    rows = p.store.search_audit(AuditQuery(limit=1000, **query))
    return [{**json.loads(bytes(r.body)), "_seq": r.seq} for r in rows]


@contextmanager
def decide_held(
    p: Proctor, verdict: str = "approve", *, timeout_s: float = 20.0
) -> Iterator[Callable[[], str | None]]:
    """A person on another thread: waits for the first pending request, then approves or denies
    it through the approvals service. Yields a function returning the request's id once decided."""
    decided: list[str] = []
    stop = threading.Event()

    def person() -> None:
        deadline = time.monotonic() + timeout_s
        while not stop.is_set() and time.monotonic() < deadline:
            pending = p.approvals.list(states=("pending",))
            if pending:
                who = p.accounts.authenticate(OWNER, PASSWORD, source="test")
                aid = str(pending[0].id)
                if verdict == "approve":
                    p.approvals.approve(aid, who, "looks right")
                else:
                    p.approvals.deny(aid, who, "not this supplier")
                decided.append(aid)
                return
            time.sleep(0.05)

    th = threading.Thread(target=person, daemon=True)
    th.start()
    try:
        yield lambda: decided[0] if decided else None
    finally:
        stop.set()
        th.join(timeout=10)
