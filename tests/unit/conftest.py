"""Fixtures for tests that need a whole workspace: a real SQLite store, keys and starter policies."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from proctor.app import Proctor, StartedTask
from proctor.clock import FrozenClock
from proctor.store.base import AgentRecord
from proctor.testing import temporary_workspace
from proctor.workspace import Workspace

CONFIG = """\
trust_domain: acme.test
store: sqlite:///proctor.db
audit: {checkpoint_every: 5}
tools:
  - {name: fs.read, effect: read, resource_arg: path, resource: "/data/*"}
  - {name: fs.write, effect: write, resource_arg: path, resource: "/data/*"}
  - {name: payments.transfer, effect: pay, resource_arg: account, flags: [financial]}
  - {name: prod.deploy, effect: deploy}
  - {name: db.drop, effect: write, flags: [destructive, production]}
"""


@dataclass
class Env:
    ws: Workspace
    p: Proctor
    clock: FrozenClock
    agent: AgentRecord
    svid: str
    task: StartedTask


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    """A workspace with one agent holding an SVID and one active task (fs.*, payments.*; /data/*)."""
    with temporary_workspace(tmp_path / "ws", config_text=CONFIG) as sandbox:
        p = sandbox.proctor
        agent = p.add_agent("bot", "owner@acme.test")
        svid = p.issue_svid(agent)
        task = p.start_task(
            agent="bot",
            purpose="read data and pay",
            allow=["fs.*", "payments.*", "db.*"],
            resources=["/data/*", "acct-*"],
            requested_by="req@acme.test",
            ttl_s=600,
        )
        yield Env(sandbox.workspace, p, sandbox.clock, agent, svid, task)
